import { and, eq, sql } from 'drizzle-orm';
import { newId } from '../../db/ids.ts';
import { favourites, statuses } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { forbidden, notFound } from '../errors.ts';
import { notify, removeNotifications } from '../notifications/notify.ts';
import { canInteract, canViewStatus } from '../visibility/visibility.ts';
import { properStatus, type StatusRecord, visibleStatus } from './views.ts';

export async function favourite(ctx: Context, accountId: string, id: string): Promise<StatusRecord> {
  const status = await visibleStatus(ctx, accountId, id, { proper: true });
  if (!(await canInteract(ctx, accountId, status))) throw forbidden();
  const inserted = await ctx.database.transaction(async (tx) => {
    const rows = await tx
      .insert(favourites)
      .values({ id: newId(), accountId, statusId: status.id })
      .onConflictDoNothing()
      .returning({ id: favourites.id });
    if (rows.length > 0) {
      await tx
        .update(statuses)
        .set({ favouritesCount: sql`${statuses.favouritesCount} + 1` })
        .where(eq(statuses.id, status.id));
    }
    return rows.length > 0;
  });
  if (inserted)
    await notify(ctx, {
      type: 'favourite',
      recipientAccountId: status.accountId,
      fromAccountId: accountId,
      statusId: status.id,
    });
  return status;
}

/** Unfavourite answers for any status the viewer favourited, even one no longer visible. */
export async function unfavourite(ctx: Context, accountId: string, id: string): Promise<StatusRecord> {
  const status = await properStatus(ctx, id);
  const removed = await ctx.database.transaction(async (tx) => {
    const rows = await tx
      .delete(favourites)
      .where(and(eq(favourites.accountId, accountId), eq(favourites.statusId, status.id)))
      .returning({ id: favourites.id });
    if (rows.length > 0) {
      await tx
        .update(statuses)
        .set({ favouritesCount: sql`greatest(${statuses.favouritesCount} - 1, 0)` })
        .where(eq(statuses.id, status.id));
    }
    return rows.length > 0;
  });
  if (removed)
    await removeNotifications(ctx, { type: 'favourite', fromAccountId: accountId, statusId: status.id });
  else if (!(await canViewStatus(ctx, accountId, status))) throw notFound();
  return status;
}
