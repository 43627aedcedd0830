import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { idColumn } from '../ids.ts';

/**
 * An account is an identity on the network, local or remote (`domain` null for local ones); a user
 * is a local login that owns exactly one account. Mastodon splits them the same way, which keeps
 * remote accounts free of login columns.
 */
export const accounts = pgTable(
  'accounts',
  {
    id: idColumn('id').primaryKey(),
    username: text('username').notNull(),
    /** Null for local accounts. */
    domain: text('domain'),
    displayName: text('display_name').notNull().default(''),
    /** Local: the plain text the user wrote (rendered on output). Remote: sanitized HTML. */
    note: text('note').notNull().default(''),
    /** Profile metadata: [{name, value, verified_at}] (at most 4 for local accounts). */
    fields: jsonb('fields').notNull().default(sql`'[]'::jsonb`),
    locked: boolean('locked').notNull().default(false),
    bot: boolean('bot').notNull().default(false),
    discoverable: boolean('discoverable'),
    indexable: boolean('indexable').notNull().default(false),
    hideCollections: boolean('hide_collections'),
    memorial: boolean('memorial').notNull().default(false),
    // Avatar and header: storage keys (the static key is a still frame of an animated image), and the
    // remote URL a remote account's image is cached from. See db/schema/media.ts on keys.
    avatarKey: text('avatar_key'),
    avatarStaticKey: text('avatar_static_key'),
    avatarContentType: text('avatar_content_type'),
    avatarFileSize: integer('avatar_file_size'),
    avatarRemoteUrl: text('avatar_remote_url').notNull().default(''),
    avatarUpdatedAt: timestamp('avatar_updated_at', { withTimezone: true }),
    headerKey: text('header_key'),
    headerStaticKey: text('header_static_key'),
    headerContentType: text('header_content_type'),
    headerFileSize: integer('header_file_size'),
    headerRemoteUrl: text('header_remote_url').notNull().default(''),
    headerUpdatedAt: timestamp('header_updated_at', { withTimezone: true }),
    uri: text('uri').notNull().default(''),
    url: text('url'),
    suspendedAt: timestamp('suspended_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // Usernames are unique without regard to case, per domain (local: domain null).
    uniqueIndex('accounts_username_domain_idx').on(
      sql`lower(${t.username})`,
      sql`coalesce(lower(${t.domain}), '')`,
    ),
    index('accounts_uri_idx').on(t.uri),
  ],
);

/** Mastodon's roles: permissions are a bit field; position orders them (higher can manage lower). */
export const userRoles = pgTable('user_roles', {
  id: idColumn('id').primaryKey(),
  name: text('name').notNull(),
  color: text('color').notNull().default(''),
  permissions: bigint('permissions', { mode: 'number' }).notNull().default(0),
  position: integer('position').notNull().default(0),
  highlighted: boolean('highlighted').notNull().default(false),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const users = pgTable(
  'users',
  {
    id: idColumn('id').primaryKey(),
    accountId: idColumn('account_id')
      .notNull()
      .references(() => accounts.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    /** bcrypt, as Mastodon's, so users moved from Mastodon keep their passwords. */
    encryptedPassword: text('encrypted_password').notNull(),
    confirmedAt: timestamp('confirmed_at', { withTimezone: true }),
    /** SHA-256 of the e-mailed confirmation token. */
    confirmationTokenHash: text('confirmation_token_hash'),
    confirmationSentAt: timestamp('confirmation_sent_at', { withTimezone: true }),
    /** A changed address waiting for confirmation; `email` stays until then. */
    unconfirmedEmail: text('unconfirmed_email'),
    resetPasswordTokenHash: text('reset_password_token_hash'),
    resetPasswordSentAt: timestamp('reset_password_sent_at', { withTimezone: true }),
    approved: boolean('approved').notNull().default(true),
    disabled: boolean('disabled').notNull().default(false),
    locale: text('locale'),
    roleId: idColumn('role_id').references(() => userRoles.id, { onDelete: 'set null' }),
    /** Why the applicant wants to join (approval-required registrations). */
    reason: text('reason'),
    otpRequiredForLogin: boolean('otp_required_for_login').notNull().default(false),
    /** TOTP secret, encrypted at rest (src/domain/crypto/encryption.ts). */
    otpSecretEncrypted: text('otp_secret_encrypted'),
    /** Hashes of the unused recovery codes. */
    otpBackupCodes: text('otp_backup_codes').array(),
    /** Posting and reading preferences (Mastodon's user settings). */
    settings: jsonb('settings').notNull().default(sql`'{}'::jsonb`),
    signUpIp: text('sign_up_ip'),
    currentSignInAt: timestamp('current_sign_in_at', { withTimezone: true }),
    lastSignInAt: timestamp('last_sign_in_at', { withTimezone: true }),
    createdByApplicationId: idColumn('created_by_application_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('users_account_id_idx').on(t.accountId),
    uniqueIndex('users_email_idx').on(sql`lower(${t.email})`),
    uniqueIndex('users_confirmation_token_idx').on(t.confirmationTokenHash),
    uniqueIndex('users_reset_password_token_idx').on(t.resetPasswordTokenHash),
  ],
);
