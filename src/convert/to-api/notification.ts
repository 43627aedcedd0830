import type { NotificationPolicy, PolicySummary } from '../../domain/notifications/policy.ts';
import type { NotificationGroup } from '../../domain/notifications/queries.ts';
import type { NotificationRequestRecord } from '../../domain/notifications/requests.ts';
import {
  type NotificationRecord,
  type NotificationType,
  STATUS_TYPES,
} from '../../domain/notifications/types.ts';

type Entity = Record<string, unknown>;

declare global {
  interface JSON {
    /** Node 21+: a value JSON.stringify writes as the given JSON text (ES2025 typings not yet in lib). */
    rawJSON(text: string): unknown;
  }
}

const hasStatus = (type: string) => STATUS_TYPES.has(type as NotificationType);

/**
 * A 64-bit id as a JSON number with every digit kept. Mastodon sends a group's
 * `most_recent_notification_id` as a number (clients compare it with string ids); a JavaScript
 * number would round ids beyond 2^53, so the digits are written as they are.
 */
function exactNumber(id: string): unknown {
  return JSON.rawJSON(id);
}

/**
 * The Notification entity (REST::NotificationSerializer). `accounts` and `statuses` hold the
 * serialized entities by id; a notification whose account or status cannot be shown is left out
 * (null), as its cause is gone.
 */
export function serializeNotification(
  n: NotificationRecord,
  accounts: ReadonlyMap<string, Entity>,
  statuses: ReadonlyMap<string, Entity>,
): Entity | null {
  const account = accounts.get(n.fromAccountId);
  if (account === undefined) return null;
  const entity: Entity = {
    id: n.id,
    type: n.type,
    created_at: n.createdAt.toISOString(),
    group_key: n.groupKey,
  };
  if (n.filtered) entity.filtered = true;
  entity.account = account;
  if (hasStatus(n.type)) {
    const status = n.statusId === null ? undefined : statuses.get(n.statusId);
    if (status === undefined) return null;
    entity.status = status;
  }
  return entity;
}

/** A NotificationGroup (REST::NotificationGroupSerializer); page fields only on paginated lists. */
export function serializeNotificationGroup(group: NotificationGroup): Entity {
  const n = group.notification;
  const entity: Entity = {
    group_key: group.groupKey,
    notifications_count: group.notificationsCount,
    type: n.type,
    most_recent_notification_id: exactNumber(group.mostRecentNotificationId),
  };
  if (group.pagination) {
    entity.page_min_id = group.pagination.minId;
    entity.page_max_id = group.mostRecentNotificationId;
    entity.latest_page_notification_at = group.pagination.latestNotificationAt.toISOString();
  }
  entity.sample_account_ids = group.sampleAccountIds;
  if (hasStatus(n.type)) entity.status_id = n.statusId;
  return entity;
}

/** The few account fields of `partial_accounts` (REST::PartialAccountSerializer). */
export function serializePartialAccount(account: Entity): Entity {
  return {
    id: account.id,
    acct: account.acct,
    locked: account.locked,
    bot: account.bot,
    url: account.url,
    avatar: account.avatar,
    avatar_static: account.avatar_static,
  };
}

function summary(s: PolicySummary) {
  return {
    pending_requests_count: s.pendingRequestsCount,
    pending_notifications_count: s.pendingNotificationsCount,
  };
}

/** NotificationPolicy, v2 shape (REST::NotificationPolicySerializer, 4.5). */
export function serializePolicy(policy: NotificationPolicy, s: PolicySummary): Entity {
  return {
    for_not_following: policy.forNotFollowing,
    for_not_followers: policy.forNotFollowers,
    for_new_accounts: policy.forNewAccounts,
    for_private_mentions: policy.forPrivateMentions,
    for_limited_accounts: policy.forLimitedAccounts,
    summary: summary(s),
  };
}

/** NotificationPolicy, v1 shape: a category filters unless it accepts. */
export function serializePolicyV1(policy: NotificationPolicy, s: PolicySummary): Entity {
  return {
    filter_not_following: policy.forNotFollowing !== 'accept',
    filter_not_followers: policy.forNotFollowers !== 'accept',
    filter_new_accounts: policy.forNewAccounts !== 'accept',
    filter_private_mentions: policy.forPrivateMentions !== 'accept',
    summary: summary(s),
  };
}

/** NotificationRequest (REST::NotificationRequestSerializer): the count is a string, as Mastodon's. */
export function serializeNotificationRequest(
  request: NotificationRequestRecord,
  account: Entity,
  lastStatus: Entity | null,
): Entity {
  return {
    id: request.id,
    created_at: request.createdAt.toISOString(),
    updated_at: request.updatedAt.toISOString(),
    notifications_count: String(request.notificationsCount),
    account,
    last_status: lastStatus,
  };
}
