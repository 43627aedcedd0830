import { randomBytes } from 'node:crypto';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { newId } from '../../db/ids.ts';
import {
  accounts,
  mediaAttachments,
  oauthAccessTokens,
  oauthApplications,
  users,
  webSessions,
} from '../../db/schema/index.ts';
import { hashSecret, newSecret } from '../auth/secrets.ts';
import { type IssuedToken, issueAccessToken } from '../auth/tokens.ts';
import type { Context } from '../context.ts';
import { DomainError, notFound } from '../errors.ts';
import { enqueueJob, JOBS } from '../jobs.ts';
import { profileImageKeys } from '../media/profile-images.ts';
import { getSettings } from '../settings/settings.ts';
import { Validator } from '../validation.ts';
import { insertLocalUser } from './create.ts';
import { hashPassword } from './passwords.ts';
import type { AccountRecord, RoleRecord, UserRecord } from './records.ts';
import { uniqueViolationAsTaken } from './registration.ts';
import { findRoleByName } from './roles.ts';
import { checkEmail, checkUsername, findLocalAccountByUsername, normalizeEmail } from './rules.ts';

/**
 * What the operator does from the command line (`woolly accounts …`, tootctl's accounts commands).
 * The operator is trusted: reserved usernames are allowed (tootctl's bypass_registration_checks),
 * and no confirmation mail is sent for an address the operator sets. Refusals are DomainErrors
 * (not_found, unprocessable) whose message the CLI prints as one line, exit 1.
 */

type Ctx = Pick<Context, 'database' | 'config'>;
/** Changes that end sessions also close the account's streams. */
type StreamingCtx = Ctx & Pick<Context, 'streams'>;

/** A random password as tootctl makes them (SecureRandom.hex: 32 hex digits). */
export function randomPassword(): string {
  return randomBytes(16).toString('hex');
}

async function roleNamed(ctx: Ctx, name: string): Promise<RoleRecord> {
  const role = await findRoleByName(ctx, name);
  if (role === undefined) throw notFound('Cannot find user role with that name');
  return role;
}

async function localUser(ctx: Ctx, username: string): Promise<{ account: AccountRecord; user: UserRecord }> {
  const found = await findLocalAccountByUsername(ctx, username);
  if (found === undefined) throw notFound('No user with such username');
  return found;
}

export interface AdminCreateInput {
  username: string;
  email: string;
  confirmed?: boolean;
  approve?: boolean;
  role?: string;
}

/**
 * Creates a local account with a random password (returned once). Without `approve` the user is
 * approved only if registrations are open, as tootctl; `confirmed` skips the confirmation mail.
 */
export async function adminCreateAccount(
  ctx: Ctx,
  input: AdminCreateInput,
): Promise<{ account: AccountRecord; user: UserRecord; password: string }> {
  const role = input.role !== undefined ? await roleNamed(ctx, input.role) : undefined;
  const email = normalizeEmail(input.email);
  const v = new Validator();
  await checkEmail(ctx, v, email);
  await checkUsername(ctx, v, input.username);
  // Reserved names are the operator's to use.
  const details = v.empty ? [] : collectMessages(v);
  if (details.length > 0) throw new DomainError('unprocessable', details.join(', '));
  const password = randomPassword();
  const open = (await getSettings(ctx)).registrations_mode === 'open';
  try {
    const created = await insertLocalUser(ctx, {
      username: input.username,
      email,
      password,
      confirmed: input.confirmed ?? false,
      approved: (input.approve ?? false) || open,
      roleId: role?.id ?? null,
    });
    return { ...created, password };
  } catch (error) {
    const taken = uniqueViolationAsTaken(error);
    if (taken) throw new DomainError('unprocessable', taken.message.replace(/^Validation failed: /, ''));
    throw error;
  }
}

/** The validator's messages without the reserved-name refusal (operators may use those names). */
function collectMessages(v: Validator): string[] {
  try {
    v.check();
    return [];
  } catch (error) {
    const details = (error as { details: Record<string, { error: string; description: string }[]> }).details;
    const labels: Record<string, string> = { username: 'Username', email: 'E-mail address' };
    return Object.entries(details).flatMap(([field, list]) =>
      list.filter((d) => d.error !== 'ERR_RESERVED').map((d) => `${labels[field] ?? field} ${d.description}`),
    );
  }
}

export interface AdminModifyInput {
  role?: string;
  removeRole?: boolean;
  email?: string;
  confirm?: boolean;
  enable?: boolean;
  disable?: boolean;
  approve?: boolean;
  disable2fa?: boolean;
  resetPassword?: boolean;
}

/**
 * Changes a local user; returns the new password when one was made. A password reset signs the
 * user out everywhere: web sessions end and access tokens are revoked, as Mastodon's
 * change_password!.
 */
