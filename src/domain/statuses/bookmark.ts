import { and, eq } from 'drizzle-orm';
import { newId } from '../../db/ids.ts';
import { bookmarks } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { notFound } from '../errors.ts';
import { canViewStatus } from '../visibility/visibility.ts';
import { properStatus, type StatusRecord, visibleStatus } from './views.ts';

export async function bookmark(ctx: Context, accountId: string, id: string): Promise<StatusRecord> {
  const status = await visibleStatus(ctx, accountId, id, { proper: true });
  await ctx.database.db
    .insert(bookmarks)
    .values({ id: newId(), accountId, statusId: status.id })
    .onConflictDoNothing();
  return status;
}

/** Unbookmark answers for any status the viewer bookmarked, even one no longer visible. */
export async function unbookmark(ctx: Context, accountId: string, id: string): Promise<StatusRecord> {
  const status = await properStatus(ctx, id);
  const rows = await ctx.database.db
    .delete(bookmarks)
    .where(and(eq(bookmarks.accountId, accountId), eq(bookmarks.statusId, status.id)))
    .returning({ id: bookmarks.id });
  if (rows.length === 0 && !(await canViewStatus(ctx, accountId, status))) throw notFound();
  return status;
}
