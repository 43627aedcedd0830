import { and, eq, inArray, sql } from 'drizzle-orm';
import { type Page, paginate } from '../../db/page.ts';
import { notificationPermissions, notificationRequests, notifications } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';

type Ctx = Pick<Context, 'database'>;

export type NotificationRequestRecord = typeof notificationRequests.$inferSelect;

const notSuspended = sql`not exists (select 1 from accounts ra where ra.id = ${notificationRequests.fromAccountId} and ra.suspended_at is not null)`;

/** The account's pending requests (senders not suspended), newest first. */
export async function listRequests(
  ctx: Ctx,
  accountId: string,
  page: Page,
): Promise<NotificationRequestRecord[]> {
  return paginate(page, notificationRequests.id, (where, orderBy, limit) =>
    ctx.database.db
      .select()
      .from(notificationRequests)
      .where(and(eq(notificationRequests.accountId, accountId), notSuspended, where))
      .orderBy(orderBy)
      .limit(limit),
  );
}

export async function getRequest(
  ctx: Ctx,
  accountId: string,
  id: string,
): Promise<NotificationRequestRecord | undefined> {
  const [row] = await ctx.database.db
    .select()
    .from(notificationRequests)
    .where(and(eq(notificationRequests.accountId, accountId), eq(notificationRequests.id, id)))
    .limit(1);
  return row;
}

/**
 * Accepts requests: their senders are allowed from now on (never filtered again) and what they
 * sent moves into the notifications list. Mastodon unfilters in a background job and answers
 * `/requests/merged` false meanwhile; here it happens before the answer, so merging is always done.
 * Requests that are not the account's are ignored.
 */
export async function acceptRequests(
  ctx: Pick<Context, 'database' | 'streams'>,
  accountId: string,
  ids: readonly string[],
): Promise<void> {
  const merged = await ctx.database.transaction(async (tx) => {
    const requests = await ownRequests(tx, accountId, ids);
    for (const request of requests) {
      await tx
        .insert(notificationPermissions)
        .values({ accountId, fromAccountId: request.fromAccountId })
        .onConflictDoNothing();
      await tx
        .update(notifications)
        .set({ filtered: false })
        .where(
          and(
            eq(notifications.accountId, accountId),
            eq(notifications.fromAccountId, request.fromAccountId),
            eq(notifications.filtered, true),
          ),
        );
      await tx.delete(notificationRequests).where(eq(notificationRequests.id, request.id));
    }
    return requests.length > 0;
  });
  // Mastodon's UnfilterNotificationsWorker: clients reload the list the notifications joined.
  if (merged) await ctx.streams.notificationsMerged(accountId);
}

/**
 * Dismisses requests: they go, with the filtered notifications they held. The sender stays
 * unaccepted, so later notifications from them are filtered into a new request.
 */
export async function dismissRequests(ctx: Ctx, accountId: string, ids: readonly string[]): Promise<void> {
  await ctx.database.transaction(async (tx) => {
    const requests = await ownRequests(tx, accountId, ids);
    for (const request of requests) {
      await tx
        .delete(notifications)
        .where(
          and(
            eq(notifications.accountId, accountId),
            eq(notifications.fromAccountId, request.fromAccountId),
            eq(notifications.filtered, true),
          ),
        );
      await tx.delete(notificationRequests).where(eq(notificationRequests.id, request.id));
    }
  });
}

async function ownRequests(
  tx: Ctx['database']['db'],
  accountId: string,
  ids: readonly string[],
): Promise<NotificationRequestRecord[]> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return [];
  return tx
    .select()
    .from(notificationRequests)
    .where(and(eq(notificationRequests.accountId, accountId), inArray(notificationRequests.id, wanted)));
}