export async function adminModifyAccount(
  ctx: StreamingCtx,
  username: string,
  input: AdminModifyInput,
): Promise<{ password: string | undefined }> {
  const { user } = await localUser(ctx, username);
  const change: Partial<UserRecord> = {};
  if (input.role !== undefined) change.roleId = (await roleNamed(ctx, input.role)).id;
  else if (input.removeRole) change.roleId = null;
  if (input.email !== undefined) {
    const email = normalizeEmail(input.email);
    const v = new Validator();
    await checkEmail(ctx, v, email, { exceptUserId: user.id });
    const problems = collectMessages(v);
    if (problems.length > 0) throw new DomainError('unprocessable', problems.join(', '));
    change.email = email;
    change.unconfirmedEmail = null;
  }
  if (input.enable) change.disabled = false;
  if (input.disable) change.disabled = true;
  if (input.approve) change.approved = true;
  if (input.disable2fa) {
    change.otpRequiredForLogin = false;
    change.otpSecretEncrypted = null;
    change.otpBackupCodes = null;
  }
  if (input.confirm && user.confirmedAt === null) {
    change.confirmedAt = new Date();
    change.confirmationTokenHash = null;
  }
  const password = input.resetPassword ? randomPassword() : undefined;
  if (password !== undefined) {
    change.encryptedPassword = await hashPassword(password);
    change.resetPasswordTokenHash = null;
  }
  const revokedIds = await ctx.database.transaction(async (tx) => {
    if (Object.keys(change).length > 0) {
      await tx
        .update(users)
        .set({ ...change, updatedAt: new Date() })
        .where(eq(users.id, user.id));
    }
    if (password !== undefined || input.disable) {
      const revoked = await tx
        .update(oauthAccessTokens)
        .set({ revokedAt: new Date() })
        .where(and(eq(oauthAccessTokens.userId, user.id), isNull(oauthAccessTokens.revokedAt)))
        .returning({ id: oauthAccessTokens.id });
      await tx.delete(webSessions).where(eq(webSessions.userId, user.id));
      return revoked.map((r) => r.id);
    }
    return [];
  });
  // Open streams close too (Mastodon's User#disable! kills the account's streaming connections).
  await ctx.streams.tokensRevoked(revokedIds);
  if (input.disable) await ctx.streams.accountClosed(user.accountId);
  return { password };
}

/** Removes a local account, its user and everything that hangs off them (tokens, sessions, apps). */
export async function adminDeleteAccount(
  ctx: StreamingCtx & Pick<Context, 'queue'>,
  username: string,
): Promise<AccountRecord> {
  const { account } = await localUser(ctx, username);
  // Its files go with it: the rows cascade, the stored files would otherwise stay as orphans.
  const media = await ctx.database.db
    .select({
      fileKey: mediaAttachments.fileKey,
      smallKey: mediaAttachments.smallKey,
      thumbnailKey: mediaAttachments.thumbnailKey,
    })
    .from(mediaAttachments)
    .where(eq(mediaAttachments.accountId, account.id));
  await ctx.database.db.delete(accounts).where(eq(accounts.id, account.id));
  const files = [
    ...media.flatMap((m) => [m.fileKey, m.smallKey, m.thumbnailKey]),
    ...profileImageKeys(account, 'avatar'),
    ...profileImageKeys(account, 'header'),
  ].filter((k): k is string => k !== null);
  // A worker removes them (the command that deletes may not hold the storage credentials).
  if (files.length > 0) await enqueueJob(ctx, JOBS.removeMediaFiles, { keys: files });
  await ctx.streams.accountClosed(account.id);
  return account;
}

/** Approves pending users: all of them, the oldest `number`, or one by username. Returns how many. */
export async function adminApprove(
  ctx: Ctx,
  target: { all: true } | { number: number } | { username: string },
): Promise<number> {
  if ('username' in target) {
    const { user } = await localUser(ctx, target.username).catch(() => {
      throw notFound('No such account');
    });
    if (user.approved) return 0;
    await ctx.database.db
      .update(users)
      .set({ approved: true, updatedAt: new Date() })
      .where(eq(users.id, user.id));
    return 1;
  }
  const pending = ctx.database.db
    .select({ id: users.id })
    .from(users)
    .where(eq(users.approved, false))
    .orderBy(asc(users.createdAt), asc(users.id));
  const rows = 'number' in target ? await pending.limit(target.number) : await pending;
  for (const { id } of rows) {
    await ctx.database.db
      .update(users)
      .set({ approved: true, updatedAt: new Date() })
      .where(eq(users.id, id));
  }
  return rows.length;
}

export const CLI_APP_NAME = 'Woolly CLI';

/**
 * A new access token for a local user, as Mastodon's Development settings page gives bots: it
 * belongs to an application owned by the user (made on first use, found by name afterwards).
 */
export async function adminIssueToken(
  ctx: Ctx,
  username: string,
  options: { scopes: readonly string[]; appName?: string },
): Promise<IssuedToken> {
  const { user } = await localUser(ctx, username);
  const name = options.appName ?? CLI_APP_NAME;
  const scopes = options.scopes.join(' ');
  let [app] = await ctx.database.db
    .select()
    .from(oauthApplications)
    .where(and(eq(oauthApplications.ownerUserId, user.id), eq(oauthApplications.name, name)))
    .limit(1);
  if (app === undefined) {
    [app] = await ctx.database.db
      .insert(oauthApplications)
      .values({
        id: newId(),
        name,
        uid: newSecret(),
        // The secret is never shown: this app only holds tokens made here.
        secretHash: hashSecret(newSecret()),
        redirectUri: 'urn:ietf:wg:oauth:2.0:oob',
        scopes,
        ownerUserId: user.id,
      })
      .returning();
  } else {
    // The app's scopes grow to cover what its tokens have.
    const merged = [...new Set([...app.scopes.split(' ').filter(Boolean), ...options.scopes])].join(' ');
    if (merged !== app.scopes) {
      await ctx.database.db
        .update(oauthApplications)
        .set({ scopes: merged, updatedAt: new Date() })
        .where(eq(oauthApplications.id, app.id));
    }
  }
  return issueAccessToken(ctx, { applicationId: app!.id, userId: user.id, scopes: options.scopes });
}
