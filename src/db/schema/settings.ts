import { jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** Instance settings an admin changes at run time (Mastodon keeps these in `settings` too). */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
