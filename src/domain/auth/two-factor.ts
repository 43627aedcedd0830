import { randomBytes } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import { users } from '../../db/schema/index.ts';
import type { UserRecord } from '../accounts/records.ts';
import type { Context } from '../context.ts';
import { decrypt, encrypt } from '../crypto/encryption.ts';
import { DomainError } from '../errors.ts';
import { hashSecret } from './secrets.ts';

/**
 * Two-factor sign-in with a TOTP app (RFC 6238: SHA-1, 6 digits, 30 s, as every authenticator app and
 * Mastodon use), plus single-use recovery codes.
 *
 * - The secret is encrypted at rest (purpose 'otp'). Setting up stores a fresh secret while
 *   `otp_required_for_login` stays false; only a correct code from the app turns it on, so a user who
 *   gives up half-way is not locked out.
 * - A code is accepted one step either side of now (clock drift), and each step is accepted once per
 *   user: the cache remembers used steps for longer than a code can be valid, so a code seen over a
 *   shoulder or in a log cannot be replayed (Mastodon keeps `consumed_timestep` for the same reason).
 * - Recovery codes are shown once and stored as SHA-256 hashes; using one removes it atomically.
 */
export const RECOVERY_CODE_COUNT = 10;
const PERIOD_SECONDS = 30;
const WINDOW = 1;
const OTP_PURPOSE = 'otp';

export interface TwoFactorSetup {
  /** Base32, for typing into the app by hand. */
  secret: string;
  /** The otpauth:// URI the QR code encodes. */
  uri: string;
}

/** The user's two-factor state does not allow the step (the pages check it before asking). */
const stateConflict = (message: string) => new DomainError('conflict', message);

export function twoFactorEnabled(
  user: Pick<UserRecord, 'otpRequiredForLogin' | 'otpSecretEncrypted'>,
): boolean {
  return user.otpRequiredForLogin && user.otpSecretEncrypted !== null;
}

function totp(ctx: Pick<Context, 'config'>, username: string, secret: Secret | string): TOTP {
  return new TOTP({
    issuer: ctx.config.localDomain,
    label: username,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD_SECONDS,
    secret,
  });
}

/** Starts (or restarts) setting up: a new secret, not yet required for sign-in. */
export async function beginTwoFactorSetup(
  ctx: Pick<Context, 'database' | 'secrets' | 'config'>,
  user: UserRecord,
  username: string,
): Promise<TwoFactorSetup> {
  if (twoFactorEnabled(user)) throw stateConflict('Two-factor authentication is already enabled');
  const secret = new Secret({ size: 20 });
  await ctx.database.db
    .update(users)
    .set({
      otpSecretEncrypted: encrypt(ctx.secrets, OTP_PURPOSE, secret.base32),
      otpBackupCodes: null,
      updatedAt: new Date(),
    })
    .where(and(eq(users.id, user.id), eq(users.otpRequiredForLogin, false)));
  return { secret: secret.base32, uri: totp(ctx, username, secret).toString() };
}

/** The setup in progress (secret stored, not yet confirmed), to show its QR code again. */
export function pendingTwoFactorSetup(
  ctx: Pick<Context, 'secrets' | 'config'>,
  user: UserRecord,
  username: string,
): TwoFactorSetup | null {
  if (user.otpRequiredForLogin || user.otpSecretEncrypted === null) return null;
  const secret = decrypt(ctx.secrets, OTP_PURPOSE, user.otpSecretEncrypted);
  return { secret, uri: totp(ctx, username, secret).toString() };
}

function normalizeTotp(code: string): string | null {
  const digits = code.replace(/\s+/g, '');
  return /^\d{6}$/.test(digits) ? digits : null;
}

/**
 * Checks a TOTP code against the user's stored secret (pending or enabled) and consumes its time
 * step. False for a wrong code, a code of a step already used, or no secret.
 */
