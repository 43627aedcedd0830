import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { AUTH_ERRORS, type RouteAuth } from '../../src/api/auth.ts';
import { ALL_SCOPES, scopesAllow } from '../../src/domain/auth/scopes.ts';
import { authenticateToken, issueAccessToken } from '../../src/domain/auth/tokens.ts';
import { createApplication } from '../../src/domain/oauth/applications.ts';
import { createTestUser, type TestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';

/**
 * The scope matrix: every route declared with `config.auth`, whoever added it, is checked for
 * Mastodon's answers — no token 401, a token without any accepted scope 403, an app-only token on
 * a user route 401, and a token holding only the parent scope (`read` for `read:accounts`) let
 * through. Routes are collected as the server registers them, so new routes are covered as they land.
 */
interface AuthRoute {
  method: string;
  url: string;
  auth: RouteAuth;
}

/** API routes that answer without any token, on purpose (Mastodon's public endpoints). */
const PUBLIC_API_ROUTES = new Set([
  'GET /api/v2/instance',
  'GET /api/v1/instance',
  'GET /api/v1/instance/extended_description',
  'GET /api/v1/instance/privacy_policy',
  'GET /api/v1/instance/languages',
  'GET /api/v1/instance/translation_languages',
  // Registering an app is how a client starts; it is throttled per IP instead.
  'POST /api/v1/apps',
  // A web role without streaming redirects streaming clients (Rails' StreamingController); the
  // streaming endpoints authenticate themselves (src/streaming/auth.ts).
  'GET /api/v1/streaming',
  'GET /api/v1/streaming/*',
]);

const AUTH_REFUSALS: readonly string[] = Object.values(AUTH_ERRORS);

const authRoutes: AuthRoute[] = [];
const undeclaredApiRoutes: string[] = [];
let applicationId: string;
let user: TestUser;
let ip = 0;

const api = apiHarness({
  onRoute: (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter(
      (m) => m !== 'HEAD' && m !== 'OPTIONS',
    );
    const auth = route.config?.auth;
    for (const method of methods) {
      if (auth !== undefined) authRoutes.push({ method, url: route.url, auth });
      else if (route.url.startsWith('/api/')) undeclaredApiRoutes.push(`${method} ${route.url}`);
    }
  },
});

api.before(async () => {
  const { application } = await createApplication(api.ctx, {
    name: 'matrix',
    redirectUris: 'urn:ietf:wg:oauth:2.0:oob',
    scopes: ALL_SCOPES.join(' '),
  });
  applicationId = application.id;
  user = await createTestUser(api.ctx, { username: 'matrix' });
});

/** A user whose token still works (a DELETE route may have removed or disabled the previous one). */
async function liveUser(): Promise<TestUser> {
  const auth = await authenticateToken(api.ctx, user.token);
  if (
    auth?.user == null ||
    auth.user.disabled ||
    auth.user.confirmedAt === null ||
    auth.account?.suspendedAt
  ) {
    user = await createTestUser(api.ctx);
  }
  return user;
}

async function userToken(scopes: string[]): Promise<string> {
  const owner = await liveUser();
  return (await issueAccessToken(api.ctx, { applicationId, userId: owner.user.id, scopes })).accessToken;
}

/** Path parameters get the test user's account id: a real id, so routes get past lookups. */
function concrete(url: string, id: string): string {
  return url.replace(/:[A-Za-z_][A-Za-z0-9_]*(\([^)]*\))?/g, id);
}

