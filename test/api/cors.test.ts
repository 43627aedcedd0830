import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiHarness } from '../support/api.ts';

const api = apiHarness();
const ORIGIN = 'https://elk.example';

const preflight = (url: string, method = 'POST', headers = 'authorization, content-type, idempotency-key') =>
  api.inject({
    method: 'OPTIONS',
    url,
    headers: {
      origin: ORIGIN,
      'access-control-request-method': method,
      'access-control-request-headers': headers,
    },
  });

describe('CORS for browser clients', () => {
  test('API preflights are answered 204 with methods, the requested headers and a max age', async () => {
    for (const url of ['/api/v1/apps', '/api/v1/accounts/verify_credentials', '/api/v2/instance']) {
      const res = await preflight(url);
      assert.equal(res.statusCode, 204, `${url}: ${res.body}`);
      assert.equal(res.body, '');
      assert.equal(res.headers['access-control-allow-origin'], '*');
      assert.equal(res.headers['access-control-allow-credentials'], undefined);
      assert.equal(res.headers['access-control-allow-methods'], 'POST, PUT, DELETE, GET, PATCH, OPTIONS');
      assert.equal(
        res.headers['access-control-allow-headers'],
        'authorization, content-type, idempotency-key',
      );
      assert.ok(Number(res.headers['access-control-max-age']) > 0);
    }
  });

  test('OAuth token, revoke and userinfo, well-known and nodeinfo preflights, with their methods', async () => {
    const cases: [string, string][] = [
      ['/oauth/token', 'POST'],
      ['/oauth/revoke', 'POST'],
      ['/oauth/userinfo', 'GET, POST'],
      ['/.well-known/oauth-authorization-server', 'GET'],
      ['/.well-known/webfinger?resource=acct:a@b', 'GET'],
      ['/nodeinfo/2.0', 'GET'],
    ];
    for (const [url, methods] of cases) {
      const res = await preflight(url, methods.split(', ')[0]);
      assert.equal(res.statusCode, 204, url);
      assert.equal(res.headers['access-control-allow-origin'], '*', url);
      assert.equal(res.headers['access-control-allow-methods'], methods, url);
    }
  });

  test('API responses expose Link and the rate-limit headers, errors included', async () => {
    const ok = await api.inject({ method: 'GET', url: '/api/v2/instance', headers: { origin: ORIGIN } });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.headers['access-control-allow-origin'], '*');
    const exposed = String(ok.headers['access-control-expose-headers']);
    for (const h of [
      'Link',
      'X-RateLimit-Reset',
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-Request-Id',
    ]) {
      assert.ok(exposed.includes(h), `${h} exposed: ${exposed}`);
    }
    const unauthorized = await api.inject({
      method: 'GET',
      url: '/api/v1/apps/verify_credentials',
      headers: { origin: ORIGIN },
    });
    assert.equal(unauthorized.statusCode, 401);
    assert.equal(
      unauthorized.headers['access-control-allow-origin'],
      '*',
      'a browser client can read the 401',
    );
    const missing = await api.inject({ method: 'GET', url: '/api/v1/nope', headers: { origin: ORIGIN } });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.headers['access-control-allow-origin'], '*');
    const token = await api.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { origin: ORIGIN },
      payload: {},
    });
    assert.equal(token.statusCode, 400);
    assert.equal(token.headers['access-control-allow-origin'], '*');
  });

  test('no CORS on the HTML pages: /oauth/authorize and /auth/*', async () => {
    for (const url of ['/oauth/authorize', '/auth/sign_in']) {
      const res = await api.inject({ method: 'GET', url, headers: { origin: ORIGIN } });
      assert.equal(res.headers['access-control-allow-origin'], undefined, url);
      const pre = await preflight(url);
      assert.notEqual(pre.statusCode, 204, url);
      assert.equal(pre.headers['access-control-allow-origin'], undefined, url);
      assert.equal(pre.headers['access-control-allow-methods'], undefined, url);
    }
    const authorize = await preflight('/oauth/authorize');
    assert.equal(authorize.statusCode, 405);
    assert.deepEqual(authorize.json(), { error: 'Method not allowed' });
  });

  test('an OPTIONS request that is not a preflight is routed as usual: 405 or 404', async () => {
    const known = await api.inject({ method: 'OPTIONS', url: '/api/v1/apps' });
    assert.equal(known.statusCode, 405);
    assert.equal(known.headers.allow, 'POST');
    assert.deepEqual(known.json(), { error: 'Method not allowed' });
    const unknown = await api.inject({ method: 'OPTIONS', url: '/api/v1/nothing-here' });
    assert.equal(unknown.statusCode, 404);
    assert.deepEqual(unknown.json(), { error: 'Record not found' });
    const noMethod = await api.inject({
      method: 'OPTIONS',
      url: '/api/v1/apps',
      headers: { origin: ORIGIN },
    });
    assert.equal(noMethod.statusCode, 405);
  });

  test('404 and 405 answers are unchanged by the preflight route', async () => {
    const wrongMethod = await api.inject({ method: 'GET', url: '/api/v1/apps' });
    assert.equal(wrongMethod.statusCode, 405);
    assert.equal(wrongMethod.headers.allow, 'POST');
    const token = await api.inject({ method: 'DELETE', url: '/oauth/token' });
    assert.equal(token.statusCode, 405);
    const page = await api.inject({ method: 'GET', url: '/no-such-page' });
    assert.equal(page.statusCode, 404);
    assert.match(String(page.headers['content-type']), /^text\/html/);
  });
});
