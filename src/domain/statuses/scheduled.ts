import { and, eq } from 'drizzle-orm';
import type { Page } from '../../db/page.ts';
import { paginate } from '../../db/page.ts';
import { scheduledStatuses } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { checkScheduleLimits, parseScheduledAt, type ScheduledStatusRecord } from './create.ts';
import { notFound } from './errors.ts';

/** The account's scheduled statuses, newest id first. */
export async function listScheduledStatuses(
  ctx: Context,
  accountId: string,
  page: Page,
): Promise<ScheduledStatusRecord[]> {
  return paginate(page, scheduledStatuses.id, (where, orderBy, limit) =>
    ctx.database.db
      .select()
      .from(scheduledStatuses)
      .where(and(eq(scheduledStatuses.accountId, accountId), where))
      .orderBy(orderBy)
      .limit(limit),
  );
}

export async function getScheduledStatus(
  ctx: Context,
  accountId: string,
  id: string,
): Promise<ScheduledStatusRecord> {
  if (!/^\d{1,19}$/.test(id)) throw notFound();
  const [row] = await ctx.database.db
    .select()
    .from(scheduledStatuses)
    .where(and(eq(scheduledStatuses.id, id), eq(scheduledStatuses.accountId, accountId)));
  if (row === undefined) throw notFound();
  return row;
}

/** Moves a scheduled status to another time (the same rules as scheduling it). */
export async function rescheduleStatus(
  ctx: Context,
  accountId: string,
  id: string,
  scheduledAt: string | null,
): Promise<ScheduledStatusRecord> {
  const row = await getScheduledStatus(ctx, accountId, id);
  if (!scheduledAt) return row;
  const at = parseScheduledAt(scheduledAt);
  await checkScheduleLimits(ctx, accountId, at, row.id);
  const [updated] = await ctx.database.db
    .update(scheduledStatuses)
    .set({ scheduledAt: at })
    .where(eq(scheduledStatuses.id, row.id))
    .returning();
  return updated ?? row;
}

export async function cancelScheduledStatus(ctx: Context, accountId: string, id: string): Promise<void> {
  const row = await getScheduledStatus(ctx, accountId, id);
  await ctx.database.db.delete(scheduledStatuses).where(eq(scheduledStatuses.id, row.id));
}
