import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { accountPins, accounts, follows, mutes } from '../../src/db/schema/index.ts';
import { createTestUser, type TestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';

const api = apiHarness();
const { call, schema } = api;

const names = (body: { username: string }[]) => body.map((a) => a.username);
const follow = (a: TestUser, b: TestUser) => call(a, 'POST', `/api/v1/accounts/${b.account.id}/follow`);
const relationship = async (a: TestUser, b: TestUser) =>
  (await call(a, 'GET', `/api/v1/accounts/relationships?id[]=${b.account.id}`)).body[0];

function nextLink(headers: Record<string, unknown>): string | undefined {
  const found = /<([^>]+)>; rel="next"/.exec(String(headers.link ?? ''))?.[1];
  return found === undefined ? undefined : new URL(found).pathname + new URL(found).search;
}

describe('relationships', () => {
  test('batch, in the order asked, with the Relationship shape; unknown ids left out', async () => {
    const me = await createTestUser(api.ctx, { username: 'rel_me' });
    const a = await createTestUser(api.ctx, { username: 'rel_a' });
    const b = await createTestUser(api.ctx, { username: 'rel_b' });
    await follow(me, a);
    const res = await call(
      me,
      'GET',
      `/api/v1/accounts/relationships?id[]=${b.account.id}&id[]=999999&id[]=${a.account.id}&id[]=${a.account.id}`,
    );
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.map((r: { id: string }) => r.id),
      [b.account.id, a.account.id],
    );
    for (const r of res.body) schema(r, 'Relationship');
    assert.deepEqual(res.body[1], {
      id: a.account.id,
      following: true,
      showing_reblogs: true,
      notifying: false,
      languages: null,
      followed_by: false,
      blocking: false,
      blocked_by: false,
      muting: false,
      muting_notifications: false,
      muting_expires_at: null,
      requested: false,
      requested_by: false,
      domain_blocking: false,
      endorsed: false,
      note: '',
    });
    assert.deepEqual((await call(me, 'GET', '/api/v1/accounts/relationships')).body, []);
  });

  test('suspended accounts only with with_suspended; a user token is required', async () => {
    const me = await createTestUser(api.ctx, { username: 'rel_s_me' });
    const gone = await createTestUser(api.ctx, { username: 'rel_s_gone' });
    await api.ctx.database.db
      .update(accounts)
      .set({ suspendedAt: new Date() })
      .where(eq(accounts.id, gone.account.id));
    assert.deepEqual(
      (await call(me, 'GET', `/api/v1/accounts/relationships?id[]=${gone.account.id}`)).body,
      [],
    );
    const withSuspended = await call(
      me,
      'GET',
      `/api/v1/accounts/relationships?id[]=${gone.account.id}&with_suspended=true`,
    );
    assert.equal(withSuspended.body.length, 1);
    assert.equal(
      (await call(null, 'GET', `/api/v1/accounts/relationships?id[]=${me.account.id}`)).status,
      401,
    );
  });
});

describe('blocks', () => {
  test('a block removes follows and requests both ways, and is listed with Link', async () => {
    const alice = await createTestUser(api.ctx, { username: 'blk_alice' });
    const bob = await createTestUser(api.ctx, { username: 'blk_bob' });
    const carol = await createTestUser(api.ctx, { username: 'blk_carol' });
    await follow(alice, bob);
    await follow(bob, alice);
    await api.ctx.database.db.update(accounts).set({ locked: true }).where(eq(accounts.id, alice.account.id));
    await follow(carol, alice); // a pending request from carol to alice
    assert.equal((await relationship(alice, carol)).requested_by, true);

    const res = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/block`);
    assert.equal(res.status, 200);
    schema(res.body, 'Relationship');
    assert.equal(res.body.blocking, true);
    assert.equal(res.body.following, false);
    assert.equal(res.body.followed_by, false);
    const rows = await api.ctx.database.db
      .select()
      .from(follows)
      .where(eq(follows.targetAccountId, bob.account.id));
    assert.equal(rows.length, 0);
    assert.equal((await relationship(bob, alice)).blocked_by, true);
    assert.equal((await call(null, 'GET', `/api/v1/accounts/${bob.account.id}`)).body.followers_count, 0);
    assert.equal((await call(null, 'GET', `/api/v1/accounts/${alice.account.id}`)).body.following_count, 0);

    const res2 = await call(alice, 'POST', `/api/v1/accounts/${carol.account.id}/block`);
    assert.equal(res2.body.requested_by, false);
    assert.deepEqual((await call(alice, 'GET', '/api/v1/follow_requests')).body, []);

    const page = await call(alice, 'GET', '/api/v1/blocks?limit=1');
    assert.equal(page.status, 200);
    assert.deepEqual(names(page.body), ['blk_carol']);
    const next = nextLink(page.headers);
    assert.ok(next);
    assert.deepEqual(names((await call(alice, 'GET', next)).body), ['blk_bob']);

    const un = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/unblock`);
    assert.equal(un.body.blocking, false);
    assert.deepEqual(names((await call(alice, 'GET', '/api/v1/blocks')).body), ['blk_carol']);
    // Blocking oneself changes nothing.
    const self = await call(alice, 'POST', `/api/v1/accounts/${alice.account.id}/block`);
    assert.equal(self.body.blocking, false);
    assert.equal((await call(alice, 'POST', '/api/v1/accounts/424242/block')).status, 404);
  });

  test('the blocks list needs read:blocks', async () => {
    const narrow = await createTestUser(api.ctx, { username: 'blk_narrow', scopes: ['read:mutes'] });
    assert.equal((await call(narrow, 'GET', '/api/v1/blocks')).status, 403);
    assert.equal((await call(narrow, 'GET', '/api/v1/mutes')).status, 200);
  });
});

