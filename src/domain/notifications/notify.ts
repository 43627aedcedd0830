import { and, eq, inArray, sql } from 'drizzle-orm';
import { newId } from '../../db/ids.ts';
import { notificationRequests, notifications } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { canViewStatus } from '../visibility/visibility.ts';
import { getPolicy, type NotificationPolicy, type PolicyAction } from './policy.ts';
import {
  FILTERABLE_TYPES,
  GROUPABLE_TYPES,
  type NotificationRecord,
  type NotificationType,
} from './types.ts';

export interface NotifyInput {
  type: NotificationType;
  /** Who gets the notification (a local account; others are ignored). */
  recipientAccountId: string;
  /** Who caused it: the author, the follower, the one who favourited… */
  fromAccountId: string;
  /**
   * The status it is about: the mentioning status (mention), the new status (status), the status
   * reblogged or favourited (reblog, favourite — the original, not the reblog), the poll's status
   * (poll), the edited status (update). Absent for follow and follow_request.
   */
  statusId?: string | null;
}

/** Mastodon's thresholds: accounts younger than this are "new"; followers younger are not yet followers. */
const NEW_ACCOUNT_DAYS = 30;
const NEW_FOLLOWER_DAYS = 3;
/** A group keeps its hour bucket while new notifications come within this many hours of it. */
const MAX_GROUP_SPAN_HOURS = 12;
/** Counts in notification requests stop here, as Mastodon's. */
const MAX_MEANINGFUL_COUNT = 100;

type Ctx = Pick<Context, 'database' | 'cache' | 'streams'>;
type DbCtx = Pick<Context, 'database'>;

interface Facts {
  recipient_local: boolean;
  recipient_suspended: boolean;
  /** Either blocks the other (a block is never crossed, whoever made it). */
  blocking: boolean;
  muting_notifications: boolean;
  following: boolean;
  /** The sender has followed the recipient for at least three days. */
  established_follower: boolean;
  new_account: boolean;
  sender_exists: boolean;
}

interface StatusFacts {
  id: string;
  account_id: string;
  reblog_of_id: string | null;
  visibility: string;
  conversation_muted: boolean;
  /** The recipient blocks, or mutes with notifications, someone the status mentions or replies to. */
  blocked_mention: boolean;
  /** A direct reply within a private conversation the recipient started with the sender. */
  response_to_recipient: boolean;
}

/**
 * Creates a notification as Mastodon's NotifyService does: dropped when it is about oneself (polls
 * excepted), when the recipient blocks the sender, mutes their notifications or muted the thread,
 * or when the policy says `drop`; stored as `filtered` (waiting in a notification request for
 * mentions) when the policy says `filter` and the sender was not accepted before. Returns the
 * notification, or null when none was made.
 */
export async function notify(ctx: Ctx, input: NotifyInput): Promise<NotificationRecord | null> {
  const { type, recipientAccountId: recipient, fromAccountId: sender } = input;
  const statusId = input.statusId ?? null;
  if (recipient === sender && type !== 'poll') return null;

  const facts = await loadFacts(ctx, recipient, sender);
  if (!facts?.recipient_local || facts.recipient_suspended || !facts.sender_exists) return null;
  if (facts.blocking || facts.muting_notifications) return null;

  const status =
    statusId === null ? null : ((await loadStatusFacts(ctx, recipient, sender, statusId, type)) ?? null);
  if (statusId !== null && status === null) return null; // the status is gone already
  if (status?.conversation_muted) return null;
  // Only about what the recipient may see (a mention in a direct status reaches the mentioned only).
  if (
    status &&
    !(await canViewStatus(ctx, recipient, {
      id: status.id,
      accountId: status.account_id,
      visibility: status.visibility,
      reblogOfId: status.reblog_of_id,
    }))
  )
    return null;
  if (type === 'mention' && status?.blocked_mention) return null;

  let filtered = false;
  if (FILTERABLE_TYPES.has(type) && !(await hasPermission(ctx, recipient, sender))) {
    const policy = await getPolicy(ctx, recipient);
    const action = policyAction(policy, facts, type, status);
    if (action === 'drop') return null;
    filtered = action === 'filter';
  }

  const id = newId();
  const groupKey =
    filtered || !GROUPABLE_TYPES.has(type)
      ? `ungrouped-${id}`
      : await groupKeyFor(ctx, recipient, type, statusId);
  const [row] = await ctx.database.db
    .insert(notifications)
    .values({ id, accountId: recipient, fromAccountId: sender, type, statusId, groupKey, filtered })
    .returning();
  if (!row) return null;

  // Mastodon's push_notification!: a filtered one waits in its request, an unfiltered one streams.
  if (filtered) {
    if (type === 'mention') await updateRequest(ctx, recipient, sender, statusId);
  } else {
    await ctx.streams.notification(row);
  }
  return row;
}

/**
 * The strictest action among the policy categories the sender falls in ("drop" over "filter" over
 * "accept"). "Limited accounts" never applies yet: accounts cannot be limited (silenced) until
 * moderation arrives.
 */
