import type { Page } from '../../db/page.ts';
import { FEED_MAX_ITEMS } from '../../infra/feeds/feed-store.ts';
import { applyAdds } from '../../infra/feeds/rules.ts';
import type { Context } from '../context.ts';
import { filterForHome, toEntry } from './home-filter.ts';

/**
 * Home feeds follow the graph (mastodon.md §9): a follow merges the followed account's recent
 * statuses in, an unfollow, block or mute takes them out, and a missing feed is rebuilt from the
 * follows. The statuses themselves arrive by fan-out (distribution.ts).
 */

/** Mastodon's MergeWorker takes MAX_ITEMS / 4 of the followed account's newest statuses. */
export const MERGE_LIMIT = FEED_MAX_ITEMS / 4;

type Ctx = Pick<Context, 'database' | 'feeds'>;

/** Merges `targetId`'s newest statuses into `followerId`'s home (after a follow or an unmute). */
export async function mergeIntoHome(ctx: Ctx, followerId: string, targetId: string): Promise<number> {
  if (!(await ctx.feeds.exists(followerId))) {
    // Nothing to merge into: the first read rebuilds the whole feed from the graph, this follow included.
    return 0;
  }
  const rows = await filterForHome(
    ctx,
    `select $1::bigint as recipient, s.id as status_id from statuses s
     where s.account_id = $2::bigint order by s.id desc limit ${MERGE_LIMIT}`,
    [followerId, targetId],
  );
  return ctx.feeds.addMany(followerId, rows.map(toEntry));
}

/**
 * Takes `targetId`'s statuses (and its reblogs) out of `followerId`'s home. When the home's owner
 * now blocks or mutes the target, also boosts of the target's statuses and statuses mentioning it
 * (Mastodon's clear_from_home); after a plain unfollow those stay, as they came through others.
 */
export async function unmergeFromHome(ctx: Ctx, followerId: string, targetId: string): Promise<number> {
  const entries = await ctx.feeds.entries(followerId);
  if (entries.length === 0) return 0;
  const rows = await ctx.database.query<{ id: string }>(
    `with ids as (select unnest(string_to_array($1, ','))::bigint as id),
     strict as (select exists (select 1 from blocks where account_id = $2::bigint and target_account_id = $3::bigint)
                    or exists (select 1 from mutes where account_id = $2::bigint and target_account_id = $3::bigint
                               and (expires_at is null or expires_at > now())) as yes)
     select s.id::text as id from ids join statuses s on s.id = ids.id
     left join statuses o on o.id = s.reblog_of_id
     where s.account_id = $3::bigint
        or ((select yes from strict) and (o.account_id = $3::bigint or exists (
              select 1 from mentions m where m.status_id in (s.id, s.reblog_of_id) and m.account_id = $3::bigint)))`,
    [entries.map((e) => e.statusId).join(','), followerId, targetId],
  );
  const ids = rows.map((r) => String(r.id));
  await ctx.feeds.remove([followerId], ids);
  return ids.length;
}

/**
 * Rebuilds a home from the graph: the newest FEED_MAX_ITEMS statuses of the owner and of the
 * accounts it follows that pass the home rules, with boosts de-duplicated as if they had arrived
 * one by one. One query; cheap enough to run on the request that finds the feed missing.
 */
export async function rebuildHome(ctx: Ctx, accountId: string): Promise<number> {
  const rows = await filterForHome(
    ctx,
    `select $1::bigint as recipient, s.id as status_id from statuses s
     where s.account_id = $1::bigint
        or s.account_id in (select target_account_id from follows where account_id = $1::bigint)
     order by s.id desc limit ${FEED_MAX_ITEMS}`,
    [accountId],
  );
  const { feed } = applyAdds([], rows.map(toEntry));
  await ctx.feeds.replace(accountId, feed);
  return feed.length;
}

/**
 * One page of the home feed's status ids, newest first. A feed that is missing (never built, or
 * dropped) is rebuilt first, so the home never answers empty while statuses exist to show
 * (DESIGN.md §8).
 */
export async function homeFeedPage(ctx: Ctx, accountId: string, page: Page): Promise<string[]> {
  const ids = await ctx.feeds.page(accountId, page);
  if (ids.length > 0 || (await ctx.feeds.exists(accountId))) return ids;
  if ((await rebuildHome(ctx, accountId)) === 0) return [];
  return ctx.feeds.page(accountId, page);
}
