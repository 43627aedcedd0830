import type { Context } from '../context.ts';
import { notify } from '../notifications/notify.ts';
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
 * batch inserts it there. A status deleted before its turn is skipped. Returns how many homes took it.
 */
export async function fanOutStatus(
  ctx: Pick<Context, 'database' | 'feeds' | 'cache'>,
  statusId: string,
): Promise<number> {
  const rows = await filterForHome(
    ctx,
    `select r.id as recipient, $1::bigint as status_id from (
       select s.account_id as id from statuses s where s.id = $1::bigint
       union
       select f.account_id from follows f
       where f.target_account_id = (select account_id from statuses where id = $1::bigint)
     ) r`,
    [statusId],
  );
  const first = rows[0];
  if (first === undefined) return 0;
  const recipients = rows.map((r) => String(r.recipient));
  const added = await ctx.feeds.add(recipients, toEntry(first));
  await notifySubscribers(ctx, statusId, recipients);
  return added;
}

/**
 * `status` notifications for followers who asked for them (follow with `notify`): as Mastodon's
 * FeedInsertWorker, only for followers the status reached through the home rules, and not for
 * reblogs or replies to someone else. notify() applies mutes, blocks and the recipient's policy.
 */
async function notifySubscribers(
  ctx: Pick<Context, 'database' | 'cache'>,
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
 * its mentioned accounts'. Call it before deleting the row, or pass the author yourself.
 */
export async function removeStatusFromFeeds(
  ctx: Pick<Context, 'database' | 'feeds'>,
  status: string | { id: string; accountId: string },
): Promise<void> {
  const id = typeof status === 'string' ? status : status.id;
  const rows = await ctx.database.query<{ id: string }>(
    `with author as (select coalesce($2::bigint, (select account_id from statuses where id = $1::bigint)) as id)
     select a.id::text as id from accounts a where a.domain is null and a.id in (
       select id from author
       union select f.account_id from follows f where f.target_account_id = (select id from author)
       union select m.account_id from mentions m where m.status_id = $1::bigint)`,
    [id, typeof status === 'string' ? null : status.accountId],
  );
  await ctx.feeds.remove(
    rows.map((r) => String(r.id)),
    [id],
  );
}