export async function verifyTotp(
  ctx: Pick<Context, 'secrets' | 'config' | 'cache'>,
  user: UserRecord,
  code: string,
  now: number = Date.now(),
): Promise<boolean> {
  const token = normalizeTotp(code);
  if (token === null || user.otpSecretEncrypted === null) return false;
  let secret: string;
  try {
    secret = decrypt(ctx.secrets, OTP_PURPOSE, user.otpSecretEncrypted);
  } catch {
    return false; // encrypted with other keys (secrets rotated): the user must reset 2FA
  }
  const generator = totp(ctx, '', secret);
  const delta = generator.validate({ token, timestamp: now, window: WINDOW });
  if (delta === null) return false;
  const step = generator.counter({ timestamp: now }) + delta;
  // Steps are valid for at most (2·WINDOW+1)·30 s; remember a used one a little longer than that.
  const ttl = (2 * WINDOW + 2) * PERIOD_SECONDS;
  return ctx.cache.setIfAbsent(`otp-used:${user.id}:${step}`, '1', ttl);
}

function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => randomBytes(5).toString('hex'));
}

function normalizeRecoveryCode(code: string): string {
  return code.replace(/[\s-]+/g, '').toLowerCase();
}

async function storeRecoveryCodes(ctx: Pick<Context, 'database'>, userId: string): Promise<string[]> {
  const codes = newRecoveryCodes();
  await ctx.database.db
    .update(users)
    .set({ otpBackupCodes: codes.map(hashSecret), updatedAt: new Date() })
    .where(eq(users.id, userId));
  return codes;
}

/**
 * Finishes setting up with a code from the app: two-factor becomes required and the recovery codes
 * are returned (to show once). Null when the code is wrong.
 */
export async function confirmTwoFactorSetup(
  ctx: Pick<Context, 'database' | 'secrets' | 'config' | 'cache'>,
  user: UserRecord,
  code: string,
): Promise<string[] | null> {
  if (twoFactorEnabled(user)) throw stateConflict('Two-factor authentication is already enabled');
  if (user.otpSecretEncrypted === null) throw stateConflict('Two-factor setup has not been started');
  if (!(await verifyTotp(ctx, user, code))) return null;
  const codes = newRecoveryCodes();
  await ctx.database.db
    .update(users)
    .set({ otpRequiredForLogin: true, otpBackupCodes: codes.map(hashSecret), updatedAt: new Date() })
    .where(eq(users.id, user.id));
  return codes;
}

/** Uses a recovery code: true (and the code is gone) when it was one of the user's unused codes. */
export async function consumeRecoveryCode(
  ctx: Pick<Context, 'database'>,
  userId: string,
  code: string,
): Promise<boolean> {
  const normalized = normalizeRecoveryCode(code);
  if (!/^[0-9a-f]{10}$/.test(normalized)) return false;
  const hash = hashSecret(normalized);
  // One statement: two concurrent uses of the same code cannot both succeed.
  const updated = await ctx.database.db
    .update(users)
    .set({ otpBackupCodes: sql`array_remove(${users.otpBackupCodes}, ${hash})` })
    .where(and(eq(users.id, userId), sql`${hash} = any(${users.otpBackupCodes})`))
    .returning({ id: users.id });
  return updated.length > 0;
}

/** The second factor at sign-in: a current TOTP code or an unused recovery code. */
export async function verifySecondFactor(
  ctx: Pick<Context, 'database' | 'secrets' | 'config' | 'cache'>,
  user: UserRecord,
  code: string,
): Promise<'totp' | 'recovery' | null> {
  if (!twoFactorEnabled(user)) return null;
  if (await verifyTotp(ctx, user, code)) return 'totp';
  if (await consumeRecoveryCode(ctx, user.id, code)) return 'recovery';
  return null;
}

/** New recovery codes replace all the old ones. */
export async function regenerateRecoveryCodes(
  ctx: Pick<Context, 'database'>,
  user: UserRecord,
): Promise<string[]> {
  if (!twoFactorEnabled(user)) throw stateConflict('Two-factor authentication is not enabled');
  return storeRecoveryCodes(ctx, user.id);
}

/** Turns two-factor off and forgets the secret and the recovery codes. */
export async function disableTwoFactor(ctx: Pick<Context, 'database'>, userId: string): Promise<void> {
  await ctx.database.db
    .update(users)
    .set({
      otpRequiredForLogin: false,
      otpSecretEncrypted: null,
      otpBackupCodes: null,
      updatedAt: new Date(),
    })
    .where(eq(users.id, userId));
}

/** How many recovery codes are left unused. */
export function remainingRecoveryCodes(user: Pick<UserRecord, 'otpBackupCodes'>): number {
  return user.otpBackupCodes?.length ?? 0;
}