function policyAction(
  policy: NotificationPolicy,
  facts: Facts,
  type: NotificationType,
  status: StatusFacts | null,
): PolicyAction {
  const applies: PolicyAction[] = [];
  if (!facts.following) applies.push(policy.forNotFollowing);
  if (!facts.established_follower) applies.push(policy.forNotFollowers);
  if (facts.new_account && !facts.following) applies.push(policy.forNewAccounts);
  const privateMention =
    type === 'mention' && status !== null && status.visibility === 'direct' && !status.response_to_recipient;
  if (privateMention && !facts.following) applies.push(policy.forPrivateMentions);
  if (applies.includes('drop')) return 'drop';
  if (applies.includes('filter')) return 'filter';
  return 'accept';
}

async function loadFacts(ctx: Ctx, recipient: string, sender: string): Promise<Facts | undefined> {
  const [facts] = await ctx.database.query<Facts>(
    `select
       exists(select 1 from users u where u.account_id = r.id) as recipient_local,
       r.suspended_at is not null as recipient_suspended,
       exists(select 1 from blocks where (account_id = r.id and target_account_id = $2)
                or (account_id = $2 and target_account_id = r.id)) as blocking,
       exists(select 1 from mutes where account_id = r.id and target_account_id = $2
                and hide_notifications and (expires_at is null or expires_at > now())) as muting_notifications,
       exists(select 1 from follows where account_id = r.id and target_account_id = $2) as following,
       exists(select 1 from follows where account_id = $2 and target_account_id = r.id
                and created_at <= now() - interval '${NEW_FOLLOWER_DAYS} days') as established_follower,
       coalesce((select s.created_at > now() - interval '${NEW_ACCOUNT_DAYS} days' from accounts s where s.id = $2), false) as new_account,
       exists(select 1 from accounts s where s.id = $2) as sender_exists
     from accounts r where r.id = $1`,
    [recipient, sender],
  );
  return facts;
}

async function loadStatusFacts(
  ctx: Ctx,
  recipient: string,
  sender: string,
  statusId: string,
  type: NotificationType,
): Promise<StatusFacts | undefined> {
  const [facts] = await ctx.database.query<StatusFacts>(
    `select
       s.id::text, s.account_id::text, s.reblog_of_id::text, s.visibility,
       exists(select 1 from conversation_mutes cm
                where cm.account_id = $1 and cm.conversation_id = coalesce(s.conversation_id, s.id)) as conversation_muted,
       exists(select 1 from blocks b
                where b.account_id = $1
                  and (b.target_account_id = s.in_reply_to_account_id
                       or b.target_account_id in (select m.account_id from mentions m where m.status_id = s.id and not m.silent)))
       or exists(select 1 from mutes mu
                where mu.account_id = $1 and mu.hide_notifications
                  and (mu.expires_at is null or mu.expires_at > now())
                  and (mu.target_account_id = s.in_reply_to_account_id
                       or mu.target_account_id in (select m.account_id from mentions m where m.status_id = s.id and not m.silent)))
         as blocked_mention,
       false as response_to_recipient
     from statuses s where s.id = $2`,
    [recipient, statusId],
  );
  if (!facts) return undefined;
  if (type === 'mention' && facts.visibility === 'direct') {
    facts.response_to_recipient = await respondsToRecipient(ctx, recipient, sender, statusId);
  }
  return facts;
}

/**
 * Whether a direct status answers a private mention of the sender by the recipient further up the
 * thread (then the "private mentions" policy does not apply: the recipient started the exchange).
 * At most 100 ancestors are walked, so conversations with several people still qualify.
 */
async function respondsToRecipient(
  ctx: Ctx,
  recipient: string,
  sender: string,
  statusId: string,
): Promise<boolean> {
  const [row] = await ctx.database.query<{ found: boolean }>(
    `with recursive thread(id, in_reply_to_id, depth) as (
       select p.id, p.in_reply_to_id, 0
         from statuses s join statuses p on p.id = s.in_reply_to_id
        where s.id = $3
       union all
       select p.id, p.in_reply_to_id, t.depth + 1
         from thread t join statuses p on p.id = t.in_reply_to_id
        where t.depth < 100
     )
     select exists(
       select 1 from thread t
         join statuses p on p.id = t.id
         join mentions m on m.status_id = p.id and m.account_id = $2 and not m.silent
        where p.account_id = $1 and p.visibility = 'direct'
     ) as found`,
    [recipient, sender, statusId],
  );
  return row?.found === true;
}

async function hasPermission(ctx: Ctx, recipient: string, sender: string): Promise<boolean> {
  const rows = await ctx.database.query(
    'select 1 from notification_permissions where account_id = $1 and from_account_id = $2',
    [recipient, sender],
  );
  return rows.length > 0;
}

/**
 * Mastodon's group key: `<type>[-<status id>]-<hour bucket>`. The bucket of the last notification
 * with the same prefix is reused while the new one comes less than 12 hours after it, so a burst of
 * favourites stays one group even across hour boundaries. The bucket lives in the cache only (a lost
 * value starts a new group, which is harmless).
 */
