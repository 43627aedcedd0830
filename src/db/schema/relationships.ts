import { boolean, index, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { idColumn } from '../ids.ts';
import { accounts } from './accounts.ts';

/** Every relationship is an edge from `account_id` to `target_account_id`, one per pair. */
const edgeColumns = () => ({
  id: idColumn('id').primaryKey(),
  accountId: idColumn('account_id')
    .notNull()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  targetAccountId: idColumn('target_account_id')
    .notNull()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

const followColumns = () => ({
  ...edgeColumns(),
  /** Show this account's reblogs in the follower's home. */
  showReblogs: boolean('show_reblogs').notNull().default(true),
  /** Notify the follower of each new status. */
  notify: boolean('notify').notNull().default(false),
  /** Only statuses in these languages reach the follower's home (null: all). */
  languages: text('languages').array(),
  uri: text('uri'),
});

export const follows = pgTable('follows', followColumns(), (t) => [
  uniqueIndex('follows_pair_idx').on(t.accountId, t.targetAccountId),
  index('follows_target_idx').on(t.targetAccountId, t.id),
]);

export const followRequests = pgTable('follow_requests', followColumns(), (t) => [
  uniqueIndex('follow_requests_pair_idx').on(t.accountId, t.targetAccountId),
  index('follow_requests_target_idx').on(t.targetAccountId, t.id),
]);

export const blocks = pgTable('blocks', { ...edgeColumns(), uri: text('uri') }, (t) => [
  uniqueIndex('blocks_pair_idx').on(t.accountId, t.targetAccountId),
  index('blocks_target_idx').on(t.targetAccountId, t.id),
]);

export const mutes = pgTable(
  'mutes',
  {
    ...edgeColumns(),
    hideNotifications: boolean('hide_notifications').notNull().default(true),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('mutes_pair_idx').on(t.accountId, t.targetAccountId),
    index('mutes_target_idx').on(t.targetAccountId, t.id),
  ],
);

/** Endorsed ("featured") accounts on a profile. */
export const accountPins = pgTable('account_pins', edgeColumns(), (t) => [
  uniqueIndex('account_pins_pair_idx').on(t.accountId, t.targetAccountId),
  index('account_pins_target_idx').on(t.targetAccountId, t.id),
]);

/** A private note about another account. */
export const accountNotes = pgTable(
  'account_notes',
  { ...edgeColumns(), comment: text('comment').notNull().default('') },
  (t) => [uniqueIndex('account_notes_pair_idx').on(t.accountId, t.targetAccountId)],
);