describe('mutes', () => {
  test('notifications default true; duration sets expires_at; an expired mute no longer counts', async () => {
    const alice = await createTestUser(api.ctx, { username: 'mut_alice' });
    const bob = await createTestUser(api.ctx, { username: 'mut_bob' });
    const carol = await createTestUser(api.ctx, { username: 'mut_carol' });
    const res = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/mute`);
    assert.equal(res.status, 200);
    schema(res.body, 'Relationship');
    assert.equal(res.body.muting, true);
    assert.equal(res.body.muting_notifications, true);
    assert.equal(res.body.muting_expires_at, null);

    const timed = await call(alice, 'POST', `/api/v1/accounts/${carol.account.id}/mute`, {
      notifications: false,
      duration: 3600,
    });
    assert.equal(timed.body.muting, true);
    assert.equal(timed.body.muting_notifications, false);
    const expires = Date.parse(timed.body.muting_expires_at);
    assert.ok(Math.abs(expires - (Date.now() + 3600_000)) < 60_000, timed.body.muting_expires_at);

    const list = await call(alice, 'GET', '/api/v1/mutes');
    assert.deepEqual(names(list.body), ['mut_carol', 'mut_bob']);
    for (const account of list.body) schema(account, 'MutedAccount');
    assert.equal(Date.parse(list.body[0].mute_expires_at), expires);
    assert.equal(list.body[1].mute_expires_at, null);

    // Muting again replaces the options (Mastodon's mute!).
    const again = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/mute`, {
      notifications: 'false',
    });
    assert.equal(again.body.muting_notifications, false);

    // Expire carol's mute: it is ignored everywhere at once.
    await api.ctx.database.db
      .update(mutes)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(and(eq(mutes.accountId, alice.account.id), eq(mutes.targetAccountId, carol.account.id)));
    assert.equal((await relationship(alice, carol)).muting, false);
    assert.deepEqual(names((await call(alice, 'GET', '/api/v1/mutes')).body), ['mut_bob']);

    const un = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/unmute`);
    assert.equal(un.body.muting, false);
    assert.deepEqual((await call(alice, 'GET', '/api/v1/mutes')).body, []);
  });

  test('a bad duration is 422 naming it and mutes nothing', async () => {
    const alice = await createTestUser(api.ctx, { username: 'mut_bad_alice' });
    const bob = await createTestUser(api.ctx, { username: 'mut_bad_bob' });
    for (const duration of ['-5', 'soon', '1.5', String(10 ** 12)]) {
      const res = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/mute`, { duration });
      assert.equal(res.status, 422, duration);
      assert.ok(res.body.details.duration, duration);
    }
    assert.equal((await relationship(alice, bob)).muting, false);
  });
});

