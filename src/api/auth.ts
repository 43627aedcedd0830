import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccountRecord, UserRecord } from '../domain/accounts/records.ts';
import { USER_ACCESS_ERRORS, userBlockedReason } from '../domain/auth/access.ts';
import { scopesAllow } from '../domain/auth/scopes.ts';
import { authenticateToken, type TokenAuth } from '../domain/auth/tokens.ts';
import type { Context } from '../domain/context.ts';
import { ApiError } from './errors.ts';

/**
 * Bearer-token authentication for the REST API, declared per route:
 *
 *   app.get('/api/v1/accounts/verify_credentials',
 *     { config: { auth: { scopes: ['read', 'read:accounts'], user: true } } }, handler)
 *
 * - `scopes`: the token needs one of them (a parent scope covers its children);
 * - `user: true`: the token must act for a user (not a client_credentials token), and that user must
 *   be confirmed, approved and not disabled or suspended, as Mastodon's `require_user!`;
 * - `optional: true`: anonymous requests pass; a token, when given, must still be valid.
 * Routes without `auth` read no token at all (instance information and the like).
 *
 * The token comes from `Authorization: Bearer …`, or the `access_token` parameter (Doorkeeper's
 * from_access_token_param, which Mastodon enables).
 */
export interface RouteAuth {
  scopes?: readonly string[];
  user?: boolean;
  optional?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    /** The authenticated token, when the route reads one and one was given. */
    auth: TokenAuth | null;
  }
}

export const AUTH_ERRORS = {
  invalidToken: 'The access token is invalid',
  userRequired: 'This method requires an authenticated user',
  scope: 'This action is outside the authorized scopes',
  ...USER_ACCESS_ERRORS,
} as const;

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) return match[1];
  }
  const fromQuery = (request.query as Record<string, unknown> | undefined)?.access_token;
  if (typeof fromQuery === 'string' && fromQuery) return fromQuery;
  return undefined;
}

const invalid = (message: string = AUTH_ERRORS.invalidToken) =>
  new ApiError(401, message, { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });

export function registerAuth(app: FastifyInstance, ctx: Context): void {
  app.decorateRequest('auth', null);
  // preHandler, not onRequest: the access_token parameter may come in a form body.
  app.addHook('preHandler', async (request) => {
    const rule = request.routeOptions.config.auth;
    if (rule === undefined) return;
    const bearer = bearerToken(request) ?? bodyToken(request);
    if (bearer === undefined) {
      if (rule.optional) return;
      throw invalid();
    }
    const auth = await authenticateRequestToken(ctx, request, bearer);
    if (auth === null) throw invalid();
    request.auth = auth;
    if (rule.user) {
      if (auth.user === null) throw invalid(AUTH_ERRORS.userRequired);
      const blocked = userBlockedReason(auth.user, auth.account);
      if (blocked !== undefined) throw new ApiError(403, blocked);
    }
    if (rule.scopes && !scopesAllow(auth.scopes, rule.scopes)) {
      throw new ApiError(403, AUTH_ERRORS.scope, {
        headers: { 'www-authenticate': 'Bearer error="insufficient_scope"' },
      });
    }
  });
}

/**
 * One token lookup per request: the rate limiter (src/api/rate-limit.ts) resolves the token before
 * the route's authorization does, and both use the same answer.
 */
const lookups = new WeakMap<FastifyRequest, { bearer: string; result: Promise<TokenAuth | null> }>();

export function authenticateRequestToken(
  ctx: Context,
  request: FastifyRequest,
  bearer: string,
): Promise<TokenAuth | null> {
  const memo = lookups.get(request);
  if (memo !== undefined && memo.bearer === bearer) return memo.result;
  const result = authenticateToken(ctx, bearer);
  lookups.set(request, { bearer, result });
  return result;
}

function bodyToken(request: FastifyRequest): string | undefined {
  const body = request.body as Record<string, unknown> | undefined;
  return body && typeof body.access_token === 'string' && body.access_token ? body.access_token : undefined;
}

/** The signed-in user of a route declared with `user: true`. */
export function currentUser(request: FastifyRequest): {
  user: UserRecord;
  account: AccountRecord;
  auth: TokenAuth;
} {
  const auth = request.auth;
  if (auth?.user == null || auth.account == null) throw invalid(AUTH_ERRORS.userRequired);
  return { user: auth.user, account: auth.account, auth };
}
