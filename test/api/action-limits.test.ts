import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { follows, statuses } from '../../src/db/schema/index.ts';
import { ACTION_LIMITS, type ActionFamily, actionLimitKey } from '../../src/domain/action-limits.ts';
import { createTestUser, type TestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';

/**
 * Mastodon's per-account action limits (mastodon.md §8.1): 300 statuses (posts, boosts, edits) per
 * 3 hours, 400 follows (requests included) per 24 hours. The counters are put near their limit in
 * the cache, so the tests exercise the real path without posting 300 times.
 */

const api = apiHarness({ rateLimits: { overrides: { per_token_api: { limit: 100_000 } } } });

async function call(
  user: TestUser,
  method: 'POST' | 'PUT' | 'PATCH',
  url: string,
  payload?: Record<string, unknown>,
) {
  const response = await api.inject({
    method,
    url,
    headers: { authorization: `Bearer ${user.token}` },
    ...(payload ? { payload } : {}),
  });
  return { status: response.statusCode, body: response.json(), headers: response.headers };
}

/** Sets the account's counter so that `left` actions remain in the current window. */
async function leave(user: TestUser, family: ActionFamily, left: number) {
  await api.ctx.cache.set(
    actionLimitKey(user.account.id, family),
    String(ACTION_LIMITS[family].limit - left),
    3600,
  );
}

async function statusCount(accountId: string) {
  return (await api.ctx.database.db.select().from(statuses).where(eq(statuses.accountId, accountId))).length;
}

describe('statuses: 300 per 3 hours', () => {
  test('a post reports the allowance in X-RateLimit-*; the one past it is 429 and creates nothing', async () => {
    const alice = await createTestUser(api.ctx, { username: 'limit_alice' });
    const first = await call(alice, 'POST', '/api/v1/statuses', { status: 'first' });
    assert.equal(first.status, 200);
    assert.equal(first.headers['x-ratelimit-limit'], '300');
    assert.equal(first.headers['x-ratelimit-remaining'], '299');
    const reset = new Date(String(first.headers['x-ratelimit-reset']));
    const windowEnd = Math.ceil(Date.now() / 1000 / (3 * 3600)) * 3 * 3600 * 1000;
    assert.equal(reset.getTime(), windowEnd, 'the window is aligned to the epoch');

    await leave(alice, 'statuses', 1);
    const last = await call(alice, 'POST', '/api/v1/statuses', { status: 'last one allowed' });
    assert.equal(last.status, 200);
    assert.equal(last.headers['x-ratelimit-remaining'], '0');

    const before = await statusCount(alice.account.id);
    const refused = await call(alice, 'POST', '/api/v1/statuses', { status: 'one too many' });
    assert.equal(refused.status, 429);
    assert.deepEqual(refused.body, { error: 'Too many requests' });
    assert.equal(refused.headers['x-ratelimit-limit'], '300');
    assert.equal(refused.headers['x-ratelimit-remaining'], '0');
    assert.ok(refused.headers['x-ratelimit-reset']);
    assert.equal(await statusCount(alice.account.id), before, 'nothing was created');
  });

  test('an invalid post uses up nothing', async () => {
    const bob = await createTestUser(api.ctx, { username: 'limit_bob' });
    await leave(bob, 'statuses', 1);
    const invalid = await call(bob, 'POST', '/api/v1/statuses', { status: 'x'.repeat(501) });
    assert.equal(invalid.status, 422);
    const ok = await call(bob, 'POST', '/api/v1/statuses', { status: 'still allowed' });
    assert.equal(ok.status, 200);
  });

  test('an Idempotency-Key repeat is answered without counting again', async () => {
    const carol = await createTestUser(api.ctx, { username: 'limit_carol' });
    await leave(carol, 'statuses', 1);
    const headers = { authorization: `Bearer ${carol.token}`, 'idempotency-key': 'same-post' };
    const first = await api.inject({
      method: 'POST',
      url: '/api/v1/statuses',
      headers,
      payload: { status: 'once' },
    });
    assert.equal(first.statusCode, 200);
    const again = await api.inject({
      method: 'POST',
      url: '/api/v1/statuses',
      headers,
      payload: { status: 'once' },
    });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().id, first.json().id);
  });

  test('boosts and edits count; a scheduled status does not', async () => {
    const dave = await createTestUser(api.ctx, { username: 'limit_dave' });
    const erin = await createTestUser(api.ctx, { username: 'limit_erin' });
    const post = await call(erin, 'POST', '/api/v1/statuses', { status: 'boost me' });
    const own = await call(dave, 'POST', '/api/v1/statuses', { status: 'edit me' });

    await leave(dave, 'statuses', 0);
    const boost = await call(dave, 'POST', `/api/v1/statuses/${post.body.id}/reblog`);
    assert.equal(boost.status, 429);
    const edit = await call(dave, 'PUT', `/api/v1/statuses/${own.body.id}`, { status: 'edited' });
    assert.equal(edit.status, 429);
    const scheduled = await call(dave, 'POST', '/api/v1/statuses', {
      status: 'later',
      scheduled_at: new Date(Date.now() + 3600_000).toISOString(),
    });
    assert.equal(scheduled.status, 200, 'scheduling creates no status yet');
    assert.equal(scheduled.body.params.text, 'later');

    await leave(dave, 'statuses', 2);
    const boosted = await call(dave, 'POST', `/api/v1/statuses/${post.body.id}/reblog`);
    assert.equal(boosted.status, 200);
    assert.equal(boosted.headers['x-ratelimit-remaining'], '1');
    const repeat = await call(dave, 'POST', `/api/v1/statuses/${post.body.id}/reblog`);
    assert.equal(repeat.status, 200, 'boosting again returns the existing boost');
    const edited = await call(dave, 'PUT', `/api/v1/statuses/${own.body.id}`, { status: 'edited' });
    assert.equal(edited.status, 200);
    const third = await call(dave, 'POST', '/api/v1/statuses', { status: 'no more' });
    assert.equal(third.status, 429, 'the boost and the edit used the last two');
  });
});

