import { and, eq, isNull, sql } from 'drizzle-orm';
import { accounts, users } from '../../db/schema/index.ts';
import { hashSecret, newSecret } from '../auth/secrets.ts';
import { type IssuedToken, issueAccessToken } from '../auth/tokens.ts';
import type { Context } from '../context.ts';
import { DomainError } from '../errors.ts';
import { enqueueJob, JOBS } from '../jobs.ts';
import { getSettings } from '../settings/settings.ts';
import { ValidationError, Validator } from '../validation.ts';
import { insertLocalUser } from './create.ts';
import type { AccountRecord, UserRecord } from './records.ts';
import {
  checkEmail,
  checkPassword,
  checkUsername,
  FIELD_LABELS,
  normalizeEmail,
  normalizeLocale,
} from './rules.ts';
import { userWithUsername } from './views.ts';

/**
 * Sign-up through the API (Mastodon's AppSignUpService) and e-mail confirmation (Devise's
 * confirmable, as Mastodon configures it: links valid 2 days, re-confirmation of a changed address).
 */

/** Mastodon's UserInviteRequest::TEXT_SIZE_LIMIT. */
export const REASON_MAX = 420;
/** Devise `confirm_within`. */
export const CONFIRMATION_VALID_MS = 2 * 24 * 60 * 60 * 1000;
/** What Mastodon answers (403) to a sign-up while registrations are closed: no reason given. */
export const REGISTRATIONS_CLOSED = 'Forbidden';

export interface RegistrationInput {
  username: unknown;
  email: unknown;
  password: unknown;
  agreement: unknown;
  locale?: unknown;
  reason?: unknown;
  ip?: string | null;
  applicationId?: string | null;
  /** The application's scopes: the new user's token gets them (AppSignUpService). */
  scopes?: readonly string[];
}

export interface Registration {
  account: AccountRecord;
  user: UserRecord;
  /** Issued when `applicationId` and `scopes` were given. */
  token: IssuedToken | undefined;
}

/** Rails' acceptance validator with Mastodon's `accept: [true, 'true', '1']`. */
function accepted(value: unknown): boolean {
  return value === true || value === 'true' || value === '1' || value === 1;
}

/**
 * Creates an unconfirmed local account and its user, then queues the confirmation mail. With
 * approval-required registrations the user waits for approval (`approved` false). Every field is
 * checked before anything is written; all problems are reported together.
 */
export async function registerAccount(ctx: Context, input: RegistrationInput): Promise<Registration> {
  const settings = await getSettings(ctx);
  if (settings.registrations_mode === 'none' || ctx.config.singleUserMode)
    throw new DomainError('forbidden', REGISTRATIONS_CLOSED);
  const approvalRequired = settings.registrations_mode === 'approved';

  const v = new Validator();
  const email = typeof input.email === 'string' ? normalizeEmail(input.email) : '';
  await checkEmail(ctx, v, email);
  checkPassword(v, input.password);
  if (!accepted(input.agreement)) v.add('agreement', FIELD_LABELS.agreement, 'ERR_ACCEPTED');
  await checkUsername(ctx, v, input.username);
  const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
  if (approvalRequired && settings.require_invite_text && reason === '') {
    v.add('reason', FIELD_LABELS.reason, 'ERR_BLANK');
  } else if ([...reason].length > REASON_MAX) {
    v.add('reason', FIELD_LABELS.reason, 'ERR_TOO_LONG', `is too long (maximum is ${REASON_MAX} characters)`);
  }
  v.check();

  let created: { account: AccountRecord; user: UserRecord };
  try {
    created = await insertLocalUser(ctx, {
      username: input.username as string,
      email,
      password: input.password as string,
      confirmed: false,
      approved: !approvalRequired,
      locale: normalizeLocale(input.locale),
      reason: reason === '' ? null : reason,
      signUpIp: input.ip ?? null,
      createdByApplicationId: input.applicationId ?? null,
    });
  } catch (error) {
    throw uniqueViolationAsTaken(error) ?? error;
  }
  const token =
    input.applicationId != null && input.scopes !== undefined
      ? await issueAccessToken(ctx, {
          applicationId: input.applicationId,
          userId: created.user.id,
          scopes: input.scopes,
        })
      : undefined;
  await enqueueConfirmation(ctx, created.user.id);
  return { ...created, token };
}

/**
 * Two sign-ups racing for one username or address: the loser hits the unique index after both
 * passed validation; it gets the same 422 the check would have given.
 */