describe('notes and endorsements', () => {
  test('note: set, replace, clear; too long is 422', async () => {
    const alice = await createTestUser(api.ctx, { username: 'note_alice' });
    const bob = await createTestUser(api.ctx, { username: 'note_bob' });
    const set = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/note`, {
      comment: 'met at a conference',
    });
    assert.equal(set.status, 200);
    assert.equal(set.body.note, 'met at a conference');
    assert.equal(
      (await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/note`, { comment: 'x' })).body.note,
      'x',
    );
    const long = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/note`, {
      comment: 'y'.repeat(2001),
    });
    assert.equal(long.status, 422);
    assert.ok(long.body.details.comment);
    assert.equal((await relationship(alice, bob)).note, 'x');
    assert.equal((await relationship(bob, alice)).note, '', 'a note is private to its writer');
    assert.equal(
      (await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/note`, { comment: '' })).body.note,
      '',
    );
  });

  test('endorse only followed accounts; pin/unpin aliases; lists; unfollow removes the endorsement', async () => {
    const alice = await createTestUser(api.ctx, { username: 'end_alice' });
    const bob = await createTestUser(api.ctx, { username: 'end_bob' });
    const carol = await createTestUser(api.ctx, { username: 'end_carol' });
    const refused = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/endorse`);
    assert.equal(refused.status, 422);
    assert.equal(
      refused.body.error,
      'Validation failed: You must be already following the person you want to endorse',
    );

    await follow(alice, bob);
    await follow(alice, carol);
    const ok = await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/endorse`);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.endorsed, true);
    assert.equal((await call(alice, 'POST', `/api/v1/accounts/${carol.account.id}/pin`)).body.endorsed, true);

    const mine = await call(alice, 'GET', '/api/v1/endorsements');
    assert.deepEqual(names(mine.body).sort(), ['end_bob', 'end_carol']);
    const all = await call(alice, 'GET', '/api/v1/endorsements?limit=0');
    assert.equal(all.body.length, 2);
    assert.equal(all.headers.link, undefined);
    const publicList = await call(null, 'GET', `/api/v1/accounts/${alice.account.id}/endorsements`);
    assert.equal(publicList.status, 200);
    assert.equal(publicList.body.length, 2);

    assert.equal(
      (await call(alice, 'POST', `/api/v1/accounts/${carol.account.id}/unpin`)).body.endorsed,
      false,
    );
    await call(alice, 'POST', `/api/v1/accounts/${bob.account.id}/unfollow`);
    const pins = await api.ctx.database.db
      .select()
      .from(accountPins)
      .where(eq(accountPins.accountId, alice.account.id));
    assert.equal(pins.length, 0);
    const scoped = await createTestUser(api.ctx, { username: 'end_scoped', scopes: ['write:follows'] });
    assert.equal((await call(scoped, 'POST', `/api/v1/accounts/${bob.account.id}/endorse`)).status, 403);
  });
});

describe('followers and following', () => {
  test('paged by the follow id with Link; hide_collections empties them for others only', async () => {
    const star = await createTestUser(api.ctx, { username: 'fol_star' });
    const fans: TestUser[] = [];
    for (let i = 0; i < 3; i++) {
      const fan = await createTestUser(api.ctx, { username: `fol_fan${i}` });
      fans.push(fan);
      await follow(fan, star);
    }
    const page1 = await call(null, 'GET', `/api/v1/accounts/${star.account.id}/followers?limit=2`);
    assert.equal(page1.status, 200);
    assert.deepEqual(names(page1.body), ['fol_fan2', 'fol_fan1']);
    for (const account of page1.body) schema(account, 'Account');
    const next = nextLink(page1.headers);
    assert.ok(next);
    const page2 = await call(null, 'GET', next);
    assert.deepEqual(names(page2.body), ['fol_fan0']);
    // min_id: the page just after the cursor.
    const prev = /<([^>]+)>; rel="prev"/.exec(String(page2.headers.link))?.[1];
    assert.ok(prev);
    const back = await call(null, 'GET', `${new URL(prev).pathname}${new URL(prev).search}&limit=1`);
    assert.deepEqual(names(back.body), ['fol_fan1']);

    const following = await call(null, 'GET', `/api/v1/accounts/${fans[0]!.account.id}/following`);
    assert.deepEqual(names(following.body), ['fol_star']);

    await api.ctx.database.db
      .update(accounts)
      .set({ hideCollections: true })
      .where(eq(accounts.id, star.account.id));
    assert.deepEqual((await call(null, 'GET', `/api/v1/accounts/${star.account.id}/followers`)).body, []);
    assert.deepEqual((await call(fans[0]!, 'GET', `/api/v1/accounts/${star.account.id}/followers`)).body, []);
    assert.equal((await call(star, 'GET', `/api/v1/accounts/${star.account.id}/followers`)).body.length, 3);
    assert.equal((await call(null, 'GET', '/api/v1/accounts/1234567/followers')).status, 404);
  });

  test('a viewer does not see accounts they block or mute; a blocker hides its lists from the blocked', async () => {
    const star = await createTestUser(api.ctx, { username: 'fv_star' });
    const viewer = await createTestUser(api.ctx, { username: 'fv_viewer' });
    const muted = await createTestUser(api.ctx, { username: 'fv_muted' });
    const plain = await createTestUser(api.ctx, { username: 'fv_plain' });
    await follow(muted, star);
    await follow(plain, star);
    await call(viewer, 'POST', `/api/v1/accounts/${muted.account.id}/mute`);
    assert.deepEqual(
      names((await call(viewer, 'GET', `/api/v1/accounts/${star.account.id}/followers`)).body),
      ['fv_plain'],
    );
    assert.equal((await call(null, 'GET', `/api/v1/accounts/${star.account.id}/followers`)).body.length, 2);
    await call(star, 'POST', `/api/v1/accounts/${viewer.account.id}/block`);
    assert.deepEqual((await call(viewer, 'GET', `/api/v1/accounts/${star.account.id}/followers`)).body, []);
  });
});

