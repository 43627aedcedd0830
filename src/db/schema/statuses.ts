import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { idColumn } from '../ids.ts';
import { accounts } from './accounts.ts';
import { oauthApplications } from './oauth.ts';

/**
 * Statuses (posts), local and remote. A reblog is a status with `reblog_of_id` and no text. Deleted
 * statuses are removed (with their favourites, mentions, …) — Mastodon's soft delete exists only to
 * let remote Delete activities arrive late, which federation will handle with tombstones.
 */
export const statuses = pgTable(
  'statuses',
  {
    id: idColumn('id').primaryKey(),
    accountId: idColumn('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    uri: text('uri').notNull(),
    url: text('url'),
    /** Local: the source text as written. Remote: empty (content is the HTML). */
    text: text('text').notNull().default(''),
    /** The HTML clients get (local: rendered from text when written; remote: sanitized). */
    content: text('content').notNull().default(''),
    spoilerText: text('spoiler_text').notNull().default(''),
    /** public | unlisted | private | direct */
    visibility: text('visibility').notNull(),
    sensitive: boolean('sensitive').notNull().default(false),
    language: text('language'),
    inReplyToId: idColumn('in_reply_to_id'),
    inReplyToAccountId: idColumn('in_reply_to_account_id'),
    reblogOfId: idColumn('reblog_of_id'),
    /** The thread: replies share their root's conversation (muting a thread mutes this). */
    conversationId: idColumn('conversation_id'),
    applicationId: idColumn('application_id').references(() => oauthApplications.id, {
      onDelete: 'set null',
    }),
    local: boolean('local').notNull().default(true),
    pollId: idColumn('poll_id'),
    /** The attachments in the order the author gave them (media_attachments rows hold the rest). */
    orderedMediaAttachmentIds: idColumn('ordered_media_attachment_ids').array(),
    repliesCount: integer('replies_count').notNull().default(0),
    reblogsCount: integer('reblogs_count').notNull().default(0),
    favouritesCount: integer('favourites_count').notNull().default(0),
    editedAt: timestamp('edited_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('statuses_uri_idx').on(t.uri),
    index('statuses_account_idx').on(t.accountId, t.id),
    index('statuses_reply_idx').on(t.inReplyToId),
    index('statuses_reblog_idx').on(t.reblogOfId, t.accountId),
    index('statuses_conversation_idx').on(t.conversationId),
    // Public timelines read newest public, non-reblog statuses: a partial index keeps that cheap.
    index('statuses_public_idx').on(t.id).where(sql`visibility = 'public' and reblog_of_id is null`),
  ],
);

/** Accounts mentioned by a status (silent: mentioned in the text but not notified, as for edits). */
export const mentions = pgTable(
  'mentions',
  {
    id: idColumn('id').primaryKey(),
    statusId: idColumn('status_id')
      .notNull()
      .references(() => statuses.id, { onDelete: 'cascade' }),
    accountId: idColumn('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    silent: boolean('silent').notNull().default(false),
  },
  (t) => [
    uniqueIndex('mentions_status_account_idx').on(t.statusId, t.accountId),
    index('mentions_account_idx').on(t.accountId, t.statusId),
  ],
);

/** Hashtags, by their normalised name (lower case, NFKC); `display_name` keeps the first spelling. */
export const tags = pgTable(
  'tags',
  {
    id: idColumn('id').primaryKey(),
    name: text('name').notNull(),
    displayName: text('display_name').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('tags_name_idx').on(t.name)],
);

export const statusTags = pgTable(
  'statuses_tags',
  {
    statusId: idColumn('status_id')
      .notNull()
      .references(() => statuses.id, { onDelete: 'cascade' }),
    tagId: idColumn('tag_id')
      .notNull()
      .references(() => tags.id, { onDelete: 'cascade' }),
  },
  (t) => [
    primaryKey({ columns: [t.statusId, t.tagId] }),
    index('statuses_tags_tag_idx').on(t.tagId, t.statusId),
  ],
);

/** One row per earlier version of an edited status (the current version is the status itself). */
export const statusEdits = pgTable(
  'status_edits',
  {
    id: idColumn('id').primaryKey(),
    statusId: idColumn('status_id')
      .notNull()
      .references(() => statuses.id, { onDelete: 'cascade' }),
    accountId: idColumn('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    text: text('text').notNull(),
    content: text('content').notNull(),
    spoilerText: text('spoiler_text').notNull().default(''),
    sensitive: boolean('sensitive').notNull().default(false),
    pollOptions: text('poll_options').array(),
    /** The attachments this version showed, in order, and their descriptions at the time. */
    orderedMediaAttachmentIds: idColumn('ordered_media_attachment_ids').array(),
    mediaDescriptions: text('media_descriptions').array(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('status_edits_status_idx').on(t.statusId, t.id)],
);

const accountStatusPair = (name: string) =>
  pgTable(
    name,
    {
      id: idColumn('id').primaryKey(),
      accountId: idColumn('account_id')
        .notNull()
        .references(() => accounts.id, { onDelete: 'cascade' }),
      statusId: idColumn('status_id')
        .notNull()
        .references(() => statuses.id, { onDelete: 'cascade' }),
      createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    },
    (t) => [
      uniqueIndex(`${name}_account_status_idx`).on(t.accountId, t.statusId),
      index(`${name}_status_idx`).on(t.statusId, t.id),
    ],
  );

export const favourites = accountStatusPair('favourites');
export const bookmarks = accountStatusPair('bookmarks');
export const statusPins = accountStatusPair('status_pins');

/** Threads a user muted: no notifications from them. */
export const conversationMutes = pgTable(
  'conversation_mutes',
  {
    accountId: idColumn('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    conversationId: idColumn('conversation_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.conversationId] })],
);

export const polls = pgTable('polls', {
  id: idColumn('id').primaryKey(),
  accountId: idColumn('account_id')
    .notNull()
    .references(() => accounts.id, { onDelete: 'cascade' }),
  statusId: idColumn('status_id'),
  options: text('options').array().notNull(),
  /** Votes per option, kept beside the votes for cheap reads. */
  votesPerOption: integer('votes_per_option').array().notNull(),
  multiple: boolean('multiple').notNull().default(false),
  hideTotals: boolean('hide_totals').notNull().default(false),
  votesCount: integer('votes_count').notNull().default(0),
  votersCount: integer('voters_count').notNull().default(0),
  expiresAt: timestamp('expires_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const pollVotes = pgTable(
  'poll_votes',
  {
    id: idColumn('id').primaryKey(),
    pollId: idColumn('poll_id')
      .notNull()
      .references(() => polls.id, { onDelete: 'cascade' }),
    accountId: idColumn('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    choice: integer('choice').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('poll_votes_poll_account_choice_idx').on(t.pollId, t.accountId, t.choice)],
);

/** Statuses to publish later (`scheduled_at`); `params` are the creation parameters, validated. */
export const scheduledStatuses = pgTable(
  'scheduled_statuses',
  {
    id: idColumn('id').primaryKey(),
    accountId: idColumn('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    scheduledAt: timestamp('scheduled_at', { withTimezone: true }).notNull(),
    params: jsonb('params').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('scheduled_statuses_due_idx').on(t.scheduledAt),
    index('scheduled_statuses_account_idx').on(t.accountId, t.id),
  ],
);
