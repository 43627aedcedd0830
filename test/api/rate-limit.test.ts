import assert from 'node:assert/strict';
import { test } from 'node:test';
import { throttle, throttleIp } from '../../src/api/rate-limit.ts';
import { createTestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';
import { checkSchema } from '../support/openapi.ts';

// Mastodon's rules with small limits, so a test needs a handful of requests rather than 300.
const api = apiHarness({
  rateLimits: {
    overrides: {
      unauthenticated_api: { limit: 3 },
      per_token_api: { limit: 4 },
      authenticated_api: { limit: 6 },
      api_sign_up: { limit: 2 },
    },
  },
});

const fromIp = (ip: string) => ({ 'x-forwarded-for': ip });

test('anonymous API calls are counted per IP, with headers, then refused with 429', async () => {
  const ip = '203.0.113.7';
  const remaining: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await api.inject({ url: '/api/v1/instance', headers: fromIp(ip) });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-ratelimit-limit'], '3');
    remaining.push(String(res.headers['x-ratelimit-remaining']));
    assert.match(String(res.headers['x-ratelimit-reset']), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    assert.ok(Date.parse(String(res.headers['x-ratelimit-reset'])) > Date.now());
  }
  assert.deepEqual(remaining, ['2', '1', '0']);
  const refused = await api.inject({ url: '/api/v1/instance', headers: fromIp(ip) });
  assert.equal(refused.statusCode, 429);
  assert.deepEqual(refused.json(), { error: 'Too many requests' });
  checkSchema(refused.json(), 'Error');
  assert.equal(refused.headers['x-ratelimit-remaining'], '0');
  assert.equal(refused.headers['x-ratelimit-limit'], '3');
  // Another address is not affected; neither are pages outside the API.
  assert.equal(
    (await api.inject({ url: '/api/v1/instance', headers: fromIp('203.0.113.8') })).statusCode,
    200,
  );
  const health = await api.inject({ url: '/health', headers: fromIp(ip) });
  assert.equal(health.statusCode, 200);
  assert.equal(health.headers['x-ratelimit-limit'], undefined);
});

test('IPv6 clients share a counter per /64', async () => {
  assert.equal(throttleIp('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(throttleIp('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
  assert.equal(throttleIp('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(throttleIp('192.0.2.1'), '192.0.2.1');
  for (let i = 0; i < 3; i++) {
    const res = await api.inject({ url: '/api/v1/instance', headers: fromIp(`2001:db8:5:6::${i + 1}`) });
    assert.equal(res.statusCode, 200);
  }
  const refused = await api.inject({ url: '/api/v1/instance', headers: fromIp('2001:db8:5:6:ffff::9') });
  assert.equal(refused.statusCode, 429);
});

test('authenticated calls are counted per token and per user, not per IP', async () => {
  const user = await createTestUser(api.ctx);
  const headers = (i: number) => ({ authorization: `Bearer ${user.token}`, ...fromIp(`198.51.100.${i}`) });
  for (let i = 0; i < 4; i++) {
    const res = await api.inject({ url: '/api/v1/accounts/verify_credentials', headers: headers(i) });
    assert.equal(res.statusCode, 200, res.body);
    // The tightest throttle that applies: the token's (4), not the user's (6).
    assert.equal(res.headers['x-ratelimit-limit'], '4');
    assert.equal(res.headers['x-ratelimit-remaining'], String(3 - i));
  }
  const refused = await api.inject({ url: '/api/v1/accounts/verify_credentials', headers: headers(9) });
  assert.equal(refused.statusCode, 429);
  // A second token of the same user has its own per-token count but shares the user's.
  const { issueAccessToken } = await import('../../src/domain/auth/tokens.ts');
  const second = await issueAccessToken(api.ctx, {
    applicationId: null,
    userId: user.user.id,
    scopes: ['read'],
  });
  const other = { authorization: `Bearer ${second.accessToken}` };
  assert.equal(
    (await api.inject({ url: '/api/v1/accounts/verify_credentials', headers: other })).statusCode,
    200,
  );
  const last = await api.inject({ url: '/api/v1/accounts/verify_credentials', headers: other });
  assert.equal(last.headers['x-ratelimit-remaining'], '0');
  assert.equal(last.headers['x-ratelimit-limit'], '6');
  assert.equal(
    (await api.inject({ url: '/api/v1/accounts/verify_credentials', headers: other })).statusCode,
    429,
  );
});

test('sign-ups: at most the limit per IP, whatever the token', async () => {
  const ip = '192.0.2.200';
  const codes: number[] = [];
  for (let i = 0; i < 3; i++) {
    // Without a valid app token each attempt is refused (401), but it still counts.
    const res = await api.inject({
      method: 'POST',
      url: '/api/v1/accounts',
      headers: fromIp(ip),
      payload: {},
    });
    codes.push(res.statusCode);
  }
  assert.deepEqual(codes, [401, 401, 429]);
});

test('throttle() counts in fixed windows that reset', async () => {
  const period = 60;
  const start = Math.ceil(Date.now() / 1000 / period) * period * 1000 + 1000; // just after a boundary
  const a = await throttle(api.ctx, 'test_rule', 'someone@example.test', 2, period, start);
  const b = await throttle(api.ctx, 'test_rule', 'someone@example.test', 2, period, start + 1000);
  const c = await throttle(api.ctx, 'test_rule', 'someone@example.test', 2, period, start + 2000);
  assert.deepEqual([a.allowed, b.allowed, c.allowed], [true, true, false]);
  assert.equal(c.remaining, 0);
  assert.equal(a.resetAt.getTime(), start - 1000 + period * 1000);
  const next = await throttle(api.ctx, 'test_rule', 'someone@example.test', 2, period, start + period * 1000);
  assert.equal(next.allowed, true);
  assert.equal(next.count, 1);
});
