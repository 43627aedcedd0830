import { index, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { idColumn } from '../ids.ts';
import { users } from './accounts.ts';

/**
 * OAuth 2 as Mastodon's Doorkeeper set-up: every app is a confidential client; codes live 10
 * minutes and are single use; access tokens never expire but can be revoked. Secrets, codes and
 * tokens are stored as SHA-256 hashes: a database leak does not leak credentials.
 */
export const oauthApplications = pgTable(
  'oauth_applications',
  {
    id: idColumn('id').primaryKey(),
    name: text('name').notNull(),
    /** client_id (public). */
    uid: text('uid').notNull(),
    secretHash: text('secret_hash').notNull(),
    /** Newline-separated, as Doorkeeper stores them. */
    redirectUri: text('redirect_uri').notNull(),
    /** Space-separated. */
    scopes: text('scopes').notNull().default('read'),
    website: text('website'),
    /** Set for apps made by `woolly accounts token` or a user's development page. */
    ownerUserId: idColumn('owner_user_id').references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('oauth_applications_uid_idx').on(t.uid)],
);

export const oauthAccessGrants = pgTable(
  'oauth_access_grants',
  {
    id: idColumn('id').primaryKey(),
    tokenHash: text('token_hash').notNull(),
    applicationId: idColumn('application_id')
      .notNull()
      .references(() => oauthApplications.id, { onDelete: 'cascade' }),
    userId: idColumn('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    redirectUri: text('redirect_uri').notNull(),
    scopes: text('scopes').notNull(),
    codeChallenge: text('code_challenge'),
    codeChallengeMethod: text('code_challenge_method'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('oauth_access_grants_token_idx').on(t.tokenHash)],
);

export const oauthAccessTokens = pgTable(
  'oauth_access_tokens',
  {
    id: idColumn('id').primaryKey(),
    tokenHash: text('token_hash').notNull(),
    applicationId: idColumn('application_id').references(() => oauthApplications.id, { onDelete: 'cascade' }),
    /** Null for client_credentials tokens (the app acting for itself). */
    userId: idColumn('user_id').references(() => users.id, { onDelete: 'cascade' }),
    scopes: text('scopes').notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('oauth_access_tokens_token_idx').on(t.tokenHash),
    index('oauth_access_tokens_user_idx').on(t.userId),
  ],
);

/** Signed-in browser sessions (the sign-in, consent and settings pages). */
export const webSessions = pgTable(
  'web_sessions',
  {
    id: idColumn('id').primaryKey(),
    /** SHA-256 of the cookie's value. */
    tokenHash: text('token_hash').notNull(),
    userId: idColumn('user_id').references(() => users.id, { onDelete: 'cascade' }),
    /** Set between password and second factor: the user is not signed in yet. */
    pendingOtpUserId: idColumn('pending_otp_user_id').references(() => users.id, { onDelete: 'cascade' }),
    /** Per-session CSRF secret for the forms. */
    csrfToken: text('csrf_token').notNull(),
    userAgent: text('user_agent'),
    ip: text('ip'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('web_sessions_token_idx').on(t.tokenHash), index('web_sessions_user_idx').on(t.userId)],
);
