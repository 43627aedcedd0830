import type { Context } from '../context.ts';
import { notify } from '../notifications/notify.ts';
import { filterForHome, toEntry } from './home-filter.ts';

/**
 * Fan-out on write (mastodon.md §9): a new status goes into its author's home and into the home of
 * every local account that follows the author and passes the home rules (home-filter.ts), through
 * a `default` queue job so that posting does not wait for thousands of inserts. The jobs are
 * enqueued by the statuses area under their names (src/domain/statuses/store.ts: DISTRIBUTE_JOB,
 * DISTRIBUTE_UPDATE_JOB) and run here: timelines depends on statuses, never the reverse. A
 * deleted status leaves the feeds through src/domain/statuses/delete.ts.
 */

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
