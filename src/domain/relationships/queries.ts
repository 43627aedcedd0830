import { and, eq, gt, inArray, isNull, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import {
  accountNotes,
  accountPins,
  accounts,
  blocks,
  followRequests,
  follows,
  mutes,
} from '../../db/schema/index.ts';
import type { Context } from '../context.ts';

/**
 * Read side of the social graph: who follows, blocks and mutes whom. Other areas (visibility, feeds,
 * notifications) ask these instead of reading the tables, so rules such as "an expired mute no
 * longer counts" live in one place.
 */

type Ctx = Pick<Context, 'database'>;

/** The mute is in force: no expiry, or an expiry still ahead (expired rows are ignored, not deleted at once). */
export function activeMute(): SQL {
  return or(isNull(mutes.expiresAt), gt(mutes.expiresAt, sql`now()`)) as SQL;
}

export async function isFollowing(ctx: Ctx, followerId: string, targetId: string): Promise<boolean> {
  const rows = await ctx.database.db
    .select({ id: follows.id })
    .from(follows)
    .where(and(eq(follows.accountId, followerId), eq(follows.targetAccountId, targetId)))
    .limit(1);
  return rows.length > 0;
}

// Single blocks and mutes are answered by the visibility module, the one place that decides them
// (DESIGN.md §3); the names here are kept for the social-graph code that reads better with them.
export {
  blockedEitherWay as isBlockedEitherWay,
  isBlocking,
  muteOf as findMute,
  mutes as isMuting,
} from '../visibility/visibility.ts';

/** Accounts `accountId` blocks, and accounts that block `accountId` (both hide content). */
export async function blockedAccountIds(
  ctx: Ctx,
  accountId: string,
): Promise<{ blocking: string[]; blockedBy: string[] }> {
  const rows = await ctx.database.db
    .select({ accountId: blocks.accountId, targetAccountId: blocks.targetAccountId })
    .from(blocks)
    .where(or(eq(blocks.accountId, accountId), eq(blocks.targetAccountId, accountId)));
  const blocking: string[] = [];
  const blockedBy: string[] = [];
  for (const row of rows) {
    if (row.accountId === accountId) blocking.push(row.targetAccountId);
    else blockedBy.push(row.accountId);
  }
  return { blocking, blockedBy };
}

/** Accounts `accountId` mutes now (expired mutes excluded); `notificationsOnly` narrows to mutes hiding notifications. */
export async function mutedAccountIds(
  ctx: Ctx,
  accountId: string,
  options: { notificationsOnly?: boolean } = {},
): Promise<string[]> {
  const conditions = [eq(mutes.accountId, accountId), activeMute()];
  if (options.notificationsOnly) conditions.push(eq(mutes.hideNotifications, true));
  const rows = await ctx.database.db
    .select({ id: mutes.targetAccountId })
    .from(mutes)
    .where(and(...conditions));
  return rows.map((r) => r.id);
}

/** A local follower as the home-feed fan-out needs it. */
export interface FeedFollower {
  accountId: string;
  /** Whether the follower wants this account's reblogs in their home. */
  showReblogs: boolean;
  /** Only statuses in these languages reach the follower's home; null: all. */
  languages: string[] | null;
}

/** The local followers of `accountId` with their per-follow feed settings (fan-out on write). */
export async function localFollowersForDistribution(ctx: Ctx, accountId: string): Promise<FeedFollower[]> {
  const rows = await ctx.database.db
    .select({ accountId: follows.accountId, showReblogs: follows.showReblogs, languages: follows.languages })
    .from(follows)
    .innerJoin(accounts, eq(accounts.id, follows.accountId))
    .where(and(eq(follows.targetAccountId, accountId), isNull(accounts.domain)));
  return rows.map((r) => ({
    accountId: r.accountId,
    showReblogs: r.showReblogs,
    languages: r.languages ?? null,
  }));
}

export async function localFollowerIds(ctx: Ctx, accountId: string): Promise<string[]> {
  return (await localFollowersForDistribution(ctx, accountId)).map((f) => f.accountId);
}

/** Ids of the accounts `accountId` follows. */
export async function followingIds(ctx: Ctx, accountId: string): Promise<string[]> {
  const rows = await ctx.database.db
    .select({ id: follows.targetAccountId })
    .from(follows)
    .where(eq(follows.accountId, accountId));
  return rows.map((r) => r.id);
}

/** The Relationship entity's data (REST::RelationshipSerializer). */
export interface Relationship {
  id: string;
  following: boolean;
  showingReblogs: boolean;
  notifying: boolean;
  languages: string[] | null;
  followedBy: boolean;
  blocking: boolean;
  blockedBy: boolean;
  muting: boolean;
  mutingNotifications: boolean;
  mutingExpiresAt: Date | null;
  requested: boolean;
  requestedBy: boolean;
  domainBlocking: boolean;
  endorsed: boolean;
  note: string;
}

/**
 * The viewer's relationships to each target, in the order given (duplicates kept once), with one
 * query per edge kind whatever the number of targets.
 */
export async function relationships(
  ctx: Ctx,
  viewerId: string,
  targetIds: readonly string[],
): Promise<Relationship[]> {
  const ids = [...new Set(targetIds)];
  if (ids.length === 0) return [];
  const db: Db = ctx.database.db;
  const [following, followedBy, requested, requestedBy, blocking, blockedBy, muting, endorsed, notes] =
    await Promise.all([
      db
        .select({
          id: follows.targetAccountId,
          showReblogs: follows.showReblogs,
          notify: follows.notify,
          languages: follows.languages,
        })
        .from(follows)
        .where(and(eq(follows.accountId, viewerId), inArray(follows.targetAccountId, ids))),
      db
        .select({ id: follows.accountId })
        .from(follows)
        .where(and(eq(follows.targetAccountId, viewerId), inArray(follows.accountId, ids))),
      db
        .select({
          id: followRequests.targetAccountId,
          showReblogs: followRequests.showReblogs,
          notify: followRequests.notify,
          languages: followRequests.languages,
        })
        .from(followRequests)
        .where(and(eq(followRequests.accountId, viewerId), inArray(followRequests.targetAccountId, ids))),
      db
        .select({ id: followRequests.accountId })
        .from(followRequests)
        .where(and(eq(followRequests.targetAccountId, viewerId), inArray(followRequests.accountId, ids))),
      db
        .select({ id: blocks.targetAccountId })
        .from(blocks)
        .where(and(eq(blocks.accountId, viewerId), inArray(blocks.targetAccountId, ids))),
      db
        .select({ id: blocks.accountId })
        .from(blocks)
        .where(and(eq(blocks.targetAccountId, viewerId), inArray(blocks.accountId, ids))),
      db
        .select({
          id: mutes.targetAccountId,
          hideNotifications: mutes.hideNotifications,
          expiresAt: mutes.expiresAt,
        })
        .from(mutes)
        .where(and(eq(mutes.accountId, viewerId), inArray(mutes.targetAccountId, ids), activeMute())),
      db
        .select({ id: accountPins.targetAccountId })
        .from(accountPins)
        .where(and(eq(accountPins.accountId, viewerId), inArray(accountPins.targetAccountId, ids))),
      db
        .select({ id: accountNotes.targetAccountId, comment: accountNotes.comment })
        .from(accountNotes)
        .where(and(eq(accountNotes.accountId, viewerId), inArray(accountNotes.targetAccountId, ids))),
    ]);
  const byId = <T extends { id: string }>(rows: T[]) => new Map(rows.map((r) => [r.id, r]));
  const followingMap = byId(following);
  const requestedMap = byId(requested);
  const followedBySet = new Set(followedBy.map((r) => r.id));
  const requestedBySet = new Set(requestedBy.map((r) => r.id));
  const blockingSet = new Set(blocking.map((r) => r.id));
  const blockedBySet = new Set(blockedBy.map((r) => r.id));
  const mutingMap = byId(muting);
  const endorsedSet = new Set(endorsed.map((r) => r.id));
  const notesMap = byId(notes);
  return ids.map((id) => {
    // A pending request carries the options the follow will have, as Mastodon shows them.
    const edge = followingMap.get(id) ?? requestedMap.get(id);
    const mute = mutingMap.get(id);
    return {
      id,
      following: followingMap.has(id),
      showingReblogs: edge?.showReblogs ?? false,
      notifying: edge?.notify ?? false,
      languages: edge?.languages ?? null,
      followedBy: followedBySet.has(id),
      blocking: blockingSet.has(id),
      blockedBy: blockedBySet.has(id),
      muting: mute !== undefined,
      mutingNotifications: mute?.hideNotifications ?? false,
      mutingExpiresAt: mute?.expiresAt ?? null,
      requested: requestedMap.has(id),
      requestedBy: requestedBySet.has(id),
      // Domain blocks arrive with federation; local accounts have no domain to block.
      domainBlocking: false,
      endorsed: endorsedSet.has(id),
      note: notesMap.get(id)?.comment ?? '',
    };
  });
}
