import { and, eq, isNotNull, isNull, lt, ne, or } from 'drizzle-orm';
import { newId } from '../../db/ids.ts';
import { accounts, users, webSessions } from '../../db/schema/index.ts';
import type { AccountRecord, UserRecord } from '../accounts/records.ts';
import type { Context } from '../context.ts';
import { hashSecret, newSecret } from './secrets.ts';

/**
 * Browser sessions for the server-rendered pages. A session is one `web_sessions` row found by the
 * SHA-256 of its cookie value, in one of three states:
 * - anonymous (no user): exists only to carry a CSRF token, so the sign-in form is protected too;
 * - pending (pending_otp_user_id): the password was right, the second factor is still due;
 * - signed in (user_id).
 * Signing in or passing the second factor always makes a new row (and a new cookie value), so a
 * session id planted before sign-in is worthless after it (session fixation).
 */
export type WebSessionRecord = typeof webSessions.$inferSelect;

/** Idle lifetimes: Devise's remember-me in Mastodon lasts a year; the others are short on purpose. */
export const SIGNED_IN_IDLE_MS = 365 * 24 * 60 * 60 * 1000;
export const ANONYMOUS_IDLE_MS = 24 * 60 * 60 * 1000;
/** Time allowed between the password and the second factor. */
export const PENDING_OTP_MS = 10 * 60 * 1000;
/** How often `last_seen_at` is written for a session in steady use. */
const TOUCH_EVERY_MS = 60 * 60 * 1000;

export interface FoundWebSession {
  session: WebSessionRecord;
  /** The signed-in user and account, when the session is signed in. */
  user: UserRecord | null;
  account: AccountRecord | null;
}

export interface NewWebSession {
  userId?: string | null;
  pendingOtpUserId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
}

/** Creates a session; the clear cookie value is returned once, only its hash is stored. */
export async function createWebSession(
  ctx: Pick<Context, 'database'>,
  input: NewWebSession,
): Promise<{ token: string; session: WebSessionRecord }> {
  await pruneWebSessionsOccasionally(ctx);
  const token = newSecret();
  const [session] = await ctx.database.db
    .insert(webSessions)
    .values({
      id: newId(),
      tokenHash: hashSecret(token),
      userId: input.userId ?? null,
      pendingOtpUserId: input.pendingOtpUserId ?? null,
      csrfToken: newSecret(),
      userAgent: input.userAgent ? input.userAgent.slice(0, 255) : null,
      ip: input.ip ?? null,
    })
    .returning();
  return { token, session: session! };
}

function expired(session: WebSessionRecord, now: number): boolean {
  if (session.userId !== null) return now - session.lastSeenAt.getTime() > SIGNED_IN_IDLE_MS;
  if (session.pendingOtpUserId !== null) return now - session.createdAt.getTime() > PENDING_OTP_MS;
  return now - session.lastSeenAt.getTime() > ANONYMOUS_IDLE_MS;
}

/** The live session for a cookie value, or null (unknown, expired, or its user is gone). */
export async function findWebSession(
  ctx: Pick<Context, 'database'>,
  token: string,
): Promise<FoundWebSession | null> {
  if (token.length === 0 || token.length > 128) return null;
  const rows = await ctx.database.db
    .select({ session: webSessions, user: users, account: accounts })
    .from(webSessions)
    .leftJoin(users, eq(users.id, webSessions.userId))
    .leftJoin(accounts, eq(accounts.id, users.accountId))
    .where(eq(webSessions.tokenHash, hashSecret(token)))
    .limit(1);
  const row = rows[0];
  if (row === undefined) return null;
  const now = Date.now();
  if (expired(row.session, now)) {
    await deleteWebSession(ctx, row.session.id);
    return null;
  }
  if (now - row.session.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    // Bookkeeping only: a failure does not fail the request.
    await ctx.database.db
      .update(webSessions)
      .set({ lastSeenAt: new Date(now) })
      .where(eq(webSessions.id, row.session.id))
      .catch(() => {});
  }
  return { session: row.session, user: row.user, account: row.account };
}

export async function deleteWebSession(ctx: Pick<Context, 'database'>, id: string): Promise<void> {
  await ctx.database.db.delete(webSessions).where(eq(webSessions.id, id));
}

/**
 * Ends every session of a user (signed in or waiting for the second factor), but the one given:
 * after a password change the user stays signed in where they made it.
 */
export async function endUserWebSessions(
  ctx: Pick<Context, 'database'>,
  userId: string,
  options: { exceptSessionId?: string } = {},
): Promise<number> {
  const ofUser = or(eq(webSessions.userId, userId), eq(webSessions.pendingOtpUserId, userId));
  const where =
    options.exceptSessionId === undefined ? ofUser : and(ofUser, ne(webSessions.id, options.exceptSessionId));
  const deleted = await ctx.database.db.delete(webSessions).where(where).returning({ id: webSessions.id });
  return deleted.length;
}

/** The user a pending session waits for (the second factor is still due), with their account. */
export async function findPendingOtpUser(
  ctx: Pick<Context, 'database'>,
  session: WebSessionRecord,
): Promise<{ user: UserRecord; account: AccountRecord } | undefined> {
  if (session.pendingOtpUserId === null) return undefined;
  const [row] = await ctx.database.db
    .select({ user: users, account: accounts })
    .from(users)
    .innerJoin(accounts, eq(accounts.id, users.accountId))
    .where(eq(users.id, session.pendingOtpUserId))
    .limit(1);
  return row;
}

/** Writes the sign-in bookkeeping Mastodon keeps (current and last sign-in times). */
export async function recordSignIn(ctx: Pick<Context, 'database'>, user: UserRecord): Promise<void> {
  await ctx.database.db
    .update(users)
    .set({ lastSignInAt: user.currentSignInAt, currentSignInAt: new Date() })
    .where(eq(users.id, user.id));
}

/** Deletes expired sessions; returns how many. */
export async function pruneWebSessions(ctx: Pick<Context, 'database'>, now = Date.now()): Promise<number> {
  const deleted = await ctx.database.db
    .delete(webSessions)
    .where(
      or(
        and(isNotNull(webSessions.userId), lt(webSessions.lastSeenAt, new Date(now - SIGNED_IN_IDLE_MS))),
        and(
          isNotNull(webSessions.pendingOtpUserId),
          lt(webSessions.createdAt, new Date(now - PENDING_OTP_MS)),
        ),
        and(
          isNull(webSessions.userId),
          isNull(webSessions.pendingOtpUserId),
          lt(webSessions.lastSeenAt, new Date(now - ANONYMOUS_IDLE_MS)),
        ),
      ),
    )
    .returning({ id: webSessions.id });
  return deleted.length;
}

/**
 * Anonymous sessions are made by every visitor of the sign-in page; sweeping them from time to time
 * (at most once per interval per process) keeps the table small without a scheduled job.
 */
const PRUNE_EVERY_MS = 60 * 60 * 1000;
let lastPrune = 0;
async function pruneWebSessionsOccasionally(ctx: Pick<Context, 'database'>): Promise<void> {
  const now = Date.now();
  if (now - lastPrune < PRUNE_EVERY_MS) return;
  lastPrune = now;
  await pruneWebSessions(ctx, now).catch(() => {});
}
