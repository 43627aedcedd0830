import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { accountPins, accountStats, followRequests, follows } from '../../db/schema/index.ts';
import type { AccountRecord } from '../accounts/records.ts';
import { assertActionAllowed, recordAction } from '../action-limits.ts';
import type { Context } from '../context.ts';
import { forbidden, notFound, validationFailed } from '../errors.ts';
import { isIso6391 } from '../instance/languages.ts';
import { notify, removeNotifications } from '../notifications/notify.ts';
import { mergeIntoHome, unmergeFromHome } from '../timelines/feeds.ts';
import { ValidationError } from '../validation.ts';
import { followLimitError, SELF_FOLLOW_ERROR } from './errors.ts';
import { isBlockedEitherWay } from './queries.ts';
import { adjustFollowCounts } from './stats.ts';

/** Mastodon's FollowLimitValidator: 7,500 follows, beyond that 1.1 × the account's followers. */
export const FOLLOW_LIMIT = 7_500;
export const FOLLOW_RATIO = 1.1;

/** Options of a follow; absent ones keep their current value (or the default on a new follow). */
export interface FollowOptions {
  /** Show the account's reblogs in home (default true). */
  reblogs?: boolean;
  /** Notify of each new status (default false). */
  notify?: boolean;
  /** Only these languages reach home; null: all (the default). */
  languages?: string[] | null;
}

export type FollowOutcome = 'followed' | 'requested' | 'updated';

/** Checks `languages[]` of a follow: ISO 639-1 codes; an empty list means all languages. */
export function normalizeFollowLanguages(value: readonly string[] | null): string[] | null {
  if (value === null) return null;
  const codes = [...new Set(value.map((code) => code.trim()).filter((code) => code !== ''))];
  if (codes.some((code) => !isIso6391(code)))
    throw ValidationError.of('languages', 'Languages', 'ERR_INVALID');
  return codes.length === 0 ? null : codes;
}

/**
 * Follows `target` as Mastodon's FollowService: refused for oneself and when either account blocks
 * the other; an existing follow or request only has its options changed; a locked target gets a
 * follow request (and a `follow_request` notification), any other a follow (a `follow`
 * notification, and the target's recent statuses merged into the follower's home).
 */
export async function follow(
  ctx: Context,
  source: AccountRecord,
  target: AccountRecord,
  options: FollowOptions = {},
): Promise<FollowOutcome> {
  if (source.id === target.id) throw forbidden(SELF_FOLLOW_ERROR);
  if (await isBlockedEitherWay(ctx, source.id, target.id)) throw forbidden();
  const languages = options.languages === undefined ? undefined : normalizeFollowLanguages(options.languages);
  const changes = {
    ...(options.reblogs === undefined ? {} : { showReblogs: options.reblogs }),
    ...(options.notify === undefined ? {} : { notify: options.notify }),
    ...(languages === undefined ? {} : { languages }),
  };
  const db = ctx.database.db;

  const pair = (table: typeof follows | typeof followRequests) =>
    and(eq(table.accountId, source.id), eq(table.targetAccountId, target.id));
  if (await exists(db, follows, source.id, target.id)) {
    if (Object.keys(changes).length > 0) await db.update(follows).set(changes).where(pair(follows));
    return 'updated';
  }
  if (await exists(db, followRequests, source.id, target.id)) {
    if (Object.keys(changes).length > 0)
      await db.update(followRequests).set(changes).where(pair(followRequests));
    return 'updated';
  }

  await checkFollowLimit(ctx, source.id);
  await assertActionAllowed(ctx, source.id, 'follows');
  const row = {
    id: newId(),
    accountId: source.id,
    targetAccountId: target.id,
    showReblogs: options.reblogs ?? true,
    notify: options.notify ?? false,
    languages: languages ?? null,
  };

  if (target.locked) {
    const inserted = await db
      .insert(followRequests)
      .values(row)
      .onConflictDoNothing()
      .returning({ id: followRequests.id });
    if (inserted.length > 0) {
      await recordAction(ctx, source.id, 'follows');
      await notify(ctx, { type: 'follow_request', recipientAccountId: target.id, fromAccountId: source.id });
    }
    return 'requested';
  }

  const created = await insertFollow(ctx, row);
  if (created) {
    await recordAction(ctx, source.id, 'follows');
    await afterFollow(ctx, source.id, target.id);
  }
  return 'followed';
}

async function exists(
  db: Db,
  table: typeof follows | typeof followRequests,
  accountId: string,
  targetId: string,
) {
  const rows = await db
    .select({ id: table.id })
    .from(table)
    .where(and(eq(table.accountId, accountId), eq(table.targetAccountId, targetId)))
    .limit(1);
  return rows.length > 0;
}

async function checkFollowLimit(ctx: Pick<Context, 'database'>, accountId: string): Promise<void> {
  const [stats] = await ctx.database.db
    .select({ following: accountStats.followingCount, followers: accountStats.followersCount })
    .from(accountStats)
    .where(eq(accountStats.accountId, accountId));
  const following = stats?.following ?? 0;
  const limit =
    following < FOLLOW_LIMIT
      ? FOLLOW_LIMIT
      : Math.max(Math.round((stats?.followers ?? 0) * FOLLOW_RATIO), FOLLOW_LIMIT);
  if (following >= limit) throw validationFailed(followLimitError(limit));
}

