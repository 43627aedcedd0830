import type { Context } from '../context.ts';
import { notify } from '../notifications/notify.ts';
import type { DeletedStatus } from '../streaming/events.ts';
import { filterForHome, toEntry } from './home-filter.ts';

/**
 * Fan-out on write (mastodon.md §9): a new status goes into its author's home and into the home of
 * every local account that follows the author and passes the home rules (home-filter.ts), through
 * a `default` queue job so that posting does not wait for thousands of inserts.
 */

export const DISTRIBUTE_JOB = 'distribute';

/** Queues the fan-out of a status; one job per status (a repeat while it waits adds nothing). */
export async function distributeStatus(ctx: Pick<Context, 'queue'>, statusId: string): Promise<void> {
  await ctx.queue.enqueue(
    'default',
    DISTRIBUTE_JOB,
    { statusId },
    { jobId: `distribute-${statusId}`, attempts: 5 },
  );
}

/**
 * The fan-out itself (the `distribute` job): one query finds the homes the status belongs in, one
 * batch inserts it there, then the streams hear of it (homes that are streaming, public and hashtag
 * channels). A status deleted before its turn is skipped. Returns how many homes took it.
 */
export async function fanOutStatus(
  ctx: Pick<Context, 'database' | 'feeds' | 'cache' | 'streams'>,
  statusId: string,
): Promise<number> {
  const rows = await filterForHome(ctx, homeRecipientPairs, [statusId]);
  const recipients = rows.map((r) => String(r.recipient));
  const first = rows[0];
  const placed =
    first === undefined ? { added: [], unbuilt: [] } : await ctx.feeds.add(recipients, toEntry(first));
  // Streamed to the homes that took it or will have it once built, not to those that refused it
  // (a boost of something they just saw: Mastodon pushes only what add_to_feed inserted). Even with
  // no local home (a remote author without local followers) the public streams hear it.
  await ctx.streams.statusDistributed(statusId, [...placed.added, ...placed.unbuilt]);
  if (recipients.length > 0) await notifySubscribers(ctx, statusId, recipients);
  return placed.added.length;
}

/** The author and the local followers of the status's author, as (recipient, status_id) pairs for filterForHome. */
const homeRecipientPairs = `select r.id as recipient, $1::bigint as status_id from (
       select s.account_id as id from statuses s where s.id = $1::bigint
       union
       select f.account_id from follows f
       where f.target_account_id = (select account_id from statuses where id = $1::bigint)
     ) r`;

export const DISTRIBUTE_UPDATE_JOB = 'distribute_update';

/**
 * Queues the streaming of an edit (`status.update`), as Mastodon re-runs its fan-out with
 * `update: true` in a job: finding and rendering for thousands of homes does not hold up the edit.
 * One job per edit, so a later edit is never swallowed by an earlier one's job id.
 */
export async function distributeStatusUpdate(ctx: Pick<Context, 'queue'>, statusId: string): Promise<void> {
  await ctx.queue.enqueue(
    'default',
    DISTRIBUTE_UPDATE_JOB,
    { statusId },
    { jobId: `distribute-update-${statusId}-${Date.now()}`, attempts: 3 },
  );
}

/**
 * The `distribute_update` job: `status.update` to the homes that hold the status (the home rules
 * decide, as for the fan-out; the feeds already have it) and to the public and hashtag streams.
 */
export async function fanOutStatusUpdate(
  ctx: Pick<Context, 'database' | 'streams'>,
  statusId: string,
): Promise<void> {
  const rows = await filterForHome(ctx, homeRecipientPairs, [statusId]);
  await ctx.streams.statusUpdated(
    statusId,
    rows.map((r) => String(r.recipient)),
  );
}

/**
 * `status` notifications for followers who asked for them (follow with `notify`): as Mastodon's
 * FeedInsertWorker, only for followers the status reached through the home rules, and not for
 * reblogs or replies to someone else. notify() applies mutes, blocks and the recipient's policy.
 */
async function notifySubscribers(
  ctx: Pick<Context, 'database' | 'cache' | 'streams'>,
  statusId: string,
  recipients: string[],
): Promise<void> {
  const rows = await ctx.database.query<{ follower: string; author: string }>(
    `select f.account_id::text as follower, s.account_id::text as author
       from statuses s join follows f on f.target_account_id = s.account_id and f.notify
      where s.id = $1::bigint and s.reblog_of_id is null
        and (s.in_reply_to_id is null or s.in_reply_to_account_id = s.account_id)
        and f.account_id = any($2::bigint[])`,
    [statusId, recipients],
  );
  for (const row of rows) {
    await notify(ctx, {
      type: 'status',
      recipientAccountId: row.follower,
      fromAccountId: row.author,
      statusId,
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
  }>(
    `select s.visibility, s.reblog_of_id::text as reblog_of_id, a.domain is null as local,
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
    // Media attachments do not exist yet; once they do, this says whether the status had any.
    withMedia: false,
  };
}
