import {
  and,
  asc,
  desc,
  eq,
  gt,
  ilike,
  inArray,
  isNull,
  lt,
  notInArray,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import {
  accountPins,
  accountStats,
  accounts,
  blocks,
  followRequests,
  follows,
  mutes,
  users,
} from '../../db/schema/index.ts';
import type { AccountRecord, UserRecord } from '../accounts/records.ts';
import { type AccountView, accountViews, visibleAccountCondition } from '../accounts/views.ts';
import type { Context } from '../context.ts';
import { activeMute, blockedAccountIds, isBlocking, mutedAccountIds } from './queries.ts';

/**
 * The social graph's account lists. Mastodon pages most of them by the hidden id of the edge row
 * (the follow, the block, the mute), not by the account's id: `cursor` is that id, and the API's
 * Link headers carry it.
 */

/** A page as the API parsed it (max_id / since_id / min_id exclusive, newest first). */
export interface PageQuery {
  maxId?: string;
  sinceId?: string;
  minId?: string;
  limit: number;
}

export interface ListedAccount {
  /** The id the list is paged by. */
  cursor: string;
  view: AccountView;
}

export interface ListedMute extends ListedAccount {
  expiresAt: Date | null;
}

type Ctx = Pick<Context, 'database'>;

interface Row {
  cursor: string;
  account: AccountRecord;
  user: UserRecord | null;
}

/**
 * One page of the accounts at one end of an edge table (`accountColumn`), paged by `cursorColumn`,
 * with min_id's "page just after the cursor" (ascending, then reversed). Accounts that are
 * suspended or not yet visible to the API are left out.
 */
async function pageOfAccounts(
  ctx: Ctx,
  page: PageQuery,
  edge: { table: PgTable; accountColumn: PgColumn; cursorColumn: PgColumn },
  where: SQL | undefined,
): Promise<Row[]> {
  const { cursorColumn } = edge;
  const conditions: (SQL | undefined)[] = [where, visibleAccountCondition(), isNull(accounts.suspendedAt)];
  if (page.maxId !== undefined) conditions.push(lt(cursorColumn, page.maxId));
  if (page.minId !== undefined) conditions.push(gt(cursorColumn, page.minId));
  else if (page.sinceId !== undefined) conditions.push(gt(cursorColumn, page.sinceId));
  const ascending = page.minId !== undefined;
  const rows: Row[] = await ctx.database.db
    .select({ cursor: sql<string>`${cursorColumn}::text`, account: accounts, user: users })
    .from(edge.table)
    .innerJoin(accounts, eq(accounts.id, edge.accountColumn))
    .leftJoin(users, eq(users.accountId, accounts.id))
    .where(and(...conditions))
    .orderBy(ascending ? asc(cursorColumn) : desc(cursorColumn))
    .limit(page.limit);
  return ascending ? rows.reverse() : rows;
}

async function withViews(ctx: Ctx, rows: Row[]): Promise<ListedAccount[]> {
  const views = await accountViews(ctx, rows);
  return rows.map((row, i) => ({ cursor: row.cursor, view: views[i]! }));
}

/**
 * Whether `account`'s followers / following are hidden from `viewerId` (Mastodon's hide_results?):
 * a suspended account, collections hidden by their owner (except from the owner), or an owner who
 * blocks the viewer.
 */
async function collectionsHidden(
  ctx: Ctx,
  account: AccountRecord,
  viewerId: string | null,
): Promise<boolean> {
  if (account.suspendedAt !== null) return true;
  if (account.hideCollections === true && viewerId !== account.id) return true;
  return viewerId !== null && (await isBlocking(ctx, account.id, viewerId));
}

/** Accounts a viewer never wants listed: blocked either way or muted (not applied to one's own lists). */
async function excludedFor(ctx: Ctx, viewerId: string | null, ownerId: string): Promise<string[]> {
  if (viewerId === null || viewerId === ownerId) return [];
  const [{ blocking, blockedBy }, muted] = await Promise.all([
    blockedAccountIds(ctx, viewerId),
    mutedAccountIds(ctx, viewerId),
  ]);
  return [...new Set([...blocking, ...blockedBy, ...muted])];
}

function notIn(column: PgColumn, ids: string[]): SQL | undefined {
  return ids.length === 0 ? undefined : notInArray(column, ids);
}

/** `GET /api/v1/accounts/:id/followers`, paged by the follow's id. */
export async function listFollowers(
  ctx: Ctx,
  account: AccountRecord,
  viewerId: string | null,
  page: PageQuery,
): Promise<ListedAccount[]> {
  if (await collectionsHidden(ctx, account, viewerId)) return [];
  const excluded = await excludedFor(ctx, viewerId, account.id);
  const rows = await pageOfAccounts(
    ctx,
    page,
    { table: follows, accountColumn: follows.accountId, cursorColumn: follows.id },
    and(eq(follows.targetAccountId, account.id), notIn(follows.accountId, excluded)),
  );
  return withViews(ctx, rows);
}

/** `GET /api/v1/accounts/:id/following`, paged by the follow's id. */
export async function listFollowing(
  ctx: Ctx,
  account: AccountRecord,
  viewerId: string | null,
  page: PageQuery,
): Promise<ListedAccount[]> {
  if (await collectionsHidden(ctx, account, viewerId)) return [];
  const excluded = await excludedFor(ctx, viewerId, account.id);
  const rows = await pageOfAccounts(
    ctx,
    page,
    { table: follows, accountColumn: follows.targetAccountId, cursorColumn: follows.id },
    and(eq(follows.accountId, account.id), notIn(follows.targetAccountId, excluded)),
  );
  return withViews(ctx, rows);
}

/** `GET /api/v1/follow_requests`: pending requests to `accountId`, paged by the request's id. */
export async function listFollowRequests(
  ctx: Ctx,
  accountId: string,
  page: PageQuery,
): Promise<ListedAccount[]> {
  const rows = await pageOfAccounts(
    ctx,
    page,
    { table: followRequests, accountColumn: followRequests.accountId, cursorColumn: followRequests.id },
    eq(followRequests.targetAccountId, accountId),
  );
  return withViews(ctx, rows);
}

/** `GET /api/v1/blocks`, paged by the block's id. */
export async function listBlocks(ctx: Ctx, accountId: string, page: PageQuery): Promise<ListedAccount[]> {
  const rows = await pageOfAccounts(
    ctx,
    page,
    { table: blocks, accountColumn: blocks.targetAccountId, cursorColumn: blocks.id },
    eq(blocks.accountId, accountId),
  );
  return withViews(ctx, rows);
}

/** `GET /api/v1/mutes`: mutes in force (expired ones are gone for every purpose), paged by the mute's id. */
export async function listMutes(ctx: Ctx, accountId: string, page: PageQuery): Promise<ListedMute[]> {
  const rows = await pageOfAccounts(
    ctx,
    page,
    { table: mutes, accountColumn: mutes.targetAccountId, cursorColumn: mutes.id },
    and(eq(mutes.accountId, accountId), activeMute()),
  );
  const listed = await withViews(ctx, rows);
  if (listed.length === 0) return [];
  const expiries = await ctx.database.db
    .select({ targetId: mutes.targetAccountId, expiresAt: mutes.expiresAt })
    .from(mutes)
    .where(
      and(
        eq(mutes.accountId, accountId),
        inArray(
          mutes.targetAccountId,
          listed.map((l) => l.view.account.id),
        ),
      ),
    );
  const byTarget = new Map(expiries.map((e) => [e.targetId, e.expiresAt]));
  return listed.map((l) => ({ ...l, expiresAt: byTarget.get(l.view.account.id) ?? null }));
}

/**
 * Accounts `accountId` endorses (`GET /api/v1/endorsements`, `GET /api/v1/accounts/:id/endorsements`).
 * Mastodon pages this list by the endorsed account's id; `limit: null` returns them all (limit=0).
 */
export async function listEndorsements(
  ctx: Ctx,
  accountId: string,
  page: PageQuery | null,
): Promise<ListedAccount[]> {
  const effective = page ?? { limit: 10_000 };
  const rows = await pageOfAccounts(
    ctx,
    effective,
    { table: accountPins, accountColumn: accountPins.targetAccountId, cursorColumn: accounts.id },
    eq(accountPins.accountId, accountId),
  );
  return withViews(ctx, rows);
}

/**
 * Familiar followers (`GET /api/v1/accounts/familiar_followers`): for each account, the accounts
 * the viewer follows that follow it too, leaving out those who hide their collections and
 * everything about an account that hides its own. Unknown and suspended ids are left out.
 */
export async function familiarFollowers(
  ctx: Ctx,
  viewerId: string,
  targets: readonly AccountRecord[],
): Promise<{ id: string; accounts: AccountView[] }[]> {
  const open = targets.filter((t) => t.hideCollections !== true).map((t) => t.id);
  const grouped = new Map<string, Row[]>();
  if (open.length > 0) {
    const viewerFollows = ctx.database.db
      .select({ id: follows.targetAccountId })
      .from(follows)
      .where(eq(follows.accountId, viewerId));
    const rows = await ctx.database.db
      .select({
        targetId: follows.targetAccountId,
        cursor: sql<string>`${follows.id}::text`,
        account: accounts,
        user: users,
      })
      .from(follows)
      .innerJoin(accounts, eq(accounts.id, follows.accountId))
      .leftJoin(users, eq(users.accountId, accounts.id))
      .where(
        and(
          inArray(follows.targetAccountId, open),
          inArray(follows.accountId, viewerFollows),
          or(isNull(accounts.hideCollections), eq(accounts.hideCollections, false)),
          isNull(accounts.suspendedAt),
          visibleAccountCondition(),
        ),
      )
      .orderBy(desc(follows.id));
    for (const row of rows) {
      const list = grouped.get(row.targetId) ?? [];
      list.push(row);
      grouped.set(row.targetId, list);
    }
  }
  const result: { id: string; accounts: AccountView[] }[] = [];
  for (const target of targets) {
    result.push({ id: target.id, accounts: await accountViews(ctx, grouped.get(target.id) ?? []) });
  }
  return result;
}

export interface AccountSearch {
  query: string;
  limit: number;
  offset: number;
  /** Only accounts the viewer follows. */
  following: boolean;
}

/**
 * Local account search (`GET /api/v1/accounts/search`): usernames and display names starting with
 * the query, without regard to case. An exact username comes first, then accounts the viewer
 * follows, then the most followed. `@user@this.domain` searches `user`; another domain finds
 * nothing until federation can resolve it. Accounts blocked either way are left out.
 */
export async function searchAccounts(
  ctx: Pick<Context, 'database' | 'config'>,
  viewerId: string,
  search: AccountSearch,
): Promise<AccountView[]> {
  let term = search.query.trim().replace(/^@/, '');
  const at = term.indexOf('@');
  if (at !== -1) {
    const domain = term.slice(at + 1).toLowerCase();
    const local = [ctx.config.localDomain.toLowerCase(), ctx.config.webDomain.toLowerCase()];
    if (domain !== '' && !local.includes(domain)) return [];
    term = term.slice(0, at);
  }
  if (term === '') return [];
  const escaped = term.replace(/[\\%_]/g, (c) => `\\${c}`);
  const lowered = term.toLowerCase();
  const { blocking, blockedBy } = await blockedAccountIds(ctx, viewerId);
  const hidden = [...new Set([...blocking, ...blockedBy])];
  const followed = sql`exists (select 1 from follows f where f.account_id = ${viewerId} and f.target_account_id = ${accounts.id})`;
  const rows = await ctx.database.db
    .select({ account: accounts, user: users })
    .from(accounts)
    .leftJoin(users, eq(users.accountId, accounts.id))
    .leftJoin(accountStats, eq(accountStats.accountId, accounts.id))
    .where(
      and(
        isNull(accounts.domain),
        isNull(accounts.suspendedAt),
        visibleAccountCondition(),
        or(
          ilike(accounts.username, `${escaped}%`),
          ilike(accounts.displayName, `${escaped}%`),
          // A later word of the display name ("Ada Lovelace" for "love").
          ilike(accounts.displayName, `% ${escaped}%`),
        ),
        search.following ? followed : undefined,
        hidden.length === 0 ? undefined : notInArray(accounts.id, hidden),
      ),
    )
    .orderBy(
      desc(sql`lower(${accounts.username}) = ${lowered}`),
      desc(followed),
      desc(sql`coalesce(${accountStats.followersCount}, 0)`),
      asc(accounts.username),
    )
    .limit(search.limit)
    .offset(search.offset);
  return accountViews(ctx, rows);
}
