import type { IncomingMessage } from 'node:http';
import { userRole } from '../domain/accounts/roles.ts';
import { userBlockedReason } from '../domain/auth/access.ts';
import { authenticateToken } from '../domain/auth/tokens.ts';
import type { Context } from '../domain/context.ts';

/**
 * Who is streaming: every stream needs a user's token (mastodon.md §3). Errors carry Mastodon's
 * streaming messages and statuses (400 bad request, 401 authentication).
 */
export interface StreamViewer {
  tokenId: string;
  accountId: string;
  scopes: readonly string[];
  /** The user's role permissions (`view_feeds` lifts the feed-access settings). */
  permissions: number;
}

export class StreamError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'StreamError';
    this.status = status;
  }
}

export const UNEXPECTED_ERROR = 'An unexpected error occurred';

/** The status and message a client is shown for anything thrown while setting up a stream. */
export function errorStatusAndMessage(error: unknown): { status: number; message: string } {
  return error instanceof StreamError
    ? { status: error.status, message: error.message }
    : { status: 500, message: UNEXPECTED_ERROR };
}

export interface RequestToken {
  token: string;
  /** The token came as the WebSocket subprotocol, which the handshake must then echo. */
  viaProtocol: boolean;
}

/**
 * The token of a streaming request, in Mastodon's order: `Authorization: Bearer`, else the
 * `access_token` query parameter, else the whole `Sec-WebSocket-Protocol` value (browsers cannot
 * set headers on a WebSocket).
 */
export function requestToken(request: IncomingMessage, query: URLSearchParams): RequestToken | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && header !== '') {
    return { token: header.replace(/^Bearer\s+/i, '').trim(), viaProtocol: false };
  }
  const fromQuery = query.get('access_token');
  if (fromQuery) return { token: fromQuery, viaProtocol: false };
  const protocol = request.headers['sec-websocket-protocol'];
  if (typeof protocol === 'string' && protocol.trim() !== '') {
    return { token: protocol.trim(), viaProtocol: true };
  }
  return undefined;
}

/**
 * Resolves a token to its viewer, or throws 401: unknown or revoked tokens, application-only
 * tokens, and users who may not use the API (unconfirmed, pending, disabled, suspended).
 */
export async function authenticateStream(
  ctx: Pick<Context, 'database'>,
  token: string | undefined,
): Promise<StreamViewer> {
  if (token === undefined) throw new StreamError(401, 'Missing access token');
  const auth = await authenticateToken(ctx, token);
  if (auth?.user == null || userBlockedReason(auth.user, auth.account) !== undefined) {
    throw new StreamError(401, 'Invalid access token');
  }
  const { permissions } = await userRole(ctx, auth.user.roleId);
  return { tokenId: auth.tokenId, accountId: auth.user.accountId, scopes: auth.scopes, permissions };
}