describe('follows: 400 per 24 hours', () => {
  test('follows and follow requests count; the one past the limit is 429 and follows nobody', async () => {
    const frank = await createTestUser(api.ctx, { username: 'limit_frank' });
    const open = await createTestUser(api.ctx, { username: 'limit_open' });
    const locked = await createTestUser(api.ctx, { username: 'limit_locked' });
    const third = await createTestUser(api.ctx, { username: 'limit_third' });
    await call(locked, 'PATCH', '/api/v1/accounts/update_credentials', { locked: true });

    await leave(frank, 'follows', 2);
    const followed = await call(frank, 'POST', `/api/v1/accounts/${open.account.id}/follow`);
    assert.equal(followed.status, 200);
    assert.equal(followed.body.following, true);
    assert.equal(followed.headers['x-ratelimit-limit'], '400');
    assert.equal(followed.headers['x-ratelimit-remaining'], '1');
    const requested = await call(frank, 'POST', `/api/v1/accounts/${locked.account.id}/follow`);
    assert.equal(requested.status, 200);
    assert.equal(requested.body.requested, true);
    assert.equal(requested.headers['x-ratelimit-remaining'], '0');

    const again = await call(frank, 'POST', `/api/v1/accounts/${open.account.id}/follow`, { reblogs: false });
    assert.equal(again.status, 200, 'changing an existing follow is not a new follow');

    const refused = await call(frank, 'POST', `/api/v1/accounts/${third.account.id}/follow`);
    assert.equal(refused.status, 429);
    assert.deepEqual(refused.body, { error: 'Too many requests' });
    const rows = await api.ctx.database.db
      .select()
      .from(follows)
      .where(eq(follows.targetAccountId, third.account.id));
    assert.equal(rows.length, 0);
  });
});
