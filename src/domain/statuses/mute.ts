import { and, eq } from 'drizzle-orm';
import { conversationMutes } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { type StatusRecord, visibleStatus } from './views.ts';

/** Mutes the thread a status belongs to (its conversation): no more notifications from it. */
export async function muteConversation(
  ctx: Context,
  accountId: string,
  id: string,
  mute: boolean,
): Promise<StatusRecord> {
  const status = await visibleStatus(ctx, accountId, id, { proper: true });
  const conversationId = status.conversationId ?? status.id;
  if (mute) {
    await ctx.database.db
      .insert(conversationMutes)
      .values({ accountId, conversationId })
      .onConflictDoNothing();
  } else {
    await ctx.database.db
      .delete(conversationMutes)
      .where(
        and(eq(conversationMutes.accountId, accountId), eq(conversationMutes.conversationId, conversationId)),
      );
  }
  return status;
}
