import { and, eq, lte } from 'drizzle-orm';
import { newId } from '../../db/ids.ts';
import { mutes } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { enqueueJob, JOBS } from '../jobs.ts';
import { mergeIntoHome, unmergeFromHome } from '../timelines/feeds.ts';
import { ValidationError } from '../validation.ts';
import { clearNotificationsFrom } from './blocks.ts';
import { isFollowing } from './queries.ts';

/** The longest mute duration accepted: a timestamp PostgreSQL and JavaScript both hold comfortably. */
export const MAX_MUTE_DURATION_SECONDS = 100 * 365 * 24 * 60 * 60;

export interface MuteOptions {
  /** Also hide notifications from the account (default true, as Mastodon). */
  notifications?: boolean;
  /** Seconds until the mute ends; 0 or absent: indefinitely. */
  duration?: number;
}

/**
 * Mutes `targetId` as Mastodon's MuteService: a second mute replaces the first's options and
 * expiry; the target's statuses leave the muter's home, and with `notifications` its notifications
 * go too. An expired mute is simply ignored by every query (`activeMute`), so nothing has to run
 * when it ends. Muting oneself does nothing.
 */
export async function mute(
  ctx: Context,
  accountId: string,
  targetId: string,
  options: MuteOptions = {},
): Promise<void> {
  const duration = options.duration ?? 0;
  if (!Number.isInteger(duration) || duration < 0 || duration > MAX_MUTE_DURATION_SECONDS) {
    throw ValidationError.of(
      'duration',
      'Duration',
      'ERR_INVALID',
      `must be a whole number of seconds between 0 and ${MAX_MUTE_DURATION_SECONDS}`,
    );
  }
  if (accountId === targetId) return;
  const hideNotifications = options.notifications ?? true;
  const expiresAt = duration === 0 ? null : new Date(Date.now() + duration * 1000);
  await ctx.database.db
    .insert(mutes)
    .values({ id: newId(), accountId, targetAccountId: targetId, hideNotifications, expiresAt })
    .onConflictDoUpdate({
      target: [mutes.accountId, mutes.targetAccountId],
      set: { hideNotifications, expiresAt },
    });
  await unmergeFromHome(ctx, accountId, targetId);
  if (hideNotifications) await clearNotificationsFrom(ctx, accountId, targetId);
  await ctx.streams.viewerStateChanged([accountId]);
  if (expiresAt !== null) {
    // Mastodon's DeleteMuteWorker: when the mute ends, the followed account's statuses come back.
    await enqueueJob(
      ctx,
      JOBS.muteExpired,
      { accountId, targetId },
      {
        delayMs: duration * 1000,
        jobId: `mute-expiry-${accountId}-${targetId}-${expiresAt.getTime()}`,
        attempts: 3,
      },
    );
  }
}

/** The delayed job of a timed mute: ends it if it is still the expired one (not renewed or removed). */
export async function expireMute(ctx: Context, accountId: string, targetId: string): Promise<boolean> {
  const deleted = await ctx.database.db
    .delete(mutes)
    .where(
      and(
        eq(mutes.accountId, accountId),
        eq(mutes.targetAccountId, targetId),
        lte(mutes.expiresAt, new Date()),
      ),
    )
    .returning({ id: mutes.id });
  if (deleted.length === 0) return false;
  if (await isFollowing(ctx, accountId, targetId)) await mergeIntoHome(ctx, accountId, targetId);
  await ctx.streams.viewerStateChanged([accountId]);
  return true;
}

/** Ends a mute; a followed account's statuses come back into home (Mastodon's UnmuteService). */
export async function unmute(ctx: Context, accountId: string, targetId: string): Promise<void> {
  const deleted = await ctx.database.db
    .delete(mutes)
    .where(and(eq(mutes.accountId, accountId), eq(mutes.targetAccountId, targetId)))
    .returning({ id: mutes.id });
  if (deleted.length === 0) return;
  if (await isFollowing(ctx, accountId, targetId)) await mergeIntoHome(ctx, accountId, targetId);
  await ctx.streams.viewerStateChanged([accountId]);
}
