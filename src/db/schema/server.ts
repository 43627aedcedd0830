import { sql } from 'drizzle-orm';
import { boolean, check, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * One row: facts fixed when the database was created. LOCAL_DOMAIN is baked into every URI the server
 * publishes, so a later start with another LOCAL_DOMAIN is refused instead of silently breaking
 * every account's identity.
 */
export const serverIdentity = pgTable(
  'server_identity',
  {
    singleton: boolean('singleton').primaryKey().default(true),
    localDomain: text('local_domain').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('server_identity_singleton', sql`${t.singleton}`)],
);
