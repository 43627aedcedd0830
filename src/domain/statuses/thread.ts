import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Page } from '../../db/page.ts';
import { paginate } from '../../db/page.ts';
import { accounts, favourites, statuses } from '../../db/schema/index.ts';
import type { AccountRecord } from '../accounts/records.ts';
import type { Context } from '../context.ts';
import { notMutedCondition, visibleStatusCondition } from '../visibility/visibility.ts';
import { visibleStatus } from './views.ts';

/** Mastodon's context limits: anonymous viewers get a shallower, shorter thread. */
export const ANONYMOUS_ANCESTORS = 40;
export const ANONYMOUS_DESCENDANTS = 60;
export const ANONYMOUS_DEPTH = 20;
export const SIGNED_IN_LIMIT = 4096;

/** Statuses of `ids` the viewer sees in lists: visible, and not by an account they mute. */
async function shown(ctx: Context, viewer: string | null, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await ctx.database.db
    .select({ id: statuses.id })
    .from(statuses)
    .where(and(inArray(statuses.id, [...ids]), visibleStatusCondition(viewer), notMutedCondition(viewer)));
  return new Set(rows.map((r) => r.id));
}

/**
 * The thread around a status (Mastodon's context): ancestors oldest first, descendants depth
 * first with siblings oldest first, each list only what the viewer may see.
 */
export async function statusContext(
  ctx: Context,
  viewer: string | null,
  id: string,
): Promise<{ ancestors: string[]; descendants: string[] }> {
  const status = await visibleStatus(ctx, viewer, id);
  const ancestorLimit = viewer === null ? ANONYMOUS_ANCESTORS : SIGNED_IN_LIMIT;
  const descendantLimit = viewer === null ? ANONYMOUS_DESCENDANTS : SIGNED_IN_LIMIT;
  const depth = viewer === null ? ANONYMOUS_DEPTH : SIGNED_IN_LIMIT;

  const up = await ctx.database.query<{ id: string }>(
    `with recursive chain(id, in_reply_to_id, depth) as (
       select id, in_reply_to_id, 0 from statuses where id = $1::bigint
       union all
       select s.id, s.in_reply_to_id, c.depth + 1 from chain c join statuses s on s.id = c.in_reply_to_id
       where c.depth < $2::int
     )
     select id::text as id from chain where depth > 0 order by depth desc`,
    [status.id, ancestorLimit],
  );
  const down = await ctx.database.query<{ id: string }>(
    `with recursive tree(id, path) as (
       select id, array[id] from statuses where in_reply_to_id = $1::bigint
       union all
       select s.id, t.path || s.id from tree t join statuses s on s.in_reply_to_id = t.id
       where not s.id = any(t.path) and array_length(t.path, 1) < $2::int
     )
     select id::text as id from tree order by path limit $3::int`,
    [status.id, depth, descendantLimit],
  );
  const ancestorIds = up.map((r) => String(r.id));
  const descendantIds = down.map((r) => String(r.id));
  const visible = await shown(ctx, viewer, [...ancestorIds, ...descendantIds]);
  return {
    ancestors: ancestorIds.filter((i) => visible.has(i)),
    descendants: descendantIds.filter((i) => visible.has(i)),
  };
}

export interface AccountPageItem {
  /** The hidden id the list pages by (the favourite's or the reblog's id). */
  cursor: string;
  account: AccountRecord;
}

/** Accounts hidden from the viewer's lists: blocked either way or muted. */
function notExcluded(viewer: string | null) {
  if (viewer === null) return sql`true`;
  return sql`not exists (select 1 from blocks xb where (xb.account_id = ${viewer} and xb.target_account_id = ${accounts.id}) or (xb.account_id = ${accounts.id} and xb.target_account_id = ${viewer}))
    and not exists (select 1 from mutes xm where xm.account_id = ${viewer} and xm.target_account_id = ${accounts.id} and (xm.expires_at is null or xm.expires_at > now()))`;
}

const usable = sql`(${accounts.domain} is not null or exists (select 1 from users u where u.account_id = ${accounts.id} and u.confirmed_at is not null and u.approved)) and ${accounts.suspendedAt} is null`;

/** Who favourited a status the viewer sees, newest first, paged by the favourite's id. */
export async function favouritedBy(
  ctx: Context,
  viewer: string | null,
  id: string,
  page: Page,
): Promise<AccountPageItem[]> {
  const status = await visibleStatus(ctx, viewer, id, { proper: true });
  return paginate(page, favourites.id, (where, orderBy, limit) =>
    ctx.database.db
      .select({ cursor: favourites.id, account: accounts })
      .from(favourites)
      .innerJoin(accounts, eq(accounts.id, favourites.accountId))
      .where(and(eq(favourites.statusId, status.id), usable, notExcluded(viewer), where))
      .orderBy(orderBy)
      .limit(limit),
  );
}

/** Who boosted a status the viewer sees (boosts the viewer may see), newest first. */
export async function rebloggedBy(
  ctx: Context,
  viewer: string | null,
  id: string,
  page: Page,
): Promise<AccountPageItem[]> {
  const status = await visibleStatus(ctx, viewer, id, { proper: true });
  return paginate(page, statuses.id, (where, orderBy, limit) =>
    ctx.database.db
      .select({ cursor: statuses.id, account: accounts })
      .from(statuses)
      .innerJoin(accounts, eq(accounts.id, statuses.accountId))
      .where(
        and(
          eq(statuses.reblogOfId, status.id),
          visibleStatusCondition(viewer),
          usable,
          notExcluded(viewer),
          where,
        ),
      )
      .orderBy(orderBy)
      .limit(limit),
  );
}
