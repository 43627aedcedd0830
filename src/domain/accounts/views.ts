import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { accounts, users } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import type { AccountRecord, RoleRecord, UserRecord } from './records.ts';
import { highlightedRole, type ResolvedRole, userRole } from './roles.ts';

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
  /** Counters: statuses and follows arrive with issue 4, which makes these real. */
  counts: { followers: number; following: number; statuses: number; lastStatusAt: Date | null };
}

export interface CredentialView extends AccountView {
  user: UserRecord;
  role: ResolvedRole;
  followRequestsCount: number;
}

const NO_COUNTS = { followers: 0, following: 0, statuses: 0, lastStatusAt: null };

type Db = Pick<Context, 'database'>;

export async function accountView(
  ctx: Db,
  account: AccountRecord,
  user: UserRecord | null,
): Promise<AccountView> {
  return {
    account,
    user,
    badge: user ? await highlightedRole(ctx, user.roleId) : undefined,
    counts: { ...NO_COUNTS },
  };
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
    followRequestsCount: 0,
  };
}

/** Visible to the API: remote, or local with a confirmed and approved user. */
function visible(account: AccountRecord, user: UserRecord | null): boolean {
  if (account.domain !== null) return true;
  return user !== null && user.confirmedAt !== null && user.approved;
}

/** Account ids are 64-bit integers; anything else names no account (404, not 400). */
export function isAccountId(id: string): boolean {
  return /^\d{1,19}$/.test(id) && BigInt(id) <= 9223372036854775807n;
}

export async function getAccount(ctx: Db, id: string): Promise<AccountView | undefined> {
  if (!isAccountId(id)) return undefined;
  const [row] = await ctx.database.db
    .select({ account: accounts, user: users })
    .from(accounts)
    .leftJoin(users, eq(users.accountId, accounts.id))
    .where(eq(accounts.id, id))
    .limit(1);
  if (row === undefined || !visible(row.account, row.user)) return undefined;
  return accountView(ctx, row.account, row.user);
}

/** Several accounts by id, in the order asked, without the unknown and invisible ones. */
export async function getAccounts(ctx: Db, ids: readonly string[]): Promise<AccountView[]> {
  const wanted = [...new Set(ids)].filter(isAccountId);
  if (wanted.length === 0) return [];
  const rows = await ctx.database.db
    .select({ account: accounts, user: users })
    .from(accounts)
    .leftJoin(users, eq(users.accountId, accounts.id))
    .where(inArray(accounts.id, wanted));
  const byId = new Map(rows.filter((r) => visible(r.account, r.user)).map((r) => [r.account.id, r]));
  const views: AccountView[] = [];
  for (const id of wanted) {
    const row = byId.get(id);
    if (row) views.push(await accountView(ctx, row.account, row.user));
  }
  return views;
}

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
  if (row === undefined || !visible(row.account, row.user)) return undefined;
  return accountView(ctx, row.account, row.user);
}
