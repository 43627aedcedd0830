import { and, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import { perDatabase } from '../../db/database.ts';
import { accountStats, accounts, followRequests, users } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import type { AccountRecord, RoleRecord, UserRecord } from './records.ts';
import { allRoles, highlightedIn, highlightedRole, type ResolvedRole, userRole } from './roles.ts';

/**
 * Accounts as the API shows them: the account, its user for local ones (preferences, role), and the
 * highlighted role badge. Which accounts a viewer may see is decided here, once: a local account
 * whose user is unconfirmed or awaiting approval does not exist for the API yet (404, as Mastodon's
 * check_account_confirmation / check_account_approval).
 */
export interface AccountView {
  account: AccountRecord;
  /** Null for remote accounts. */
  user: UserRecord | null;
  /** The local user's highlighted role, shown on the profile. */
  badge: RoleRecord | undefined;
  /** Counters from `account_stats` (statuses kept by posting, follows by the social graph). */
  counts: AccountCounts;
}

export interface CredentialView extends AccountView {
  user: UserRecord;
  role: ResolvedRole;
  followRequestsCount: number;
}

export interface AccountCounts {
  followers: number;
  following: number;
  statuses: number;
  lastStatusAt: Date | null;
}

const NO_COUNTS: AccountCounts = { followers: 0, following: 0, statuses: 0, lastStatusAt: null };

type Db = Pick<Context, 'database'>;

/** The counters of several accounts in one query; accounts without a stats row count zero. */
export async function accountCounts(ctx: Db, ids: readonly string[]): Promise<Map<string, AccountCounts>> {
  const result = new Map<string, AccountCounts>();
  if (ids.length === 0) return result;
  const rows = await ctx.database.db
    .select()
    .from(accountStats)
    .where(inArray(accountStats.accountId, [...new Set(ids)]));
  for (const row of rows) result.set(row.accountId, countsOf(row));
  return result;
}

export type AccountStatsRecord = typeof accountStats.$inferSelect;

function countsOf(row: AccountStatsRecord | null): AccountCounts {
  if (row === null) return { ...NO_COUNTS };
  return {
    // A counter is never shown negative, even if a race let it slip (Mastodon clamps too).
    followers: Math.max(0, row.followersCount),
    following: Math.max(0, row.followingCount),
    statuses: Math.max(0, row.statusesCount),
    lastStatusAt: row.lastStatusAt,
  };
}

export async function accountView(
  ctx: Db,
  account: AccountRecord,
  user: UserRecord | null,
  counts?: AccountCounts,
): Promise<AccountView> {
  return {
    account,
    user,
    badge: user ? await highlightedRole(ctx, user.roleId) : undefined,
    counts: counts ?? (await accountCounts(ctx, [account.id])).get(account.id) ?? { ...NO_COUNTS },
  };
}

/** Views of several loaded accounts, in the order given, with their counters fetched at once. */
export async function accountViews(
  ctx: Db,
  rows: readonly { account: AccountRecord; user: UserRecord | null }[],
): Promise<AccountView[]> {
  const [counts, roles] = await Promise.all([
    accountCounts(
      ctx,
      rows.map((r) => r.account.id),
    ),
    allRoles(ctx),
  ]);
  return rows.map((row) => ({
    account: row.account,
    user: row.user,
    badge: row.user ? highlightedIn(roles, row.user.roleId) : undefined,
    counts: counts.get(row.account.id) ?? { ...NO_COUNTS },
  }));
}

export async function credentialView(
  ctx: Db,
  account: AccountRecord,
  user: UserRecord,
): Promise<CredentialView> {
  return {
    ...(await accountView(ctx, account, user)),
    user,
    role: await userRole(ctx, user.roleId),
    followRequestsCount: await pendingFollowRequestsCount(ctx, account.id),
  };
}

/** Pending follow requests to an account from unsuspended accounts, counted up to 40 as Mastodon. */
async function pendingFollowRequestsCount(ctx: Db, accountId: string): Promise<number> {
  const rows = await ctx.database.db
    .select({ id: followRequests.id })
    .from(followRequests)
    .innerJoin(accounts, eq(accounts.id, followRequests.accountId))
    .where(and(eq(followRequests.targetAccountId, accountId), isNull(accounts.suspendedAt)))
    .limit(40);
  return rows.length;
}

/** Visible to the API: remote, or local with a confirmed and approved user. */
export function visibleToApi(account: AccountRecord, user: UserRecord | null): boolean {
  if (account.domain !== null) return true;
  return user !== null && user.confirmedAt !== null && user.approved;
}

/**
 * The same rule in SQL, for lists that join `accounts` with `users` (left join): remote, or local
 * with a confirmed and approved user.
 */
export function visibleAccountCondition(): SQL {
  return sql`(${accounts.domain} is not null or (${users.confirmedAt} is not null and ${users.approved}))`;
}

/** Account ids are 64-bit integers; anything else names no account (404, not 400). */
export function isAccountId(id: string): boolean {
  return /^\d{1,19}$/.test(id) && BigInt(id) <= 9223372036854775807n;
}

export async function getAccount(ctx: Db, id: string): Promise<AccountView | undefined> {
  if (!isAccountId(id)) return undefined;
  const [view] = await getAccounts(ctx, [id]);
  return view;
}

/** Several accounts by id, in the order asked, without the unknown and invisible ones. */
export async function getAccounts(ctx: Db, ids: readonly string[]): Promise<AccountView[]> {
  const wanted = [...new Set(ids)].filter(isAccountId);
  if (wanted.length === 0) return [];
  // Every status and notification page asks for its accounts: one prepared query with the counters.
  const { views } = await loadAccounts(ctx, wanted);
  return wanted.flatMap((id) => {
    const view = views.get(id);
    return view ? [view] : [];
  });
}

/**
 * Accounts by id in one statement: the records of all that exist (mentions show any account), and
 * the views of those the API shows (see getAccounts).
 */
export async function loadAccounts(
  ctx: Db,
  ids: readonly string[],
): Promise<{ records: Map<string, AccountRecord>; views: Map<string, AccountView> }> {
  const records = new Map<string, AccountRecord>();
  const views = new Map<string, AccountView>();
  const wanted = [...new Set(ids)].filter(isAccountId);
  if (wanted.length === 0) return { records, views };
  const [rows, roles] = await Promise.all([
    accountsByIds(ctx.database.db).execute({ ids: wanted }),
    allRoles(ctx),
  ]);
  for (const row of rows) {
    records.set(row.account.id, row.account);
    const view = accountViewOf(row, roles);
    if (view) views.set(row.account.id, view);
  }
  return { records, views };
}

/** An account read with its user and counters (a left join), as the API shows it; undefined if it does not. */
export function accountViewOf(
  row: { account: AccountRecord; user: UserRecord | null; stats: AccountStatsRecord | null },
  roles: Map<string, RoleRecord>,
): AccountView | undefined {
  if (!visibleToApi(row.account, row.user)) return undefined;
  return {
    account: row.account,
    user: row.user,
    badge: row.user ? highlightedIn(roles, row.user.roleId) : undefined,
    counts: countsOf(row.stats),
  };
}

const accountsByIds = perDatabase((db) =>
  db
    .select({ account: accounts, user: users, stats: accountStats })
    .from(accounts)
    .leftJoin(users, eq(users.accountId, accounts.id))
    .leftJoin(accountStats, eq(accountStats.accountId, accounts.id))
    .where(sql`${accounts.id} = any(${sql.placeholder('ids')}::bigint[])`)
    .prepare('accounts_by_ids'),
);

/**
 * `acct` as clients send it: `user`, `@user`, `user@domain`. This server's own domain (LOCAL_DOMAIN
 * or WEB_DOMAIN) means a local account; remote accounts are not known until federation arrives, so
 * they are not found.
 */
export async function lookupAccount(ctx: Context, acct: string): Promise<AccountView | undefined> {
  const value = acct.trim().replace(/^@/, '');
  const at = value.indexOf('@');
  const username = at === -1 ? value : value.slice(0, at);
  const domain = at === -1 ? null : value.slice(at + 1).toLowerCase();
  if (username === '' || username.length > 100) return undefined;
  if (
    domain !== null &&
    domain !== ctx.config.localDomain.toLowerCase() &&
    domain !== ctx.config.webDomain.toLowerCase()
  )
    return undefined;
  const [row] = await ctx.database.db
    .select({ account: accounts, user: users })
    .from(accounts)
    .leftJoin(users, eq(users.accountId, accounts.id))
    .where(and(sql`lower(${accounts.username}) = ${username.toLowerCase()}`, isNull(accounts.domain)))
    .limit(1);
  if (row === undefined || !visibleToApi(row.account, row.user)) return undefined;
  return accountView(ctx, row.account, row.user);
}

/** A user and its account's username (what the mails that go to a user address them by). */
export async function userWithUsername(
  ctx: Pick<Context, 'database'>,
  userId: string,
): Promise<{ user: UserRecord; username: string } | undefined> {
  const [row] = await ctx.database.db
    .select({ user: users, username: accounts.username })
    .from(users)
    .innerJoin(accounts, eq(accounts.id, users.accountId))
    .where(eq(users.id, userId))
    .limit(1);
  return row;
}
