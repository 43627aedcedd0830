import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { idColumn } from '../ids.ts';
import { accounts } from './accounts.ts';
import { scheduledStatuses, statuses } from './statuses.ts';

/**
 * Media attachments, local uploads and remote files alike. A local upload is stored unattached,
 * then attached once, to one status (or a scheduled one) of its uploader. A remote attachment keeps
 * its `remote_url` forever; its files are a cache, fetched lazily and dropped by housekeeping.
 *
 * Keys are storage keys (infra/storage), never URLs: the URL follows from the configured storage,
 * so moving media to a bucket or behind a CDN needs no rewrite of rows.
 */
export const mediaAttachments = pgTable(
  'media_attachments',
  {
    id: idColumn('id').primaryKey(),
    accountId: idColumn('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    /** Kept when the status goes (delete-and-redraft re-attaches it); housekeeping removes orphans. */
    statusId: idColumn('status_id').references(() => statuses.id, { onDelete: 'set null' }),
    scheduledStatusId: idColumn('scheduled_status_id').references(() => scheduledStatuses.id, {
      onDelete: 'set null',
    }),
    /** image | gifv | video | audio | unknown */
    type: text('type').notNull(),
    /** queued | in_progress | complete | failed */
    processing: text('processing').notNull().default('complete'),
    /** Why processing failed, for the uploader and the operator. */
    processingError: text('processing_error'),
    /** The stored original (the raw upload until processing replaces it); null when not cached. */
    fileKey: text('file_key'),
    fileContentType: text('file_content_type'),
    fileSize: integer('file_size'),
    /** The `small` preview (an image), when there is one. */
    smallKey: text('small_key'),
    fileUpdatedAt: timestamp('file_updated_at', { withTimezone: true }),
    /** A custom thumbnail (uploaded with a video or audio file, or the cover art of audio). */
    thumbnailKey: text('thumbnail_key'),
    thumbnailContentType: text('thumbnail_content_type'),
    thumbnailFileSize: integer('thumbnail_file_size'),
    thumbnailRemoteUrl: text('thumbnail_remote_url'),
    /** Where a remote attachment lives on its own server; '' for local uploads. */
    remoteUrl: text('remote_url').notNull().default(''),
    description: text('description'),
    blurhash: text('blurhash'),
    /** Mastodon's `meta`: original / small / focus / colors, as the API shows it. */
    fileMeta: jsonb('file_meta').notNull().default(sql`'{}'::jsonb`),
    /** Local uploads' stable public link (`/media/:shortcode`); null for remote attachments. */
    shortcode: text('shortcode'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('media_attachments_status_idx').on(t.statusId),
    index('media_attachments_scheduled_status_idx').on(t.scheduledStatusId),
    index('media_attachments_account_idx').on(t.accountId, t.id),
    uniqueIndex('media_attachments_shortcode_idx').on(t.shortcode),
    // Housekeeping: unattached uploads, and cached remote files by age.
    index('media_attachments_unattached_idx')
      .on(t.id)
      .where(sql`status_id is null and scheduled_status_id is null`),
    index('media_attachments_remote_cached_idx')
      .on(t.id)
      .where(sql`remote_url <> '' and file_key is not null`),
  ],
);
