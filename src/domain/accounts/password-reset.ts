import { and, eq, gt, sql } from 'drizzle-orm';
import { users } from '../../db/schema/index.ts';
import type { JsonValue } from '../../infra/queue/queue.ts';
import { hashSecret, newSecret } from '../auth/secrets.ts';
import { endUserWebSessions } from '../auth/sessions.ts';
import type { Context } from '../context.ts';
import { enqueueJob, JOBS } from '../jobs.ts';
import { getSettings } from '../settings/settings.ts';
import { escapeHtml } from '../text/html.ts';
import { Validator } from '../validation.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import type { UserRecord } from './records.ts';
import { checkPassword, normalizeEmail } from './rules.ts';
import { userWithUsername } from './views.ts';

/**
 * Passwords a user changes: the reset link sent by e-mail (Devise's recoverable, as in Mastodon) and
 * the change from the settings page.
 *
 * The reset token is made by the mail job, not the request: the queue then carries only a user id,
 * so no usable secret sits in the jobs table or Redis. The token is stored as its SHA-256, lives six
 * hours (Devise's reset_password_within in Mastodon) and is cleared by the one statement that uses
 * it, so it works once. A reset ends every browser session of the user and revokes nothing else.
 */
export const RESET_TOKEN_VALID_MS = 6 * 60 * 60 * 1000;

/** Queues the reset mail when the address belongs to a user; says nothing about whether it does. */
export async function requestPasswordReset(ctx: Context, email: string): Promise<void> {
  const normalized = normalizeEmail(email);
  if (normalized === '') return;
  const [row] = await ctx.database.db
    .select({ id: users.id })
    .from(users)
    .where(sql`lower(${users.email}) = ${normalized}`)
    .limit(1);
  if (row === undefined) return;
  await enqueueJob(ctx, JOBS.passwordReset, { userId: row.id }, { attempts: 5, backoffMs: 10_000 });
}

/** The `mailers`/`password_reset` job: makes the token, stores its hash, sends the link. */
export async function deliverPasswordReset(
  ctx: Pick<Context, 'database' | 'config' | 'mailer'>,
  data: JsonValue,
): Promise<void> {
  const userId =
    data !== null && typeof data === 'object' && !Array.isArray(data) && typeof data.userId === 'string'
      ? data.userId
      : undefined;
  if (userId === undefined) throw new Error('password_reset job without a userId');
  const row = await userWithUsername(ctx, userId);
  if (row === undefined) return; // deleted since: nothing to send
  const token = newSecret();
  await ctx.database.db
    .update(users)
    .set({ resetPasswordTokenHash: hashSecret(token), resetPasswordSentAt: new Date() })
    .where(eq(users.id, userId));
  const { site_title: title } = await getSettings(ctx);
  const link = `${ctx.config.baseUrl}/auth/password/edit?reset_password_token=${encodeURIComponent(token)}`;
  const text = [
    `Hello @${row.username},`,
    '',
    `You requested a new password for your account on ${ctx.config.localDomain}.`,
    'Change it here (the link works once, for 6 hours):',
    '',
    link,
    '',
    "If you didn't request this, please ignore this email. Your password won't change until you access the link above and create a new one.",
  ].join('\n');
  const html =
    `<p>Hello @${escapeHtml(row.username)},</p>` +
    `<p>You requested a new password for your account on ${escapeHtml(ctx.config.localDomain)}.</p>` +
    `<p><a href="${escapeHtml(link)}">Change password</a></p>` +
    "<p>If you didn't request this, please ignore this email. Your password won't change until you access the link above and create a new one.</p>";
  await ctx.mailer.send({
    to: row.user.email,
    subject: `${title}: Reset password instructions`,
    text,
    html,
  });
}

/** The user a reset token belongs to while it is valid, or undefined. */
export async function findUserByResetToken(
  ctx: Pick<Context, 'database'>,
  token: string,
  now: number = Date.now(),
): Promise<UserRecord | undefined> {
  if (token.length === 0 || token.length > 128) return undefined;
  const [user] = await ctx.database.db
    .select()
    .from(users)
    .where(
      and(
        eq(users.resetPasswordTokenHash, hashSecret(token)),
        gt(users.resetPasswordSentAt, new Date(now - RESET_TOKEN_VALID_MS)),
      ),
    )
    .limit(1);
  return user;
}

export type ResetResult = { ok: true; user: UserRecord } | { ok: false; reason: 'invalid_token' };

/**
 * Sets a new password with a reset token. Throws a ValidationError (fields `password`,
 * `password_confirmation`) for a bad password, leaving the token usable.
 */
export async function resetPassword(
  ctx: Pick<Context, 'database'>,
  input: { token: string; password: unknown; passwordConfirmation: unknown },
): Promise<ResetResult> {
  const user = await findUserByResetToken(ctx, input.token);
  if (user === undefined) return { ok: false, reason: 'invalid_token' };
  checkNewPassword(input.password, input.passwordConfirmation);
  const encryptedPassword = await hashPassword(input.password as string);
  // Clearing the token in the same statement that checks it makes it single use under concurrency.
  const [updated] = await ctx.database.db
    .update(users)
    .set({
      encryptedPassword,
      resetPasswordTokenHash: null,
      resetPasswordSentAt: null,
      updatedAt: new Date(),
    })
    .where(
      and(
        eq(users.id, user.id),
        eq(users.resetPasswordTokenHash, hashSecret(input.token)),
        gt(users.resetPasswordSentAt, new Date(Date.now() - RESET_TOKEN_VALID_MS)),
      ),
    )
    .returning();
  if (updated === undefined) return { ok: false, reason: 'invalid_token' };
  await endUserWebSessions(ctx, user.id);
  return { ok: true, user: updated };
}

function checkNewPassword(password: unknown, confirmation: unknown): void {
  const v = new Validator();
  checkPassword(v, password);
  if (!v.has('password') && password !== confirmation) {
    v.add('password_confirmation', 'Password confirmation', 'ERR_INVALID', "doesn't match Password");
  }
  v.check();
}

/**
 * Changes the password from the settings page: the current one is required. Every other browser
 * session of the user ends; the one the change was made in stays. A reset link not used yet dies.
 */
export async function changePassword(
  ctx: Pick<Context, 'database'>,
  user: UserRecord,
  input: { currentPassword: unknown; password: unknown; passwordConfirmation: unknown; sessionId?: string },
): Promise<void> {
  const current = typeof input.currentPassword === 'string' ? input.currentPassword : '';
  const v = new Validator();
  if (current === '') v.add('current_password', 'Current password', 'ERR_BLANK');
  else if (!(await verifyPassword(current, user.encryptedPassword)))
    v.add('current_password', 'Current password', 'ERR_INVALID');
  v.check();
  checkNewPassword(input.password, input.passwordConfirmation);
  await ctx.database.db
    .update(users)
    .set({
      encryptedPassword: await hashPassword(input.password as string),
      resetPasswordTokenHash: null,
      resetPasswordSentAt: null,
      updatedAt: new Date(),
    })
    .where(eq(users.id, user.id));
  await endUserWebSessions(
    ctx,
    user.id,
    input.sessionId === undefined ? {} : { exceptSessionId: input.sessionId },
  );
}
