import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { accountStats, accounts, followRequests, follows, notifications } from '../../src/db/schema/index.ts';
import { createTestUser, type TestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';

const api = apiHarness();
const { call, schema } = api;

async function counts(accountId: string) {
  const [row] = await api.ctx.database.db
    .select()
    .from(accountStats)
    .where(eq(accountStats.accountId, accountId));
  return { following: row?.followingCount ?? 0, followers: row?.followersCount ?? 0 };
}

async function notificationsOf(recipientId: string, fromId: string) {
  const rows = await api.ctx.database.db
    .select({ type: notifications.type })
    .from(notifications)
    .where(and(eq(notifications.accountId, recipientId), eq(notifications.fromAccountId, fromId)));
  return rows.map((r) => r.type).sort();
}

describe('follow and unfollow', () => {
  test('following an open account: relationship, counters, notification, account counts', async () => {
    const alice = await createTestUser(api.ctx, { username: 'f_alice' });
    const bob = await createTestUser(api.ctx, { username: 'f_bob' });
    const res = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/follow`);
    assert.equal(res.status, 200);
    schema(res.body, 'Relationship');
    assert.equal(res.body.id, bob.account.id);
    assert.equal(res.body.following, true);
    assert.equal(res.body.showing_reblogs, true);
    assert.equal(res.body.notifying, false);
    assert.equal(res.body.languages, null);
    assert.equal(res.body.requested, false);
    assert.deepEqual(await counts(alice.account.id), { following: 1, followers: 0 });
    assert.deepEqual(await counts(bob.account.id), { following: 0, followers: 1 });
    assert.deepEqual(await notificationsOf(bob.account.id, alice.account.id), ['follow']);

    // The Account entity shows the counters.
    const shown = await call(null, 'GET', `/api/v1/accounts/${bob.account.id}`);
    assert.equal(shown.body.followers_count, 1);
    const me = await call(alice, 'GET', `/api/v1/accounts/${alice.account.id}`);
    assert.equal(me.body.following_count, 1);

    // The reverse side sees followed_by.
    const reverse = await call(bob, 'GET', `/api/v1/accounts/relationships?id[]=${alice.account.id}`);
    assert.equal(reverse.body[0].followed_by, true);
    assert.equal(reverse.body[0].following, false);

    // Following again is idempotent: no second row, counters unchanged.
    const again = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/follow`);
    assert.equal(again.status, 200);
    assert.deepEqual(await counts(bob.account.id), { following: 0, followers: 1 });

    const un = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/unfollow`);
    assert.equal(un.status, 200);
    assert.equal(un.body.following, false);
    assert.deepEqual(await counts(alice.account.id), { following: 0, followers: 0 });
    assert.deepEqual(await counts(bob.account.id), { following: 0, followers: 0 });
    // The follow notification goes with the follow, as Mastodon's dependent destroy.
    assert.deepEqual(await notificationsOf(bob.account.id, alice.account.id), []);
    // Unfollowing someone not followed is fine.
    assert.equal((await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/unfollow`)).status, 200);
  });

  test('options: reblogs, notify and languages are set, then changed on an existing follow', async () => {
    const alice = await createTestUser(api.ctx, { username: 'o_alice' });
    const bob = await createTestUser(api.ctx, { username: 'o_bob' });
    const first = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/follow`, {
      reblogs: false,
      notify: true,
      languages: ['en', 'de'],
    });
    assert.equal(first.status, 200);
    assert.equal(first.body.showing_reblogs, false);
    assert.equal(first.body.notifying, true);
    assert.deepEqual(first.body.languages, ['en', 'de']);

    // Only what is given changes.
    const second = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/follow`, { reblogs: true });
    assert.equal(second.body.showing_reblogs, true);
    assert.equal(second.body.notifying, true);
    assert.deepEqual(second.body.languages, ['en', 'de']);

    // Form-encoded too, as Rails params.
    const form = await api.app.inject({
      method: 'POST',
      url: `/api/v1/accounts/${bob.account.id}/follow`,
      headers: {
        authorization: `Bearer ${alice.token}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: 'notify=false&languages[]=fr',
    });
    assert.equal(form.json().notifying, false);
    assert.deepEqual(form.json().languages, ['fr']);
    assert.deepEqual(await counts(bob.account.id), { following: 0, followers: 1 });
  });

  test('bad options are 422 naming the field and change nothing', async () => {
    const alice = await createTestUser(api.ctx, { username: 'b_alice' });
    const bob = await createTestUser(api.ctx, { username: 'b_bob' });
    const res = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/follow`, {
      languages: ['english'],
    });
    assert.equal(res.status, 422);
    assert.match(res.body.error, /Languages/);
    assert.ok(res.body.details.languages);
    const res2 = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/follow`, {
      reblogs: 'maybe',
      notify: {},
    });
    assert.equal(res2.status, 422);
    const rows = await api.ctx.database.db
      .select()
      .from(follows)
      .where(eq(follows.accountId, alice.account.id));
    assert.equal(rows.length, 0);
  });

  test('following oneself is 403 with Mastodon’s text; unknown accounts are 404', async () => {
    const alice = await createTestUser(api.ctx, { username: 's_alice' });
    const self = await call(alice, 'POST', `/api/v1/accounts/${alice.account.id}/follow`);
    assert.equal(self.status, 403);
    assert.equal(self.body.error, 'Following your own account is not allowed');
    for (const id of ['999999999', 'abc', '99999999999999999999']) {
      const res = await call(alice, 'POST', `/api/v1/accounts/${id}/follow`);
      assert.equal(res.status, 404, id);
      assert.equal(res.body.error, 'Record not found');
    }
    // An unconfirmed account does not exist for the API.
    const pending = await createTestUser(api.ctx, { username: 's_pending', confirmed: false });
    assert.equal((await call(alice, 'POST', `/api/v1/accounts/${pending.account.id}/follow`)).status, 404);
    // A suspended account cannot be followed.
    const gone = await createTestUser(api.ctx, { username: 's_gone' });
    await api.ctx.database.db
      .update(accounts)
      .set({ suspendedAt: new Date() })
      .where(eq(accounts.id, gone.account.id));
    assert.equal((await call(alice, 'POST', `/api/v1/accounts/${gone.account.id}/follow`)).status, 404);
  });

  test('a block either way refuses the follow with 403', async () => {
    const alice = await createTestUser(api.ctx, { username: 'k_alice' });
    const bob = await createTestUser(api.ctx, { username: 'k_bob' });
    assert.equal((await call(bob, 'POST', `/api/v1/accounts/${alice.account.id}/block`)).status, 200);
    const res = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/follow`);
    assert.equal(res.status, 403);
    assert.equal(res.body.error, 'This action is not allowed');
    const res2 = await call(bob, 'POST', `/api/v1/accounts/${alice.account.id}/follow`);
    assert.equal(res2.status, 403);
    assert.deepEqual(await counts(bob.account.id), { following: 0, followers: 0 });
  });

  test('scopes: follow needs write:follows (or follow/write); read-only tokens are 403; no token 401', async () => {
    const alice = await createTestUser(api.ctx, { username: 'sc_alice', scopes: ['read'] });
    const narrow = await createTestUser(api.ctx, { username: 'sc_narrow', scopes: ['write:follows'] });
    const bob = await createTestUser(api.ctx, { username: 'sc_bob' });
    const denied = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/follow`);
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error, 'This action is outside the authorized scopes');
    assert.equal((await call(null, 'POST', `/api/v1/accounts/${bob.account.id}/follow`)).status, 401);
    assert.equal((await call(narrow, 'POST', `/api/v1/accounts/${bob.account.id}/follow`)).status, 200);
    // write:follows does not cover blocks.
    assert.equal((await call(narrow, 'POST', `/api/v1/accounts/${bob.account.id}/block`)).status, 403);
  });

  test('remove_from_followers ends the other account’s follow', async () => {
    const alice = await createTestUser(api.ctx, { username: 'r_alice' });
    const bob = await createTestUser(api.ctx, { username: 'r_bob' });
    await call(bob, 'POST', `/api/v1/accounts/${alice.account.id}/follow`);
    assert.equal((await counts(alice.account.id)).followers, 1);
    const res = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/remove_from_followers`);
    assert.equal(res.status, 200);
    assert.equal(res.body.followed_by, false);
    assert.deepEqual(await counts(alice.account.id), { following: 0, followers: 0 });
    assert.deepEqual(await counts(bob.account.id), { following: 0, followers: 0 });
  });
});

