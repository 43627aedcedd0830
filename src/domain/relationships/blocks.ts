import { and, eq } from 'drizzle-orm';
import { newId } from '../../db/ids.ts';
import { blocks, notificationPermissions, notificationRequests } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { removeNotifications } from '../notifications/notify.ts';
import { NOTIFICATION_TYPES } from '../notifications/types.ts';
import { unmergeFromHome } from '../timelines/feeds.ts';
import { severFollows } from './follows.ts';

/**
 * Blocks `targetId` as Mastodon's BlockService and AfterBlockService: follows and follow requests
 * between the two go both ways, each one's statuses leave the other's home, and the blocker loses
 * the target's notifications, notification request and accepted-sender permission. Blocking
 * oneself does nothing.
 */
export async function block(ctx: Context, accountId: string, targetId: string): Promise<void> {
  if (accountId === targetId) return;
  await severFollows(ctx, accountId, targetId);
  await ctx.database.db
    .insert(blocks)
    .values({ id: newId(), accountId, targetAccountId: targetId })
    .onConflictDoNothing();
  await unmergeFromHome(ctx, accountId, targetId);
  await unmergeFromHome(ctx, targetId, accountId);
  await clearNotificationsFrom(ctx, accountId, targetId);
  // The blocker's blocks and the target's "blocked by" both changed: both streams refilter.
  await ctx.streams.viewerStateChanged([accountId, targetId]);
}

export async function unblock(ctx: Context, accountId: string, targetId: string): Promise<void> {
  const removed = await ctx.database.db
    .delete(blocks)
    .where(and(eq(blocks.accountId, accountId), eq(blocks.targetAccountId, targetId)))
    .returning({ id: blocks.id });
  if (removed.length > 0) await ctx.streams.viewerStateChanged([accountId, targetId]);
}

/** What a block (or a mute of notifications) clears: everything `fromId` caused in `accountId`'s notifications. */
export async function clearNotificationsFrom(ctx: Context, accountId: string, fromId: string): Promise<void> {
  for (const type of NOTIFICATION_TYPES) {
    await removeNotifications(ctx, { type, fromAccountId: fromId, recipientAccountId: accountId });
  }
  await ctx.database.db
    .delete(notificationRequests)
    .where(
      and(eq(notificationRequests.accountId, accountId), eq(notificationRequests.fromAccountId, fromId)),
    );
  await ctx.database.db
    .delete(notificationPermissions)
    .where(
      and(
        eq(notificationPermissions.accountId, accountId),
        eq(notificationPermissions.fromAccountId, fromId),
      ),
    );
}
