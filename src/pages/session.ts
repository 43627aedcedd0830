import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountRecord, UserRecord } from '../domain/accounts/records.ts';
import {
  createWebSession,
  deleteWebSession,
  type FoundWebSession,
  findWebSession,
  SIGNED_IN_IDLE_MS,
  type WebSessionRecord,
} from '../domain/auth/sessions.ts';
import type { Context } from '../domain/context.ts';
import { redirectPage } from './layout.ts';

/**
 * The session cookie of the pages: httpOnly (no script reads it), SameSite=Lax (not sent on
 * cross-site POSTs), Secure when the request came over https (request.protocol honours trusted
 * proxies), Path=/. Its value is a random secret; the database keeps only its hash.
 */
export const SESSION_COOKIE = '_woolly_session';

export interface SignedInSession {
  session: WebSessionRecord;
  user: UserRecord;
  account: AccountRecord;
}

/** One lookup per request, however many helpers ask. */
const lookups = new WeakMap<FastifyRequest, Promise<FoundWebSession | null>>();

/** A cookie's value from the request's Cookie header (RFC 6265 syntax; first occurrence wins). */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    try {
      return decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Whatever session the cookie names (anonymous, pending or signed in), or null. */
export function readAnySession(ctx: Context, request: FastifyRequest): Promise<FoundWebSession | null> {
  let lookup = lookups.get(request);
  if (lookup === undefined) {
    const token = readCookie(request, SESSION_COOKIE);
    lookup = token ? findWebSession(ctx, token) : Promise.resolve(null);
    lookups.set(request, lookup);
  }
  return lookup;
}

/** Whether this user may be signed in at all (not disabled, account not suspended or gone). */
export function userMaySignIn(user: UserRecord, account: AccountRecord | null): boolean {
  return !user.disabled && account !== null && account.suspendedAt === null;
}

/**
 * The signed-in user of this request, or null. Unconfirmed and not-yet-approved users are signed in
 * (they see the notice page); disabled and suspended ones are not.
 */
export async function readWebSession(ctx: Context, request: FastifyRequest): Promise<SignedInSession | null> {
  const found = await readAnySession(ctx, request);
  if (found === null || found.user === null || found.account === null) return null;
  if (!userMaySignIn(found.user, found.account)) return null;
  return { session: found.session, user: found.user, account: found.account };
}

function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  value: string,
  maxAgeSeconds?: number,
): void {
  const parts = [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (maxAgeSeconds !== undefined) parts.push(`Max-Age=${maxAgeSeconds}`);
  if (request.protocol === 'https') parts.push('Secure');
  reply.header('set-cookie', parts.join('; '));
}

function clientInfo(request: FastifyRequest): { ip: string; userAgent: string | null } {
  const ua = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof ua === 'string' ? ua : null };
}

/**
 * The request's session, or a new anonymous one (with its cookie) when there is none: the pages that
 * show a form to visitors (sign-in, password reset) call it so their form carries a CSRF token.
 */
export async function ensureSession(
  ctx: Context,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<WebSessionRecord> {
  const found = await readAnySession(ctx, request);
  if (found !== null) return found.session;
  const { token, session } = await createWebSession(ctx, clientInfo(request));
  setSessionCookie(request, reply, token);
  lookups.set(request, Promise.resolve({ session, user: null, account: null }));
  return session;
}

async function replaceSession(
  ctx: Context,
  request: FastifyRequest,
  reply: FastifyReply,
  input: { userId: string | null; pendingOtpUserId: string | null },
): Promise<WebSessionRecord> {
  const previous = await readAnySession(ctx, request);
  if (previous !== null) await deleteWebSession(ctx, previous.session.id);
  const { token, session } = await createWebSession(ctx, { ...input, ...clientInfo(request) });
  setSessionCookie(
    request,
    reply,
    token,
    input.userId !== null ? Math.floor(SIGNED_IN_IDLE_MS / 1000) : undefined,
  );
  lookups.delete(request);
  return session;
}

/** Signs the user in: a new session (and cookie value) replaces whatever the browser had. */
export function startWebSession(
  ctx: Context,
  reply: FastifyReply,
  user: UserRecord,
  request: FastifyRequest,
): Promise<WebSessionRecord> {
  return replaceSession(ctx, request, reply, { userId: user.id, pendingOtpUserId: null });
}

/** After a right password for a user with two-factor: a session that waits for the second factor. */
export function startPendingOtpSession(
  ctx: Context,
  reply: FastifyReply,
  user: UserRecord,
  request: FastifyRequest,
): Promise<WebSessionRecord> {
  return replaceSession(ctx, request, reply, { userId: null, pendingOtpUserId: user.id });
}

/** Ends the request's session and clears the cookie. */
export async function endWebSession(
  ctx: Context,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const found = await readAnySession(ctx, request);
  if (found !== null) await deleteWebSession(ctx, found.session.id);
  lookups.set(request, Promise.resolve(null));
  setSessionCookie(request, reply, '', 0);
}

/**
 * A local path to go back to after signing in, or undefined. Only paths on this server are kept: an
 * absolute or protocol-relative URL (`//evil.example`, `/\evil.example`) would be an open redirect.
 */
export function safeReturnTo(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return undefined;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return undefined;
  // Control characters and backslashes are read as slashes or dropped by some browsers.
  for (const c of value) {
    const code = c.charCodeAt(0);
    if (code < 0x20 || code === 0x7f || c === '\\') return undefined;
  }
  try {
    const url = new URL(value, 'http://woolly.invalid');
    if (url.origin !== 'http://woolly.invalid') return undefined;
  } catch {
    return undefined;
  }
  return value;
}

export function signInPath(returnTo?: string): string {
  const safe = safeReturnTo(returnTo);
  return safe ? `/auth/sign_in?return_to=${encodeURIComponent(safe)}` : '/auth/sign_in';
}

/** Where an unconfirmed or not-yet-approved user is sent (they may sign in, but not act yet). */
export const SETUP_PATH = '/auth/setup';

/** Whether the user may use the signed-in pages (confirmed, approved), like Mastodon's require_functional!. */
export function isFunctional(user: UserRecord): boolean {
  return user.confirmedAt !== null && user.approved;
}

/**
 * For pages that need a signed-in user: returns the session, or answers with a redirect (to the
 * sign-in page, coming back here afterwards; or to the notice page for users who cannot act yet)
 * and returns null. `functional: false` lets unconfirmed and unapproved users in.
 */
export async function requireWebUser(
  ctx: Context,
  request: FastifyRequest,
  reply: FastifyReply,
  options: { functional?: boolean } = {},
): Promise<SignedInSession | null> {
  const signedIn = await readWebSession(ctx, request);
  if (signedIn === null) {
    redirectPage(reply, signInPath(request.method === 'GET' ? request.url : undefined), 302);
    return null;
  }
  if ((options.functional ?? true) && !isFunctional(signedIn.user)) {
    redirectPage(reply, SETUP_PATH, 302);
    return null;
  }
  return signedIn;
}