describe('locked accounts and follow requests', () => {
  test('request, list with Link, authorize; and reject', async () => {
    const owner = await createTestUser(api.ctx, { username: 'l_owner' });
    await api.ctx.database.db.update(accounts).set({ locked: true }).where(eq(accounts.id, owner.account.id));
    const fans: TestUser[] = [];
    for (let i = 0; i < 3; i++) fans.push(await createTestUser(api.ctx, { username: `l_fan${i}` }));

    for (const fan of fans) {
      const res = await call(fan, 'POST', `/api/v1/accounts/${owner.account.id}/follow`, { notify: true });
      assert.equal(res.status, 200);
      assert.equal(res.body.following, false);
      assert.equal(res.body.requested, true);
      // A pending request shows its options already.
      assert.equal(res.body.notifying, true);
    }
    assert.deepEqual(await counts(owner.account.id), { following: 0, followers: 0 });
    assert.deepEqual(await notificationsOf(owner.account.id, fans[0]!.account.id), ['follow_request']);

    const rel = await call(owner, 'GET', `/api/v1/accounts/relationships?id[]=${fans[0]!.account.id}`);
    assert.equal(rel.body[0].requested_by, true);

    // The credential account counts pending requests.
    const me = await call(owner, 'GET', '/api/v1/accounts/verify_credentials');
    assert.equal(me.body.source.follow_requests_count, 3);

    // Newest first, paged by the request's id with Link headers.
    const page1 = await call(owner, 'GET', '/api/v1/follow_requests?limit=2');
    assert.equal(page1.status, 200);
    assert.deepEqual(
      page1.body.map((a: { username: string }) => a.username),
      ['l_fan2', 'l_fan1'],
    );
    for (const account of page1.body) schema(account, 'Account');
    const link = String(page1.headers.link);
    const next = /<([^>]+)>; rel="next"/.exec(link)?.[1];
    assert.ok(next, link);
    assert.match(link, /rel="prev"/);
    const [requestRow] = await api.ctx.database.db
      .select({ id: followRequests.id })
      .from(followRequests)
      .where(eq(followRequests.accountId, fans[1]!.account.id));
    assert.ok(
      next.includes(`max_id=${requestRow!.id}`),
      'the cursor is the request row id, not the account id',
    );
    const page2 = await call(owner, 'GET', new URL(next).pathname + new URL(next).search);
    assert.deepEqual(
      page2.body.map((a: { username: string }) => a.username),
      ['l_fan0'],
    );
    assert.doesNotMatch(String(page2.headers.link), /rel="next"/, 'no next link on a page that is not full');

    // Authorize fan0: a follow with the request's options, the request notification becomes a follow one.
    const ok = await call(owner, 'POST', `/api/v1/follow_requests/${fans[0]!.account.id}/authorize`);
    assert.equal(ok.status, 200);
    schema(ok.body, 'Relationship');
    assert.equal(ok.body.followed_by, true);
    assert.equal(ok.body.requested_by, false);
    const fanView = await call(fans[0]!, 'GET', `/api/v1/accounts/relationships?id[]=${owner.account.id}`);
    assert.equal(fanView.body[0].following, true);
    assert.equal(fanView.body[0].notifying, true);
    assert.equal(fanView.body[0].requested, false);
    assert.deepEqual(await counts(owner.account.id), { following: 0, followers: 1 });
    assert.deepEqual(await notificationsOf(owner.account.id, fans[0]!.account.id), ['follow']);

    // Reject fan1: no follow, no notification left.
    const no = await call(owner, 'POST', `/api/v1/follow_requests/${fans[1]!.account.id}/reject`);
    assert.equal(no.status, 200);
    assert.equal(no.body.requested_by, false);
    assert.equal(no.body.followed_by, false);
    assert.deepEqual(await notificationsOf(owner.account.id, fans[1]!.account.id), []);

    // Nothing pending (again) → 404.
    assert.equal(
      (await call(owner, 'POST', `/api/v1/follow_requests/${fans[1]!.account.id}/authorize`)).status,
      404,
    );
    assert.equal(
      (await call(owner, 'POST', `/api/v1/follow_requests/${fans[0]!.account.id}/reject`)).status,
      404,
    );
    assert.equal((await call(owner, 'POST', '/api/v1/follow_requests/nope/authorize')).status, 404);

    // fan2 withdraws by unfollowing.
    const withdrawn = await call(fans[2]!, 'POST', `/api/v1/accounts/${owner.account.id}/unfollow`);
    assert.equal(withdrawn.body.requested, false);
    assert.deepEqual((await call(owner, 'GET', '/api/v1/follow_requests')).body, []);
    assert.deepEqual(await notificationsOf(owner.account.id, fans[2]!.account.id), []);
  });
});
