import { eq } from 'drizzle-orm';
import { polls, statuses } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { mediaOfStatus } from '../media/attach.ts';
import { destroyMediaAttachments } from '../media/attachments.ts';
import { removeNotifications, removeStatusNotifications } from '../notifications/notify.ts';
import type { DeletedStatus } from '../streaming/events.ts';
import { bumpCounters } from './store.ts';
import { ownStatus, type StatusRecord } from './views.ts';

/**
 * Deleting a status (Mastodon's RemoveStatusService): the row and its boosts, the counters, the
 * home feeds that hold it, the notifications about it, and a `delete` to the streams. The feed
 * removal is here rather than in timelines: it must happen before the row goes (the homes are
 * found through its mentions), and statuses does not depend on timelines (see store.ts).
 */

/** Deletes one's own status (with its boosts by others); returns the row as it was, for redrafting. */
export async function deleteStatus(
  ctx: Context,
  accountId: string,
  id: string,
  options: { deleteMedia?: boolean } = {},
): Promise<StatusRecord> {
  const status = await ownStatus(ctx, accountId, id);
  // The API's delete is a redraft unless `delete_media`: the uploads stay, unattached, for the
  // client to post again; housekeeping removes them if it does not.
  await deleteStatusRow(ctx, status, { keepMedia: !options.deleteMedia });
  return status;
}

/**
 * Deletes a status row, its counters, its feed entries, and its boosts; its attachments and their
 * files too, unless `keepMedia` (a redraft).
 */
export async function deleteStatusRow(
  ctx: Context,
  status: StatusRecord,
  options: { keepMedia?: boolean } = {},
): Promise<void> {
  const boosts = await ctx.database.db.select().from(statuses).where(eq(statuses.reblogOfId, status.id));
  for (const boost of boosts) await deleteStatusRow(ctx, boost);
  // Read before the row goes (its tags go with it); the `delete` event follows the deletion.
  const gone = await deletedStatusFacts(ctx, status.id);
  const homes = await removeStatusFromFeeds(ctx, { id: status.id, accountId: status.accountId });
  // Every attachment it ever had (an edit keeps removed ones for the history).
  const attached = options.keepMedia ? [] : await mediaOfStatus(ctx, status.id);
  await ctx.database.transaction(async (tx) => {
    const [deleted] = await tx
      .delete(statuses)
      .where(eq(statuses.id, status.id))
      .returning({ id: statuses.id });
    if (deleted === undefined) return;
    if (status.pollId !== null) await tx.delete(polls).where(eq(polls.id, status.pollId));
    await bumpCounters(tx, status, -1);
  });
  await destroyMediaAttachments(ctx, attached);
  if (gone !== undefined) await ctx.streams.statusDeleted(gone, homes);
  // Notifications about it go too; a boost's own notification points at the original.
  await removeStatusNotifications(ctx, [status.id]);
  if (status.reblogOfId !== null) {
    await removeNotifications(ctx, {
      type: 'reblog',
      fromAccountId: status.accountId,
      statusId: status.reblogOfId,
    });
  }
}

/**
 * Takes a status out of every home it may be in: its author's, its author's local followers' and
 * its mentioned accounts'. Call it before deleting the row, or pass the author yourself. Returns
 * those homes' owners, for the `delete` event (publish it once the row is gone: statusDeleted).
 */
export async function removeStatusFromFeeds(
  ctx: Pick<Context, 'database' | 'feeds'>,
  status: string | { id: string; accountId: string },
): Promise<string[]> {
  const id = typeof status === 'string' ? status : status.id;
  const rows = await ctx.database.query<{ id: string }>(
    `with author as (select coalesce($2::bigint, (select account_id from statuses where id = $1::bigint)) as id)
     select a.id::text as id from accounts a where a.domain is null and a.id in (
       select id from author
       union select f.account_id from follows f where f.target_account_id = (select id from author)
       union select m.account_id from mentions m where m.status_id = $1::bigint)`,
    [id, typeof status === 'string' ? null : status.accountId],
  );
  const owners = rows.map((r) => String(r.id));
  await ctx.feeds.remove(owners, [id]);
  return owners;
}

/**
 * What the streams need of a status about to be deleted (its tags and author go with the row):
 * undefined when it is gone already.
 */
export async function deletedStatusFacts(
  ctx: Pick<Context, 'database'>,
  statusId: string,
): Promise<DeletedStatus | undefined> {
  const [row] = await ctx.database.query<{
    visibility: string;
    reblog_of_id: string | null;
    local: boolean;
    tags: string[] | null;
    with_media: boolean;
  }>(
    `select s.visibility, s.reblog_of_id::text as reblog_of_id, a.domain is null as local,
            coalesce(cardinality(s.ordered_media_attachment_ids), 0) > 0 as with_media,
            (select array_agg(t.name) from statuses_tags st join tags t on t.id = st.tag_id
              where st.status_id = s.id) as tags
       from statuses s join accounts a on a.id = s.account_id where s.id = $1::bigint`,
    [statusId],
  );
  if (row === undefined) return undefined;
  return {
    id: statusId,
    visibility: row.visibility,
    reblogOfId: row.reblog_of_id === null ? null : String(row.reblog_of_id),
    local: row.local,
    tags: row.tags ?? [],
    withMedia: row.with_media,
  };
}