/** Inserts the follow and moves the counters in one transaction; false when it already existed. */
async function insertFollow(
  ctx: Pick<Context, 'database'>,
  row: typeof follows.$inferInsert & { accountId: string; targetAccountId: string },
): Promise<boolean> {
  return ctx.database.transaction(async (tx) => {
    const inserted = await tx.insert(follows).values(row).onConflictDoNothing().returning({ id: follows.id });
    if (inserted.length === 0) return false;
    await adjustFollowCounts(tx, row.accountId, row.targetAccountId, 1);
    return true;
  });
}

async function afterFollow(ctx: Context, followerId: string, targetId: string): Promise<void> {
  await notify(ctx, { type: 'follow', recipientAccountId: targetId, fromAccountId: followerId });
  await mergeIntoHome(ctx, followerId, targetId);
}

/**
 * Removes the follow of `followerId` on `targetId` with what depends on it: the counters, the
 * follower's endorsement of the target (Mastodon's remove_endorsements), the `follow`
 * notification, and the target's statuses in the follower's home. False when there was none.
 */
async function destroyFollow(ctx: Context, followerId: string, targetId: string): Promise<boolean> {
  const removed = await ctx.database.transaction(async (tx) => {
    const deleted = await tx
      .delete(follows)
      .where(and(eq(follows.accountId, followerId), eq(follows.targetAccountId, targetId)))
      .returning({ id: follows.id });
    if (deleted.length === 0) return false;
    await adjustFollowCounts(tx, followerId, targetId, -1);
    await tx
      .delete(accountPins)
      .where(and(eq(accountPins.accountId, followerId), eq(accountPins.targetAccountId, targetId)));
    return true;
  });
  if (!removed) return false;
  await removeNotifications(ctx, { type: 'follow', fromAccountId: followerId, recipientAccountId: targetId });
  await unmergeFromHome(ctx, followerId, targetId);
  return true;
}

/** Deletes a pending request and its `follow_request` notification; false when there was none. */
async function destroyFollowRequest(ctx: Context, requesterId: string, targetId: string): Promise<boolean> {
  const deleted = await ctx.database.db
    .delete(followRequests)
    .where(and(eq(followRequests.accountId, requesterId), eq(followRequests.targetAccountId, targetId)))
    .returning({ id: followRequests.id });
  if (deleted.length === 0) return false;
  await removeNotifications(ctx, {
    type: 'follow_request',
    fromAccountId: requesterId,
    recipientAccountId: targetId,
  });
  return true;
}

/** Unfollows, or withdraws a pending request (Mastodon's UnfollowService). Nothing to undo is fine. */
export async function unfollow(ctx: Context, followerId: string, targetId: string): Promise<void> {
  if (!(await destroyFollow(ctx, followerId, targetId)))
    await destroyFollowRequest(ctx, followerId, targetId);
}

/** Makes a follower stop following `accountId` (Mastodon's RemoveFromFollowersService). */
export async function removeFromFollowers(
  ctx: Context,
  accountId: string,
  followerId: string,
): Promise<void> {
  await destroyFollow(ctx, followerId, accountId);
}

/**
 * Accepts `requesterId`'s request to follow `accountId`: the request becomes a follow with its
 * options (no follow limit applies, as Mastodon's bypass_limit), the `follow_request` notification
 * gives way to a `follow` one, and the account's statuses are merged into the requester's home.
 * Without a pending request: not_found.
 */
export async function authorizeFollowRequest(
  ctx: Context,
  accountId: string,
  requesterId: string,
): Promise<void> {
  const created = await ctx.database.transaction(async (tx) => {
    const [request] = await tx
      .delete(followRequests)
      .where(and(eq(followRequests.accountId, requesterId), eq(followRequests.targetAccountId, accountId)))
      .returning();
    if (request === undefined) throw notFound();
    const inserted = await tx
      .insert(follows)
      .values({
        id: newId(),
        accountId: requesterId,
        targetAccountId: accountId,
        showReblogs: request.showReblogs,
        notify: request.notify,
        languages: request.languages,
        uri: request.uri,
      })
      .onConflictDoNothing()
      .returning({ id: follows.id });
    if (inserted.length === 0) return false;
    await adjustFollowCounts(tx, requesterId, accountId, 1);
    return true;
  });
  await removeNotifications(ctx, {
    type: 'follow_request',
    fromAccountId: requesterId,
    recipientAccountId: accountId,
  });
  if (created) await afterFollow(ctx, requesterId, accountId);
}

/** Declines `requesterId`'s request to follow `accountId`; not_found when there is none. */
export async function rejectFollowRequest(
  ctx: Context,
  accountId: string,
  requesterId: string,
): Promise<void> {
  if (!(await destroyFollowRequest(ctx, requesterId, accountId))) throw notFound();
}

/** Used by blocks: every follow and request between the two accounts goes, both ways. */
export async function severFollows(ctx: Context, a: string, b: string): Promise<void> {
  await unfollow(ctx, a, b);
  await unfollow(ctx, b, a);
}