async function call(route: AuthRoute, token?: string): Promise<LightMyRequestResponse> {
  ip++;
  return api.inject({
    method: route.method as 'GET',
    url: concrete(route.url, (await liveUser()).account.id),
    // A different client address per request keeps the per-IP throttles out of the way.
    remoteAddress: `10.${(ip >> 16) & 255}.${(ip >> 8) & 255}.${ip & 255}`,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

const label = (r: AuthRoute) => `${r.method} ${r.url}`;

/** A scope that covers none of the route's: the most unrelated one available. */
function unrelatedScope(accepted: readonly string[]): string | undefined {
  return ['push', 'profile', 'read', 'write', ...ALL_SCOPES].find((s) => !scopesAllow([s], accepted));
}

/** The top-level scope over each accepted one: read:accounts → read, admin:write:reports → admin:write. */
function parentScopes(accepted: readonly string[]): string[] {
  return [
    ...new Set(
      accepted.map((s) =>
        (s.startsWith('admin:') ? s.split(':').slice(0, 2) : s.split(':').slice(0, 1)).join(':'),
      ),
    ),
  ];
}

function assertPassed(res: LightMyRequestResponse, what: string): void {
  assert.notEqual(res.statusCode, 401, `${what}: ${res.body}`);
  if (res.statusCode === 403) {
    const error = (res.json() as { error?: string }).error ?? '';
    assert.ok(!AUTH_REFUSALS.includes(error), `${what}: refused by authorization: ${res.body}`);
  }
}

/** Non-DELETE routes first, so a route removing something does not disturb the others. */
function ordered(): AuthRoute[] {
  return [...authRoutes].sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
}

describe('scope matrix over every authorized route', () => {
  test('the routes are collected (this file sees what the server registers)', () => {
    const names = authRoutes.map(label);
    assert.ok(names.includes('GET /api/v1/apps/verify_credentials'), names.join('\n'));
    assert.ok(names.includes('GET /oauth/userinfo'));
    assert.ok(names.includes('POST /oauth/userinfo'));
  });

  test('every API route declares its authorization, or is a known public one', () => {
    const unexpected = undeclaredApiRoutes.filter((r) => !PUBLIC_API_ROUTES.has(r));
    assert.deepEqual(
      unexpected,
      [],
      'declare `config: { auth: … }` on these routes (or list them in PUBLIC_API_ROUTES with a reason)',
    );
  });

  test('no token: 401 (anonymous requests pass the token check only where declared optional)', async () => {
    for (const route of ordered()) {
      const res = await call(route);
      if (route.auth.optional) {
        // The token layer lets it through; the route itself may still want a user (Mastodon's
        // emails/check_confirmation answers 401 "requires an authenticated user" then).
        if (res.statusCode === 401) {
          assert.equal(
            res.json().error,
            AUTH_ERRORS.userRequired,
            `${label(route)} is optional: ${res.body}`,
          );
        }
      } else {
        assert.equal(res.statusCode, 401, `${label(route)}: ${res.body}`);
        assert.equal(res.json().error, AUTH_ERRORS.invalidToken, label(route));
        assert.match(String(res.headers['www-authenticate']), /^Bearer/);
      }
    }
  });

  test('an invalid or revoked token: 401, even where anonymous access is allowed', async () => {
    const revoked = await userToken(['read', 'write', 'follow', 'push', 'profile']);
    await api.ctx.database.query('update oauth_access_tokens set revoked_at = now() where user_id = $1', [
      (await liveUser()).user.id,
    ]);
    for (const route of ordered()) {
      for (const token of ['not-a-token', revoked]) {
        const res = await call(route, token);
        assert.equal(res.statusCode, 401, `${label(route)}: ${res.body}`);
      }
    }
    user = await createTestUser(api.ctx, { username: 'matrix2' });
  });

  test('a token without any of the accepted scopes: 403', async () => {
    let checked = 0;
    for (const route of ordered()) {
      const accepted = route.auth.scopes ?? [];
      if (accepted.length === 0) continue;
      const scope = unrelatedScope(accepted);
      assert.ok(scope, `some scope lies outside ${accepted.join(' ')}`);
      const res = await call(route, await userToken([scope]));
      assert.equal(res.statusCode, 403, `${label(route)} with ${scope}: ${res.body}`);
      assert.equal(res.json().error, AUTH_ERRORS.scope, label(route));
      checked++;
    }
    assert.ok(checked > 0);
  });

  test('user routes: an app token (client credentials, every scope) is 401', async () => {
    const appToken = (
      await issueAccessToken(api.ctx, { applicationId, userId: null, scopes: [...ALL_SCOPES] })
    ).accessToken;
    let checked = 0;
    for (const route of ordered()) {
      if (!route.auth.user) continue;
      const res = await call(route, appToken);
      assert.equal(res.statusCode, 401, `${label(route)}: ${res.body}`);
      assert.equal(res.json().error, AUTH_ERRORS.userRequired, label(route));
      checked++;
    }
    assert.ok(checked > 0);
  });

  test('a token holding only a parent scope passes authorization', async () => {
    for (const route of ordered()) {
      const accepted = route.auth.scopes ?? [];
      const candidates = accepted.length === 0 ? [['read']] : parentScopes(accepted).map((s) => [s]);
      for (const scopes of candidates) {
        const res = await call(route, await userToken(scopes));
        assertPassed(res, `${label(route)} with ${scopes.join(' ')}`);
      }
    }
  });

  test('an unconfirmed user’s token is refused with 403 on user routes', async () => {
    const pending = await createTestUser(api.ctx, { confirmed: false, scopes: [...ALL_SCOPES] });
    let checked = 0;
    for (const route of ordered()) {
      if (!route.auth.user) continue;
      const res = await api.inject({
        method: route.method as 'GET',
        url: concrete(route.url, pending.account.id),
        headers: { authorization: `Bearer ${pending.token}` },
      });
      assert.equal(res.statusCode, 403, `${label(route)}: ${res.body}`);
      assert.equal(res.json().error, AUTH_ERRORS.unconfirmed, label(route));
      checked++;
    }
    assert.ok(checked > 0);
  });
});
