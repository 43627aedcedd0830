import { and, count, eq } from 'drizzle-orm';
import { newId } from '../../db/ids.ts';
import { statusPins } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { validationFailed } from '../errors.ts';
import { ACCOUNT_LIMITS } from '../limits.ts';
import { type StatusRecord, visibleStatus } from './views.ts';

/** A record-level refusal, worded as Rails' RecordInvalid for a base error. */

/** Pins one's own status to the profile: not a boost, not direct, at most five (Mastodon's errors). */
export async function pin(ctx: Context, accountId: string, id: string): Promise<StatusRecord> {
  const status = await visibleStatus(ctx, accountId, id);
  if (status.accountId !== accountId || status.reblogOfId !== null)
    throw validationFailed("Someone else's post cannot be pinned");
  if (status.visibility === 'direct')
    throw validationFailed('Posts that are only visible to mentioned users cannot be pinned');
  await ctx.database.transaction(async (tx) => {
    const [pinned] = await tx
      .select({ n: count() })
      .from(statusPins)
      .where(eq(statusPins.accountId, accountId));
    const already = await tx
      .select({ id: statusPins.id })
      .from(statusPins)
      .where(and(eq(statusPins.accountId, accountId), eq(statusPins.statusId, status.id)));
    if (already.length > 0) return;
    if ((pinned?.n ?? 0) >= ACCOUNT_LIMITS.maxPinnedStatuses) {
      throw validationFailed('You have already pinned the maximum number of posts');
    }
    await tx.insert(statusPins).values({ id: newId(), accountId, statusId: status.id });
  });
  return status;
}

export async function unpin(ctx: Context, accountId: string, id: string): Promise<StatusRecord> {
  const status = await visibleStatus(ctx, accountId, id);
  await ctx.database.db
    .delete(statusPins)
    .where(and(eq(statusPins.accountId, accountId), eq(statusPins.statusId, status.id)));
  return status;
}