export function uniqueViolationAsTaken(error: unknown): ValidationError | undefined {
  let e: unknown = error;
  for (let i = 0; i < 3 && e; i++) {
    const { code, constraint_name, constraint, message } = e as Record<string, string | undefined>;
    if (code === '23505') {
      const name = `${constraint_name ?? constraint ?? ''} ${message ?? ''}`;
      if (name.includes('users_email')) return ValidationError.of('email', FIELD_LABELS.email, 'ERR_TAKEN');
      if (name.includes('accounts_username'))
        return ValidationError.of('username', FIELD_LABELS.username, 'ERR_TAKEN');
      return undefined;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Queues a confirmation mail; the token is made when the mail is rendered (src/jobs/mail.ts). */
export async function enqueueConfirmation(ctx: Pick<Context, 'queue'>, userId: string): Promise<void> {
  await enqueueJob(ctx, JOBS.confirmationInstructions, { userId }, { attempts: 5, backoffMs: 30_000 });
}

/** Is there an address waiting for confirmation (a new user, or a changed e-mail)? */
export function awaitingConfirmation(user: UserRecord): boolean {
  return user.confirmedAt === null || user.unconfirmedEmail !== null;
}

/**
 * Sends the confirmation mail again (a new link; older links stop working). False when nothing
 * awaits confirmation.
 */
export async function sendConfirmation(ctx: Context, userId: string): Promise<boolean> {
  const [user] = await ctx.database.db.select().from(users).where(eq(users.id, userId)).limit(1);
  if (user === undefined || !awaitingConfirmation(user)) return false;
  await enqueueConfirmation(ctx, user.id);
  return true;
}

export interface ConfirmationMail {
  to: string;
  token: string;
  username: string;
  locale: string | null;
  /** A changed address of a confirmed user, rather than a new account. */
  reconfirmation: boolean;
}

/**
 * Makes a new confirmation token for the user and returns what the mail needs; null when there is
 * nothing to confirm any more (confirmed meanwhile, or deleted). Only the token's hash is kept.
 */
export async function prepareConfirmationMail(
  ctx: Pick<Context, 'database'>,
  userId: string,
): Promise<ConfirmationMail | null> {
  const row = await userWithUsername(ctx, userId);
  if (row === undefined || !awaitingConfirmation(row.user)) return null;
  const token = newSecret();
  await ctx.database.db
    .update(users)
    .set({ confirmationTokenHash: hashSecret(token), confirmationSentAt: new Date(), updatedAt: new Date() })
    .where(eq(users.id, userId));
  return {
    to: row.user.unconfirmedEmail ?? row.user.email,
    token,
    username: row.username,
    locale: row.user.locale,
    reconfirmation: row.user.confirmedAt !== null,
  };
}

export type ConfirmationResult =
  | { ok: true; user: UserRecord; account: AccountRecord; emailChanged: boolean }
  | { ok: false; reason: 'invalid' | 'expired' | 'email_taken' };

/**
 * Confirms the address a link was sent to. The token works once. A changed address replaces the old
 * one; a new user becomes confirmed, and approved too when registrations are open by now (Mastodon's
 * grant_approval_on_confirmation).
 */
export async function confirmEmail(ctx: Context, token: string): Promise<ConfirmationResult> {
  if (typeof token !== 'string' || token.length === 0 || token.length > 256)
    return { ok: false, reason: 'invalid' };
  const [row] = await ctx.database.db
    .select({ user: users, account: accounts })
    .from(users)
    .innerJoin(accounts, eq(accounts.id, users.accountId))
    .where(eq(users.confirmationTokenHash, hashSecret(token)))
    .limit(1);
  if (row === undefined) return { ok: false, reason: 'invalid' };
  const { user } = row;
  const sentAt = user.confirmationSentAt?.getTime() ?? 0;
  if (Date.now() - sentAt > CONFIRMATION_VALID_MS) return { ok: false, reason: 'expired' };

  const now = new Date();
  const change: Partial<UserRecord> = { confirmationTokenHash: null, updatedAt: now };
  if (user.confirmedAt === null) {
    change.confirmedAt = now;
    if (!user.approved && (await getSettings(ctx)).registrations_mode === 'open') change.approved = true;
  }
  const emailChanged = user.unconfirmedEmail !== null;
  if (user.unconfirmedEmail !== null) {
    change.email = user.unconfirmedEmail;
    change.unconfirmedEmail = null;
  }
  try {
    // The token is consumed in the same statement that checks it is still there: two clicks on one
    // link confirm once.
    const [updated] = await ctx.database.db
      .update(users)
      .set(change)
      .where(and(eq(users.id, user.id), eq(users.confirmationTokenHash, hashSecret(token))))
      .returning();
    if (updated === undefined) return { ok: false, reason: 'invalid' };
    return { ok: true, user: updated, account: row.account, emailChanged };
  } catch (error) {
    // The new address was taken by someone else since it was requested.
    if (uniqueViolationAsTaken(error)) return { ok: false, reason: 'email_taken' };
    throw error;
  }
}

/**
 * Starts an e-mail change: the new address waits in `unconfirmed_email` until its link is followed;
 * the current one keeps working meanwhile. Giving the current address again cancels a pending
 * change. Throws ValidationError (field `email`) for an invalid or taken address.
 */
export async function changeEmail(ctx: Context, user: UserRecord, newEmail: string): Promise<void> {
  const email = typeof newEmail === 'string' ? normalizeEmail(newEmail) : '';
  if (email === user.email.toLowerCase()) {
    await ctx.database.db
      .update(users)
      .set({ unconfirmedEmail: null, updatedAt: new Date() })
      .where(eq(users.id, user.id));
    // A new user asking again for their own address: send the link again.
    if (user.confirmedAt === null) await enqueueConfirmation(ctx, user.id);
    return;
  }
  const v = new Validator();
  await checkEmail(ctx, v, email, { exceptUserId: user.id });
  v.check();
  await ctx.database.db
    .update(users)
    .set({ unconfirmedEmail: email, confirmationTokenHash: null, updatedAt: new Date() })
    .where(eq(users.id, user.id));
  await enqueueConfirmation(ctx, user.id);
}

/** A local user by e-mail address or username, without regard to case. */
export async function findUserByLogin(
  ctx: Pick<Context, 'database'>,
  emailOrUsername: string,
): Promise<{ user: UserRecord; account: AccountRecord } | undefined> {
  const login = typeof emailOrUsername === 'string' ? emailOrUsername.trim() : '';
  if (login === '' || login.length > 320) return undefined;
  const where = login.includes('@')
    ? sql`lower(${users.email}) = ${login.toLowerCase()}`
    : and(sql`lower(${accounts.username}) = ${login.toLowerCase()}`, isNull(accounts.domain));
  const [row] = await ctx.database.db
    .select({ user: users, account: accounts })
    .from(users)
    .innerJoin(accounts, eq(accounts.id, users.accountId))
    .where(where)
    .limit(1);
  return row;
}
