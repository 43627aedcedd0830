import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { idColumn } from '../ids.ts';

/**
 * The embedded shape's durable job queue (the scaled shape uses BullMQ on Redis instead). A job is
 * `waiting` (due at run_at; "delayed" while run_at is in the future), `active` (leased by a worker
 * until locked_until), `completed` (kept briefly, like BullMQ's removeOnComplete) or `dead` (out of
 * attempts, kept for inspection and retry).
 */
export const jobs = pgTable(
  'jobs',
  {
    id: idColumn('id').primaryKey(),
    queue: text('queue').notNull(),
    name: text('name').notNull(),
    data: jsonb('data').notNull(),
    /** Caller-chosen id: enqueueing a key that is already present adds nothing. */
    key: text('key'),
    state: text('state').notNull().default('waiting'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(1),
    backoffMs: integer('backoff_ms').notNull().default(1000),
    runAt: timestamp('run_at', { withTimezone: true }).notNull().defaultNow(),
    lockedBy: text('locked_by'),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('jobs_queue_key_idx').on(t.queue, t.key),
    index('jobs_due_idx').on(t.queue, t.runAt, t.id).where(sql`state = 'waiting'`),
    index('jobs_state_idx').on(t.queue, t.state),
    check('jobs_state_check', sql`${t.state} in ('waiting', 'active', 'completed', 'dead')`),
  ],
);
