import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashSecret } from '../../src/domain/auth/secrets.ts';
import { issueAccessToken } from '../../src/domain/auth/tokens.ts';
import { apiHarness } from '../support/api.ts';
import { checkSchema } from '../support/openapi.ts';

const api = apiHarness({ rateLimits: {} });
/** Each registration comes from its own address, so the per-IP throttle only bites where tested. */
let nextIp = 1;
const freshIp = () => `10.0.${Math.floor(nextIp / 250)}.${(nextIp++ % 250) + 1}`;

async function register(payload: Record<string, unknown> | string, headers: Record<string, string> = {}) {
  return api.inject({
    method: 'POST',
    url: '/api/v1/apps',
    remoteAddress: freshIp(),
    ...(typeof payload === 'string'
      ? { payload, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } }
      : { payload, headers }),
  });
}

async function appCount(): Promise<number> {
  const [row] = await api.ctx.database.query<{ n: number }>(
    'select count(*)::int as n from oauth_applications',
  );
  return row!.n;
}

describe('POST /api/v1/apps', () => {
  test('registers an app and returns a CredentialApplication, storing only the secret hash', async () => {
    const res = await register({
      client_name: 'Phanpy',
      redirect_uris: 'https://phanpy.example/',
      scopes: 'read write follow push',
      website: 'https://phanpy.example',
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    checkSchema(body, 'CredentialApplication');
    assert.equal(body.name, 'Phanpy');
    assert.equal(body.website, 'https://phanpy.example');
    assert.deepEqual(body.scopes, ['read', 'write', 'follow', 'push']);
    assert.deepEqual(body.redirect_uris, ['https://phanpy.example/']);
    assert.equal(body.redirect_uri, 'https://phanpy.example/');
    assert.equal(body.vapid_key, api.ctx.secrets.VAPID_PUBLIC_KEY);
    assert.equal(body.client_secret_expires_at, 0);
    assert.match(body.client_id, /^[A-Za-z0-9_-]{43}$/);
    assert.match(body.client_secret, /^[A-Za-z0-9_-]{43}$/);
    assert.match(body.id, /^\d+$/);

    const [row] = await api.ctx.database.query<Record<string, string>>(
      'select * from oauth_applications where uid = $1',
      [body.client_id],
    );
    assert.ok(row);
    assert.equal(row.secret_hash, hashSecret(body.client_secret));
    assert.ok(!JSON.stringify(row).includes(body.client_secret), 'the clear secret is not stored');
  });

  test('defaults scopes to read and website to null; form bodies work', async () => {
    const res = await register('client_name=toot&redirect_uris=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob');
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    checkSchema(body, 'CredentialApplication');
    assert.deepEqual(body.scopes, ['read']);
    assert.equal(body.website, null);
    assert.deepEqual(body.redirect_uris, ['urn:ietf:wg:oauth:2.0:oob']);
  });

  test('accepts redirect_uris as an array or a whitespace-separated string, localhost and custom schemes', async () => {
    const list = ['http://localhost:4000/callback', 'myapp://oauth', 'urn:ietf:wg:oauth:2.0:oob'];
    const asArray = await register({ client_name: 'Elk', redirect_uris: list });
    assert.equal(asArray.statusCode, 200, asArray.body);
    assert.deepEqual(asArray.json().redirect_uris, list);
    assert.equal(asArray.json().redirect_uri, list.join('\n'));
    checkSchema(asArray.json(), 'CredentialApplication');

    const asString = await register({ client_name: 'Elk', redirect_uris: list.join('\n') });
    assert.equal(asString.statusCode, 200, asString.body);
    assert.deepEqual(asString.json().redirect_uris, list);

    const asForm = await register(
      `client_name=x&${list.map((u) => `redirect_uris[]=${encodeURIComponent(u)}`).join('&')}`,
    );
    assert.equal(asForm.statusCode, 200, asForm.body);
    assert.deepEqual(asForm.json().redirect_uris, list);
  });

  test('collapses duplicate scopes', async () => {
    const res = await register({
      client_name: 'dup',
      redirect_uris: 'myapp://cb',
      scopes: 'read read write read',
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().scopes, ['read', 'write']);
  });

  const invalid: [string, Record<string, unknown>, string, RegExp][] = [
    [
      'a missing client_name',
      { redirect_uris: 'myapp://cb' },
      'client_name',
      /Application name can't be blank/,
    ],
    [
      'a blank client_name',
      { client_name: '  ', redirect_uris: 'myapp://cb' },
      'client_name',
      /can't be blank/,
    ],
    [
      'a client_name over 60 characters',
      { client_name: 'a'.repeat(61), redirect_uris: 'myapp://cb' },
      'client_name',
      /Application name is too long \(maximum is 60 characters\)/,
    ],
    ['missing redirect_uris', { client_name: 'x' }, 'redirect_uris', /Redirect URI can't be blank/],
    [
      'an empty redirect_uris array',
      { client_name: 'x', redirect_uris: [] },
      'redirect_uris',
      /can't be blank/,
    ],
    [
      'a newline as redirect_uris',
      { client_name: 'x', redirect_uris: '\n' },
      'redirect_uris',
      /can't be blank/,
    ],
    [
      'a relative redirect URI',
      { client_name: 'x', redirect_uris: '/callback' },
      'redirect_uris',
      /Redirect URI must be an absolute URI\./,
    ],
    [
      'a javascript: redirect URI',
      { client_name: 'x', redirect_uris: 'javascript:alert(1)' },
      'redirect_uris',
      /Redirect URI is forbidden by the server\./,
    ],
    [
      'a data: redirect URI among good ones',
      { client_name: 'x', redirect_uris: ['https://ok.example/', 'data:text/html,hi'] },
      'redirect_uris',
      /forbidden/,
    ],
    [
      'a vbscript: redirect URI',
      { client_name: 'x', redirect_uris: 'VBScript:msgbox' },
      'redirect_uris',
      /forbidden/,
    ],
    [
      'a redirect URI with a fragment',
      { client_name: 'x', redirect_uris: 'https://app.example/cb#frag' },
      'redirect_uris',
      /cannot contain a fragment/,
    ],
    [
      'redirect URIs over 2000 characters',
      { client_name: 'x', redirect_uris: `https://app.example/${'a'.repeat(2000)}` },
      'redirect_uris',
      /Redirect URI is too long/,
    ],
    [
      'an unknown scope',
      { client_name: 'x', redirect_uris: 'myapp://cb', scopes: 'read hoge' },
      'scopes',
      /Scopes doesn't match configured on the server/,
    ],
    [
      'a website that is not a URL',
      { client_name: 'x', redirect_uris: 'myapp://cb', website: 'not a url' },
      'website',
      /Application website is invalid/,
    ],
    [
      'a website over 2000 characters',
      { client_name: 'x', redirect_uris: 'myapp://cb', website: `https://a.example/${'a'.repeat(2000)}` },
      'website',
      /Application website is too long/,
    ],
  ];
  for (const [what, payload, field, message] of invalid) {
    test(`refuses ${what} with 422 naming the field, creating nothing`, async () => {
      const before = await appCount();
      const res = await register(payload);
      assert.equal(res.statusCode, 422, res.body);
      const body = res.json();
      assert.match(body.error, /^Validation failed: /);
      assert.match(body.error, message);
      assert.ok(body.details?.[field], `details name ${field}: ${res.body}`);
      checkSchema(body, 'ValidationError');
      assert.equal(await appCount(), before);
    });
  }

  test('lists every wrong field at once', async () => {
    const res = await register({ client_name: '', redirect_uris: 'javascript:x', scopes: 'nope' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(Object.keys(res.json().details).sort(), ['client_name', 'redirect_uris', 'scopes']);
  });

  test('throttles registrations: 5 per IP per 10 minutes, then 429 with X-RateLimit headers', async () => {
    const ip = '192.0.2.77';
    const post = () =>
      api.inject({
        method: 'POST',
        url: '/api/v1/apps',
        remoteAddress: ip,
        payload: { client_name: 'flood', redirect_uris: 'myapp://cb' },
      });
    for (let i = 0; i < 5; i++) assert.equal((await post()).statusCode, 200);
    const before = await appCount();
    const res = await post();
    assert.equal(res.statusCode, 429, res.body);
    assert.deepEqual(res.json(), { error: 'Too many requests' });
    checkSchema(res.json(), 'Error');
    assert.equal(res.headers['x-ratelimit-limit'], '5');
    assert.equal(res.headers['x-ratelimit-remaining'], '0');
    const reset = Date.parse(String(res.headers['x-ratelimit-reset']));
    assert.ok(
      reset > Date.now() && reset <= Date.now() + 600_000 + 1000,
      String(res.headers['x-ratelimit-reset']),
    );
    assert.equal(await appCount(), before, 'nothing created when throttled');
    // Another address is not affected.
    const other = await register({ client_name: 'other', redirect_uris: 'myapp://cb' });
    assert.equal(other.statusCode, 200);
  });
});

describe('GET /api/v1/apps/verify_credentials', () => {
  test('answers the token’s app without its secret, for any token of the app', async () => {
    const created = (
      await register({ client_name: 'Verify', redirect_uris: 'myapp://cb', scopes: 'read write' })
    ).json();
    const appId = created.id as string;
    // A token with no user and a scope unrelated to reading: still enough to verify the app.
    const token = await issueAccessToken(api.ctx, { applicationId: appId, userId: null, scopes: ['push'] });
    const res = await api.inject({
      method: 'GET',
      url: '/api/v1/apps/verify_credentials',
      headers: { authorization: `Bearer ${token.accessToken}` },
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    checkSchema(body, 'Application');
    assert.equal(body.id, appId);
    assert.equal(body.name, 'Verify');
    assert.deepEqual(body.scopes, ['read', 'write']);
    assert.equal(body.client_secret, undefined);
    assert.equal(body.client_id, undefined);
  });

  test('401 without a token or with an unknown one', async () => {
    const none = await api.inject({ method: 'GET', url: '/api/v1/apps/verify_credentials' });
    assert.equal(none.statusCode, 401);
    assert.deepEqual(none.json(), { error: 'The access token is invalid' });
    checkSchema(none.json(), 'Error');
    const bad = await api.inject({
      method: 'GET',
      url: '/api/v1/apps/verify_credentials',
      headers: { authorization: 'Bearer nope' },
    });
    assert.equal(bad.statusCode, 401);
  });
});
