import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { idColumn } from '../ids.ts';
import { accounts } from './accounts.ts';

/**
 * Notifications: `account_id` is the recipient, `from_account_id` who caused it. `group_key` is
 * Mastodon's (`<type>-<status id>-<hour bucket>` for groupable types, `ungrouped-<id>` otherwise).
 * Filtered notifications (by the recipient's policy) wait in notification requests.
 */
export const notifications = pgTable(
  'notifications',
  {
    id: idColumn('id').primaryKey(),
    accountId: idColumn('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    fromAccountId: idColumn('from_account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    statusId: idColumn('status_id'),
    groupKey: text('group_key').notNull(),
    filtered: boolean('filtered').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('notifications_account_idx').on(t.accountId, t.id),
    index('notifications_group_idx').on(t.accountId, t.groupKey, t.id),
    index('notifications_status_idx').on(t.statusId),
    index('notifications_unfiltered_idx').on(t.accountId, t.id).where(sql`not filtered`),
  ],
);

/** Mastodon 4.3+ notification policy: accept | filter | drop per category. */
export const notificationPolicies = pgTable('notification_policies', {
  accountId: idColumn('account_id')
    .primaryKey()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  forNotFollowing: text('for_not_following').notNull().default('accept'),
  forNotFollowers: text('for_not_followers').notNull().default('accept'),
  forNewAccounts: text('for_new_accounts').notNull().default('accept'),
  forPrivateMentions: text('for_private_mentions').notNull().default('filter'),
  forLimitedAccounts: text('for_limited_accounts').notNull().default('filter'),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Filtered notifications, gathered per sender until the recipient accepts or dismisses them. */
export const notificationRequests = pgTable(
  'notification_requests',
  {
    id: idColumn('id').primaryKey(),
    accountId: idColumn('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    fromAccountId: idColumn('from_account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    lastStatusId: idColumn('last_status_id'),
    notificationsCount: integer('notifications_count').notNull().default(0),
    dismissed: boolean('dismissed').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('notification_requests_pair_idx').on(t.accountId, t.fromAccountId)],
);

/** Senders a recipient accepted: their notifications are never filtered again. */
export const notificationPermissions = pgTable(
  'notification_permissions',
  {
    accountId: idColumn('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    fromAccountId: idColumn('from_account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.fromAccountId] })],
);

/**
 * The embedded shape's home feeds (the scaled shape keeps them in Redis sorted sets): the newest
 * 800 entries per account. `status_id` is what the timeline shows (a reblog's own id);
 * `reblog_of_id` lets a second reblog of the same status be skipped.
 */
export const homeFeedEntries = pgTable(
  'home_feed_entries',
  {
    accountId: idColumn('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    statusId: idColumn('status_id').notNull(),
    reblogOfId: idColumn('reblog_of_id'),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.statusId] }),
    index('home_feed_entries_reblog_idx').on(t.accountId, t.reblogOfId),
  ],
);

/** Per-account counters, apart from `accounts` so that busy counters do not rewrite profile rows. */
export const accountStats = pgTable('account_stats', {
  accountId: idColumn('account_id')
    .primaryKey()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  statusesCount: integer('statuses_count').notNull().default(0),
  followingCount: integer('following_count').notNull().default(0),
  followersCount: integer('followers_count').notNull().default(0),
  lastStatusAt: timestamp('last_status_at', { withTimezone: true }),
});
