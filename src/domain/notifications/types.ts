/** The notification types this server produces (Mastodon's, without the admin and moderation ones yet). */
export const NOTIFICATION_TYPES = [
  'mention',
  'status',
  'reblog',
  'follow',
  'follow_request',
  'favourite',
  'poll',
  'update',
] as const;

export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export function isNotificationType(value: unknown): value is NotificationType {
  return typeof value === 'string' && (NOTIFICATION_TYPES as readonly string[]).includes(value);
}

/** Types a recipient's policy may filter (Mastodon's `filterable`); the others always arrive. */
export const FILTERABLE_TYPES: ReadonlySet<NotificationType> = new Set([
  'mention',
  'reblog',
  'follow',
  'follow_request',
  'favourite',
]);

/** Types that share a group key when they concern the same thing within hours (Mastodon's list). */
export const GROUPABLE_TYPES: ReadonlySet<NotificationType> = new Set(['favourite', 'reblog', 'follow']);

/** Types whose notification carries a status; one without its status (deleted) is not shown. */
export const STATUS_TYPES: ReadonlySet<NotificationType> = new Set([
  'mention',
  'status',
  'reblog',
  'favourite',
  'poll',
  'update',
]);

/** A stored notification as the domain hands it out. */
export interface NotificationRecord {
  id: string;
  accountId: string;
  fromAccountId: string;
  type: string;
  statusId: string | null;
  groupKey: string;
  filtered: boolean;
  createdAt: Date;
}