async function groupKeyFor(
  ctx: Ctx,
  recipient: string,
  type: NotificationType,
  statusId: string | null,
): Promise<string> {
  const prefix = type === 'follow' ? type : `${type}-${statusId ?? ''}`;
  const cacheKey = `notif-group/${recipient}/${prefix}`;
  let bucket = Math.floor(Date.now() / 3_600_000);
  const previous = Number(await ctx.cache.get(cacheKey));
  if (Number.isInteger(previous) && previous > 0 && bucket < previous + MAX_GROUP_SPAN_HOURS)
    bucket = previous;
  await ctx.cache.set(cacheKey, String(bucket), MAX_GROUP_SPAN_HOURS * 3600);
  return `${prefix}-${bucket}`;
}

/** Filtered mentions wait in one request per sender, which shows the latest status and a count. */
async function updateRequest(
  ctx: Ctx,
  recipient: string,
  sender: string,
  statusId: string | null,
): Promise<void> {
  const count = await countFilteredMentions(ctx, recipient, sender);
  await ctx.database.db
    .insert(notificationRequests)
    .values({
      id: newId(),
      accountId: recipient,
      fromAccountId: sender,
      lastStatusId: statusId,
      notificationsCount: count,
    })
    .onConflictDoUpdate({
      target: [notificationRequests.accountId, notificationRequests.fromAccountId],
      set: { lastStatusId: statusId, notificationsCount: count, updatedAt: sql`now()` },
    });
}

async function countFilteredMentions(ctx: DbCtx, recipient: string, sender: string): Promise<number> {
  const [row] = await ctx.database.query<{ n: number | string }>(
    `select count(*)::int as n from (
       select 1 from notifications
        where account_id = $1 and from_account_id = $2 and type = 'mention' and filtered
        limit ${MAX_MEANINGFUL_COUNT}) t`,
    [recipient, sender],
  );
  return Number(row?.n ?? 0);
}

/**
 * After notifications from a sender are removed, their request keeps the new count, or goes when
 * no filtered mention is left (Mastodon's reconsider_existence!).
 */
export async function reconsiderRequests(
  ctx: DbCtx,
  pairs: readonly { accountId: string; fromAccountId: string }[],
): Promise<void> {
  const seen = new Set<string>();
  for (const { accountId, fromAccountId } of pairs) {
    const key = `${accountId}/${fromAccountId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const count = await countFilteredMentions(ctx, accountId, fromAccountId);
    const where = and(
      eq(notificationRequests.accountId, accountId),
      eq(notificationRequests.fromAccountId, fromAccountId),
    );
    if (count > 0) {
      await ctx.database.db.update(notificationRequests).set({ notificationsCount: count }).where(where);
    } else {
      await ctx.database.db.delete(notificationRequests).where(where);
    }
  }
}

export interface RemoveNotificationsInput {
  type: NotificationType;
  /** Who caused it (the one who unfavourited, unfollowed, whose reblog or request went away). */
  fromAccountId: string;
  /** Limit to one recipient (an unfollow, a withdrawn follow request). */
  recipientAccountId?: string;
  /** Limit to one status (unfavourite, unreblog: the original status). */
  statusId?: string;
}

/**
 * Withdraws notifications whose cause is undone, as Mastodon destroys a notification with its
 * favourite, follow, follow request or reblog: call it on unfavourite, unreblog, unfollow, and when
 * a follow request is authorized, rejected or withdrawn.
 */
export async function removeNotifications(ctx: DbCtx, input: RemoveNotificationsInput): Promise<void> {
  const conditions = [
    eq(notifications.type, input.type),
    eq(notifications.fromAccountId, input.fromAccountId),
  ];
  if (input.recipientAccountId !== undefined)
    conditions.push(eq(notifications.accountId, input.recipientAccountId));
  if (input.statusId !== undefined) conditions.push(eq(notifications.statusId, input.statusId));
  const removed = await ctx.database.db
    .delete(notifications)
    .where(and(...conditions))
    .returning({ accountId: notifications.accountId, fromAccountId: notifications.fromAccountId });
  if (input.type === 'mention') await reconsiderRequests(ctx, removed);
}

/**
 * Removes every notification about deleted statuses (mentions, favourites, reblogs, polls, edits of
 * them): call it when statuses are deleted, since notifications do not reference statuses by key.
 */
export async function removeStatusNotifications(ctx: DbCtx, statusIds: readonly string[]): Promise<void> {
  if (statusIds.length === 0) return;
  const removed = await ctx.database.db
    .delete(notifications)
    .where(inArray(notifications.statusId, [...statusIds]))
    .returning({
      accountId: notifications.accountId,
      fromAccountId: notifications.fromAccountId,
      type: notifications.type,
    });
  await reconsiderRequests(
    ctx,
    removed.filter((r) => r.type === 'mention'),
  );
}