describe('familiar followers and search', () => {
  test('familiar followers: accounts I follow that follow them', async () => {
    const me = await createTestUser(api.ctx, { username: 'fam_me' });
    const friend = await createTestUser(api.ctx, { username: 'fam_friend' });
    const shy = await createTestUser(api.ctx, { username: 'fam_shy' });
    const stranger = await createTestUser(api.ctx, { username: 'fam_stranger' });
    const target = await createTestUser(api.ctx, { username: 'fam_target' });
    await follow(me, friend);
    await follow(me, shy);
    await follow(friend, target);
    await follow(shy, target);
    await follow(stranger, target);
    await api.ctx.database.db
      .update(accounts)
      .set({ hideCollections: true })
      .where(eq(accounts.id, shy.account.id));
    const res = await call(
      me,
      'GET',
      `/api/v1/accounts/familiar_followers?id[]=${target.account.id}&id[]=${friend.account.id}`,
    );
    assert.equal(res.status, 200);
    for (const entry of res.body) schema(entry, 'FamiliarFollowers');
    assert.equal(res.body[0].id, target.account.id);
    assert.deepEqual(names(res.body[0].accounts), ['fam_friend']);
    assert.deepEqual(res.body[1], { id: friend.account.id, accounts: [] });
  });

  test('search: prefix of username or display name, any case; following; limit and offset', async () => {
    const me = await createTestUser(api.ctx, { username: 'srch_me' });
    const one = await createTestUser(api.ctx, { username: 'zebra_one' });
    const two = await createTestUser(api.ctx, { username: 'zebra_two' });
    const named = await createTestUser(api.ctx, { username: 'quiet_person' });
    await api.ctx.database.db
      .update(accounts)
      .set({ displayName: 'Zebra Fan' })
      .where(eq(accounts.id, named.account.id));
    await follow(me, two);
    const res = await call(me, 'GET', '/api/v1/accounts/search?q=ZEBRA');
    assert.equal(res.status, 200);
    // Followed accounts first.
    assert.equal(res.body[0].username, 'zebra_two');
    assert.deepEqual(names(res.body).sort(), ['quiet_person', 'zebra_one', 'zebra_two']);
    assert.deepEqual(names((await call(me, 'GET', '/api/v1/accounts/search?q=zebra&following=true')).body), [
      'zebra_two',
    ]);
    assert.equal((await call(me, 'GET', '/api/v1/accounts/search?q=zebra&limit=1')).body.length, 1);
    assert.equal((await call(me, 'GET', '/api/v1/accounts/search?q=zebra&offset=2')).body.length, 1);
    // Exact match first, and @user@this-domain works.
    assert.equal(
      (await call(me, 'GET', '/api/v1/accounts/search?q=@zebra_one@woolly.test')).body[0].username,
      'zebra_one',
    );
    assert.deepEqual((await call(me, 'GET', '/api/v1/accounts/search?q=zebra@elsewhere.example')).body, []);
    assert.deepEqual((await call(me, 'GET', '/api/v1/accounts/search?q=')).body, []);
    // Wildcards are literal.
    assert.deepEqual((await call(me, 'GET', '/api/v1/accounts/search?q=%25')).body, []);
    assert.equal((await call(me, 'GET', '/api/v1/accounts/search?q=zebra&limit=-1')).status, 400);
    // Blocked accounts are not found.
    await call(one, 'POST', `/api/v1/accounts/${me.account.id}/block`);
    assert.ok(!names((await call(me, 'GET', '/api/v1/accounts/search?q=zebra')).body).includes('zebra_one'));
    assert.equal((await call(null, 'GET', '/api/v1/accounts/search?q=zebra')).status, 401);
  });
});
