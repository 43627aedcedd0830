import { sql } from 'drizzle-orm';
import { newId } from '../../src/db/ids.ts';
import { blocks, conversationMutes, follows, mutes } from '../../src/db/schema/index.ts';
import type { Context } from '../../src/domain/context.ts';
import { conversationOf } from './statuses.ts';

/**
 * Edges of the social graph written straight into the database, for suites that test what reads
 * them (timelines, feeds, notifications, visibility, streaming) rather than following, blocking
 * and muting, which have their own suites through the API. No counters, no notifications, no
 * feed merges: only the rows. They go with the test database; nothing to tear down.
 */
type Ctx = Pick<Context, 'database'>;

/** `accountId` follows `targetAccountId`; `daysAgo` back-dates the follow. */
export async function follow(
  ctx: Ctx,
  accountId: string,
  targetAccountId: string,
  options: { showReblogs?: boolean; notify?: boolean; languages?: string[] | null; daysAgo?: number } = {},
): Promise<void> {
  await ctx.database.db.insert(follows).values({
    id: newId(),
    accountId,
    targetAccountId,
    showReblogs: options.showReblogs ?? true,
    notify: options.notify ?? false,
    languages: options.languages ?? null,
    ...(options.daysAgo ? { createdAt: sql`now() - make_interval(days => ${options.daysAgo}::int)` } : {}),
  });
}

/** `accountId` blocks `targetAccountId`. */
export async function block(ctx: Ctx, accountId: string, targetAccountId: string): Promise<void> {
  await ctx.database.db.insert(blocks).values({ id: newId(), accountId, targetAccountId });
}

/** `accountId` mutes `targetAccountId`, hiding notifications unless told not to; `expiresAt` in the past is an expired mute. */
export async function mute(
  ctx: Ctx,
  accountId: string,
  targetAccountId: string,
  options: { notifications?: boolean; expiresAt?: Date | null } = {},
): Promise<void> {
  await ctx.database.db.insert(mutes).values({
    id: newId(),
    accountId,
    targetAccountId,
    hideNotifications: options.notifications ?? true,
    expiresAt: options.expiresAt ?? null,
  });
}

/** `accountId` mutes the conversation of `statusId`. */
export async function muteConversation(ctx: Ctx, accountId: string, statusId: string): Promise<void> {
  await ctx.database.db
    .insert(conversationMutes)
    .values({ accountId, conversationId: await conversationOf(ctx, statusId) });
}
