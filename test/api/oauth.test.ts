import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { ALL_SCOPES } from '../../src/domain/auth/scopes.ts';
import { hashSecret } from '../../src/domain/auth/secrets.ts';
import { issueAccessToken } from '../../src/domain/auth/tokens.ts';
import {
  codeChallengeS256,
  createAuthorizationGrant,
  PASSWORD_GRANT_SETTING,
} from '../../src/domain/oauth/grants.ts';
import { updateSettings } from '../../src/domain/settings/settings.ts';
import { createTestApp, createTestUser, type TestApp, type TestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';
import { checkSchema } from '../support/openapi.ts';

const api = apiHarness();

function newApp(scopes?: string, redirectUris?: string | string[]): Promise<TestApp> {
  return createTestApp(api.ctx, { ...(scopes ? { scopes } : {}), ...(redirectUris ? { redirectUris } : {}) });
}

function token(payload: Record<string, string>, headers: Record<string, string> = {}, form = true) {
  return api.inject({
    method: 'POST',
    url: '/oauth/token',
    ...(form
      ? {
          payload: new URLSearchParams(payload).toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        }
      : { payload, headers }),
  });
}

function basic(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

function assertOAuthError(res: LightMyRequestResponse, status: number, error: string, description?: RegExp) {
  assert.equal(res.statusCode, status, res.body);
  const body = res.json();
  assert.equal(body.error, error, res.body);
  assert.equal(typeof body.error_description, 'string');
  if (description) assert.match(body.error_description, description);
  checkSchema(body, 'Error');
  assert.match(String(res.headers['cache-control']), /no-store/);
}

function assertToken(res: LightMyRequestResponse, scope: string): string {
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  checkSchema(body, 'Token');
  assert.equal(body.token_type, 'Bearer');
  assert.equal(body.scope, scope);
  assert.ok(Math.abs(body.created_at - Date.now() / 1000) < 60, 'created_at is in unix seconds');
  assert.match(body.access_token, /^[A-Za-z0-9_-]{43}$/);
  assert.match(String(res.headers['cache-control']), /no-store/);
  return body.access_token;
}

async function get(url: string, bearer?: string) {
  return api.inject({
    method: 'GET',
    url,
    headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
  });
}

async function tokenCount(): Promise<number> {
  const [row] = await api.ctx.database.query<{ n: number }>(
    'select count(*)::int as n from oauth_access_tokens',
  );
  return row!.n;
}

describe('POST /oauth/token: request and client errors', () => {
  test('a missing grant_type is invalid_request', async () => {
    const a = await newApp();
    assertOAuthError(
      await token({ client_id: a.clientId, client_secret: a.clientSecret }),
      400,
      'invalid_request',
      /Missing required parameter: grant_type\./,
    );
  });

  for (const grant of ['implicit', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'nope']) {
    test(`grant_type=${grant} is unsupported_grant_type`, async () => {
      const a = await newApp();
      assertOAuthError(
        await token({ grant_type: grant, client_id: a.clientId, client_secret: a.clientSecret }),
        400,
        'unsupported_grant_type',
      );
    });
  }

  test('client authentication failures are 401 invalid_client and issue nothing', async () => {
    const a = await newApp();
    const before = await tokenCount();
    const cases: [Record<string, string>, Record<string, string>][] = [
      [{ grant_type: 'client_credentials' }, {}],
      [{ grant_type: 'client_credentials', client_id: a.clientId }, {}],
      [{ grant_type: 'client_credentials', client_id: a.clientId, client_secret: 'wrong' }, {}],
      [{ grant_type: 'client_credentials', client_id: 'unknown', client_secret: a.clientSecret }, {}],
      [{ grant_type: 'client_credentials' }, { authorization: basic(a.clientId, 'wrong') }],
      [{ grant_type: 'client_credentials' }, { authorization: 'Basic !!!' }],
    ];
    for (const [payload, headers] of cases) {
      const res = await token(payload, headers);
      assertOAuthError(res, 401, 'invalid_client', /Client authentication failed/);
      assert.ok(res.headers['www-authenticate'], 'WWW-Authenticate on 401');
    }
    const viaBasic = await token(
      { grant_type: 'client_credentials' },
      { authorization: basic(a.clientId, 'x') },
    );
    assert.match(String(viaBasic.headers['www-authenticate']), /^Basic /);
    assert.equal(await tokenCount(), before);
  });

  test('answers 415 for other content types and 400 for malformed JSON', async () => {
    const res = await api.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: 'grant_type=client_credentials',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(res.statusCode, 415);
    const bad = await api.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: '{"grant_type":',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(bad.statusCode, 400);
    checkSchema(bad.json(), 'Error');
  });

  test('GET /oauth/token is 405', async () => {
    const res = await api.inject({ method: 'GET', url: '/oauth/token' });
    assert.equal(res.statusCode, 405);
    assert.match(String(res.headers.allow), /POST/);
  });
});

describe('POST /oauth/token: client_credentials', () => {
  test('client_secret_post with a form body: default scope read, a token without a user', async () => {
    const a = await newApp('read write');
    const access = assertToken(
      await token({ grant_type: 'client_credentials', client_id: a.clientId, client_secret: a.clientSecret }),
      'read',
    );
    const [row] = await api.ctx.database.query<{ user_id: string | null; application_id: string }>(
      'select user_id, application_id from oauth_access_tokens where token_hash = $1',
      [hashSecret(access)],
    );
    assert.equal(row?.user_id, null);
    assert.equal(row?.application_id, a.application.id);
    // The app can verify itself, but it is no user.
    assert.equal((await get('/api/v1/apps/verify_credentials', access)).statusCode, 200);
    const user = await get('/api/v1/accounts/verify_credentials', access);
    assert.equal(user.statusCode, 401);
    assert.equal(user.json().error, 'This method requires an authenticated user');
  });

  test('client_secret_basic with url-encoded credentials and a JSON body', async () => {
    const a = await newApp('read write');
    assertToken(
      await token(
        { grant_type: 'client_credentials', scope: 'write read' },
        { authorization: basic(a.clientId, a.clientSecret) },
        false,
      ),
      'write read',
    );
  });

  test('a scope within the app’s (a granular child of a parent) is granted', async () => {
    const a = await newApp('read write');
    assertToken(
      await token({
        grant_type: 'client_credentials',
        client_id: a.clientId,
        client_secret: a.clientSecret,
        scope: 'read:accounts write:statuses',
      }),
      'read:accounts write:statuses',
    );
  });

  for (const scope of ['admin:read', 'read push', 'bogus', 'read write:nope']) {
    test(`scope "${scope}" outside the app or unknown is invalid_scope`, async () => {
      const a = await newApp('read write');
      const before = await tokenCount();
      assertOAuthError(
        await token({
          grant_type: 'client_credentials',
          client_id: a.clientId,
          client_secret: a.clientSecret,
          scope,
        }),
        400,
        'invalid_scope',
        /The requested scope is invalid, unknown, or malformed\./,
      );
      assert.equal(await tokenCount(), before);
    });
  }

  test('the default scope is refused for an app without read', async () => {
    const a = await newApp('write');
    assertOAuthError(
      await token({ grant_type: 'client_credentials', client_id: a.clientId, client_secret: a.clientSecret }),
      400,
      'invalid_scope',
    );
  });
});

describe('POST /oauth/token: password', () => {
  let a: TestApp;
  let user: TestUser;

  before(async () => {
    a = await newApp('read write follow push');
    user = await createTestUser(api.ctx, { username: 'pwuser', email: 'PwUser@Example.test' });
  });

  const grant = (username: string, password: string, extra: Record<string, string> = {}) =>
    token({
      grant_type: 'password',
      client_id: a.clientId,
      client_secret: a.clientSecret,
      username,
      password,
      ...extra,
    });

  test('by e-mail (any case) or by username; the token works on the API', async () => {
    const byEmail = assertToken(
      await grant('pwuser@example.test', user.password, { scope: 'read write' }),
      'read write',
    );
    const me = await get('/api/v1/accounts/verify_credentials', byEmail);
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().id, user.account.id);
    assertToken(await grant('PWUSER', user.password), 'read');
  });

  test('a wrong password or an unknown user is invalid_grant', async () => {
    const before = await tokenCount();
    assertOAuthError(await grant('pwuser', 'wrong password'), 400, 'invalid_grant');
    assertOAuthError(await grant('nobody@example.test', 'whatever1'), 400, 'invalid_grant');
    assert.equal(await tokenCount(), before);
  });

  test('missing username or password is invalid_request', async () => {
    assertOAuthError(await grant('', user.password), 400, 'invalid_request', /username/);
    assertOAuthError(await grant('pwuser', ''), 400, 'invalid_request', /password/);
  });

  test('a scope beyond the app is invalid_scope', async () => {
    assertOAuthError(await grant('pwuser', user.password, { scope: 'admin:write' }), 400, 'invalid_scope');
  });

  test('refused for a user with two-factor authentication, a disabled user, a suspended account', async () => {
    const otp = await createTestUser(api.ctx);
    await api.ctx.database.query('update users set otp_required_for_login = true where id = $1', [
      otp.user.id,
    ]);
    assertOAuthError(await grant(otp.account.username, otp.password), 400, 'invalid_grant');

    const disabled = await createTestUser(api.ctx);
    await api.ctx.database.query('update users set disabled = true where id = $1', [disabled.user.id]);
    assertOAuthError(await grant(disabled.account.username, disabled.password), 400, 'invalid_grant');

    const suspended = await createTestUser(api.ctx);
    await api.ctx.database.query('update accounts set suspended_at = now() where id = $1', [
      suspended.account.id,
    ]);
    assertOAuthError(await grant(suspended.account.username, suspended.password), 400, 'invalid_grant');
  });

  test('an unconfirmed user gets a token, and the API then answers 403 with the reason (as Mastodon)', async () => {
    const unconfirmed = await createTestUser(api.ctx, { confirmed: false });
    const access = assertToken(await grant(unconfirmed.account.username, unconfirmed.password), 'read');
    const me = await get('/api/v1/accounts/verify_credentials', access);
    assert.equal(me.statusCode, 403);
    assert.equal(me.json().error, 'Your login is missing a confirmed e-mail address');
  });

  test('an instance setting turns the grant off, and the metadata stops advertising it', async () => {
    const advertised = async () =>
      (await get('/.well-known/oauth-authorization-server')).json().grant_types_supported as string[];
    assert.ok((await advertised()).includes('password'));
    await updateSettings(api.ctx, { [PASSWORD_GRANT_SETTING]: false });
    try {
      assertOAuthError(await grant('pwuser', user.password), 400, 'unsupported_grant_type');
      assert.ok(!(await advertised()).includes('password'));
    } finally {
      await updateSettings(api.ctx, { [PASSWORD_GRANT_SETTING]: true });
    }
    assertToken(await grant('pwuser', user.password), 'read');
  });
});

describe('POST /oauth/token: authorization_code', () => {
  let a: TestApp;
  let user: TestUser;
  const redirectUri = 'https://client.example/callback';
  const verifier = randomBytes(32).toString('base64url');

  before(async () => {
    a = await newApp('read write follow push');
    user = await createTestUser(api.ctx);
  });

  const code = (options: { pkce?: boolean; scopes?: string[]; redirect?: string; app?: TestApp } = {}) =>
    createAuthorizationGrant(api.ctx, {
      application: (options.app ?? a).application,
      userId: user.user.id,
      redirectUri: options.redirect ?? redirectUri,
      scopes: options.scopes ?? ['read', 'write'],
      ...(options.pkce === false
        ? {}
        : { codeChallenge: codeChallengeS256(verifier), codeChallengeMethod: 'S256' }),
    });

  const exchange = (c: string, extra: Record<string, string> = {}, who: TestApp = a) =>
    token({
      grant_type: 'authorization_code',
      client_id: who.clientId,
      client_secret: who.clientSecret,
      code: c,
      redirect_uri: redirectUri,
      code_verifier: verifier,
      ...extra,
    });

  test('a code with its verifier gives a token with the grant’s scopes; the code is single use', async () => {
    const c = await code();
    const access = assertToken(await exchange(c), 'read write');
    assert.equal((await get('/api/v1/accounts/verify_credentials', access)).statusCode, 200);
    assertOAuthError(await exchange(c), 400, 'invalid_grant', /The provided authorization grant is invalid/);
  });

  test('a code without PKCE needs no verifier, and refuses one', async () => {
    const c = await code({ pkce: false });
    assertOAuthError(await exchange(c, { code_verifier: verifier }), 400, 'invalid_grant');
    const { code_verifier: _drop, ...rest } = {
      grant_type: 'authorization_code',
      client_id: a.clientId,
      client_secret: a.clientSecret,
      code: c,
      redirect_uri: redirectUri,
      code_verifier: '',
    };
    assertToken(await token(rest), 'read write');
  });

  test('an expired code (over 10 minutes) is refused', async () => {
    const c = await code();
    await api.ctx.database.query(
      `update oauth_access_grants set expires_at = now() - interval '1 second' where token_hash = $1`,
      [hashSecret(c)],
    );
    assertOAuthError(await exchange(c), 400, 'invalid_grant');
  });

  test('a wrong verifier is refused and does not use up the code', async () => {
    const c = await code();
    assertOAuthError(
      await exchange(c, { code_verifier: randomBytes(32).toString('base64url') }),
      400,
      'invalid_grant',
    );
    assertOAuthError(await exchange(c, { code_verifier: 'short' }), 400, 'invalid_grant');
    assertToken(await exchange(c), 'read write');
  });

  test('a missing verifier for a PKCE code is invalid_request', async () => {
    const c = await code();
    assertOAuthError(await exchange(c, { code_verifier: '' }), 400, 'invalid_request', /code_verifier/);
  });

  test('a redirect_uri other than the grant’s is refused; a missing one is invalid_request', async () => {
    const c = await code();
    assertOAuthError(
      await exchange(c, { redirect_uri: 'https://client.example/other' }),
      400,
      'invalid_grant',
    );
    assertOAuthError(
      await exchange(c, { redirect_uri: 'https://evil.example/callback' }),
      400,
      'invalid_grant',
    );
    assertOAuthError(await exchange(c, { redirect_uri: '' }), 400, 'invalid_request', /redirect_uri/);
    assertToken(await exchange(c), 'read write');
  });

  test('a code issued to another app is refused; an unknown or missing code too', async () => {
    const other = await newApp();
    const c = await code();
    assertOAuthError(await exchange(c, {}, other), 400, 'invalid_grant');
    assertOAuthError(await exchange('not-a-code'), 400, 'invalid_grant');
    assertOAuthError(await exchange(''), 400, 'invalid_request', /code/);
    assertToken(await exchange(c), 'read write');
  });

  test('two exchanges racing for one code: exactly one gets a token', async () => {
    const c = await code();
    const results = await Promise.all([exchange(c), exchange(c), exchange(c)]);
    assert.equal(results.filter((r) => r.statusCode === 200).length, 1);
    assert.equal(results.filter((r) => r.statusCode === 400).length, 2);
  });
});

describe('POST /oauth/revoke', () => {
  test('revokes a token of the app: the API then answers 401', async () => {
    const a = await newApp();
    const user = await createTestUser(api.ctx);
    const issued = await issueAccessToken(api.ctx, {
      applicationId: a.application.id,
      userId: user.user.id,
      scopes: ['read'],
    });
    assert.equal((await get('/api/v1/accounts/verify_credentials', issued.accessToken)).statusCode, 200);
    const res = await api.inject({
      method: 'POST',
      url: '/oauth/revoke',
      payload: { client_id: a.clientId, client_secret: a.clientSecret, token: issued.accessToken },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), {});
    assert.equal((await get('/api/v1/accounts/verify_credentials', issued.accessToken)).statusCode, 401);
    // Revoking again, or an unknown token, is still 200 (RFC 7009 §2.2).
    const again = await api.inject({
      method: 'POST',
      url: '/oauth/revoke',
      headers: { authorization: basic(a.clientId, a.clientSecret) },
      payload: { token: issued.accessToken },
    });
    assert.equal(again.statusCode, 200);
    const unknown = await api.inject({
      method: 'POST',
      url: '/oauth/revoke',
      headers: { authorization: basic(a.clientId, a.clientSecret) },
      payload: { token: 'never-issued' },
    });
    assert.equal(unknown.statusCode, 200);
    assert.deepEqual(unknown.json(), {});
  });

  test('refuses a token of another app (403) and leaves it working', async () => {
    const owner = await newApp();
    const other = await newApp();
    const user = await createTestUser(api.ctx);
    const issued = await issueAccessToken(api.ctx, {
      applicationId: owner.application.id,
      userId: user.user.id,
      scopes: ['read'],
    });
    const res = await api.inject({
      method: 'POST',
      url: '/oauth/revoke',
      payload: { client_id: other.clientId, client_secret: other.clientSecret, token: issued.accessToken },
    });
    assert.equal(res.statusCode, 403, res.body);
    assert.equal(res.json().error, 'unauthorized_client');
    checkSchema(res.json(), 'Error');
    assert.equal((await get('/api/v1/accounts/verify_credentials', issued.accessToken)).statusCode, 200);
  });

  test('needs client authentication and a token', async () => {
    const a = await newApp();
    const user = await createTestUser(api.ctx);
    const noClient = await api.inject({
      method: 'POST',
      url: '/oauth/revoke',
      payload: { token: user.token },
    });
    assertOAuthError(noClient, 401, 'invalid_client');
    const wrongSecret = await api.inject({
      method: 'POST',
      url: '/oauth/revoke',
      payload: { client_id: a.clientId, client_secret: 'nope', token: user.token },
    });
    assertOAuthError(wrongSecret, 401, 'invalid_client');
    assert.equal((await get('/api/v1/accounts/verify_credentials', user.token)).statusCode, 200);
    const noToken = await api.inject({
      method: 'POST',
      url: '/oauth/revoke',
      payload: { client_id: a.clientId, client_secret: a.clientSecret },
    });
    assertOAuthError(noToken, 400, 'invalid_request', /token/);
  });
});

describe('GET|POST /oauth/userinfo', () => {
  test('answers the signed-in user’s claims with the profile scope', async () => {
    const user = await createTestUser(api.ctx, { scopes: ['profile'] });
    for (const method of ['GET', 'POST'] as const) {
      const res = await api.inject({
        method,
        url: '/oauth/userinfo',
        headers: { authorization: `Bearer ${user.token}` },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), {
        iss: `${api.ctx.config.baseUrl}/`,
        sub: user.account.uri,
        name: user.account.displayName,
        preferred_username: user.account.username,
        profile: user.account.url,
        picture: `${api.ctx.config.baseUrl}/avatars/original/missing.png`,
      });
    }
  });

  test('403 without the profile scope, 401 without a token or for an app token', async () => {
    const reader = await createTestUser(api.ctx, { scopes: ['read', 'write'] });
    const forbidden = await get('/oauth/userinfo', reader.token);
    assert.equal(forbidden.statusCode, 403);
    assert.equal(forbidden.json().error, 'This action is outside the authorized scopes');
    checkSchema(forbidden.json(), 'Error');
    assert.equal((await get('/oauth/userinfo')).statusCode, 401);
    const a = await newApp();
    const appToken = await issueAccessToken(api.ctx, {
      applicationId: a.application.id,
      userId: null,
      scopes: ['profile'],
    });
    assert.equal((await get('/oauth/userinfo', appToken.accessToken)).statusCode, 401);
  });
});

describe('GET /.well-known/oauth-authorization-server', () => {
  test('RFC 8414 metadata with S256, every scope and the endpoints', async () => {
    const res = await get('/.well-known/oauth-authorization-server');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const body = res.json();
    checkSchema(body, 'DiscoverOauthServerConfigurationResponse');
    const base = api.ctx.config.baseUrl;
    assert.equal(body.issuer, `${base}/`);
    assert.equal(body.authorization_endpoint, `${base}/oauth/authorize`);
    assert.equal(body.token_endpoint, `${base}/oauth/token`);
    assert.equal(body.revocation_endpoint, `${base}/oauth/revoke`);
    assert.equal(body.userinfo_endpoint, `${base}/oauth/userinfo`);
    assert.equal(body.app_registration_endpoint, `${base}/api/v1/apps`);
    assert.deepEqual(body.scopes_supported, [...ALL_SCOPES]);
    assert.deepEqual(body.response_types_supported, ['code']);
    assert.deepEqual(body.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(body.token_endpoint_auth_methods_supported, [
      'client_secret_basic',
      'client_secret_post',
    ]);
    assert.deepEqual(body.grant_types_supported, ['authorization_code', 'client_credentials', 'password']);
  });
});
