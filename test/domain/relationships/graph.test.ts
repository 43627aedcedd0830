import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { newId } from '../../../src/db/ids.ts';
import { accounts, mutes, statuses } from '../../../src/db/schema/index.ts';
import { getAccount } from '../../../src/domain/accounts/views.ts';
import { isDomainError } from '../../../src/domain/errors.ts';
import { block } from '../../../src/domain/relationships/blocks.ts';
import { follow, unfollow } from '../../../src/domain/relationships/follows.ts';
import { expireMute, mute, unmute } from '../../../src/domain/relationships/mutes.ts';
import {
  blockedAccountIds,
  isFollowing,
  isMuting,
  localFollowerIds,
  localFollowersForDistribution,
  mutedAccountIds,
  relationships,
} from '../../../src/domain/relationships/queries.ts';
import { createTestUser, type TestUser } from '../../support/accounts.ts';
import { createTestContext, type TestContext } from '../../support/context.ts';

let ctx: TestContext;

before(async () => {
  ctx = await createTestContext();
});

after(async () => {
  await ctx?.close();
});

async function post(author: TestUser, text: string): Promise<string> {
  const id = newId();
  await ctx.database.db.insert(statuses).values({
    id,
    accountId: author.account.id,
    uri: `https://woolly.test/users/${author.account.username}/statuses/${id}`,
    text,
    content: `<p>${text}</p>`,
    visibility: 'public',
  });
  return id;
}

async function homeIds(user: TestUser): Promise<string[]> {
  return (await ctx.feeds.entries(user.account.id)).map((e) => e.statusId);
}

describe('queries', () => {
  test('localFollowersForDistribution carries show_reblogs and languages', async () => {
    const star = await createTestUser(ctx, { username: 'q_star' });
    const a = await createTestUser(ctx, { username: 'q_a' });
    const b = await createTestUser(ctx, { username: 'q_b' });
    await follow(ctx, a.account, star.account, { reblogs: false, languages: ['en'] });
    await follow(ctx, b.account, star.account);
    const followers = await localFollowersForDistribution(ctx, star.account.id);
    const byId = new Map(followers.map((f) => [f.accountId, f]));
    assert.deepEqual(byId.get(a.account.id), {
      accountId: a.account.id,
      showReblogs: false,
      languages: ['en'],
    });
    assert.deepEqual(byId.get(b.account.id), { accountId: b.account.id, showReblogs: true, languages: null });
    assert.deepEqual(
      (await localFollowerIds(ctx, star.account.id)).sort(),
      [a.account.id, b.account.id].sort(),
    );
    assert.equal(await isFollowing(ctx, a.account.id, star.account.id), true);
    assert.equal(await isFollowing(ctx, star.account.id, a.account.id), false);
  });

  test('relationships are batched and an expired mute is ignored', async () => {
    const me = await createTestUser(ctx, { username: 'q_me' });
    const x = await createTestUser(ctx, { username: 'q_x' });
    const y = await createTestUser(ctx, { username: 'q_y' });
    await mute(ctx, me.account.id, x.account.id, { duration: 60 });
    await mute(ctx, me.account.id, y.account.id, { notifications: false });
    assert.equal(await isMuting(ctx, me.account.id, x.account.id), true);
    assert.deepEqual((await mutedAccountIds(ctx, me.account.id, { notificationsOnly: true })).sort(), [
      x.account.id,
    ]);
    await ctx.database.db
      .update(mutes)
      .set({ expiresAt: new Date(Date.now() - 1) })
      .where(and(eq(mutes.accountId, me.account.id), eq(mutes.targetAccountId, x.account.id)));
    assert.equal(await isMuting(ctx, me.account.id, x.account.id), false);
    assert.deepEqual(await mutedAccountIds(ctx, me.account.id), [y.account.id]);
    const [rx, ry] = await relationships(ctx, me.account.id, [x.account.id, y.account.id]);
    assert.equal(rx?.muting, false);
    assert.equal(ry?.muting, true);
    assert.equal(ry?.mutingNotifications, false);
    assert.deepEqual(await relationships(ctx, me.account.id, []), []);
  });

  test('a follow on a locked account is a request; a block either way refuses', async () => {
    const owner = await createTestUser(ctx, { username: 'q_owner' });
    const fan = await createTestUser(ctx, { username: 'q_fan' });
    await ctx.database.db.update(accounts).set({ locked: true }).where(eq(accounts.id, owner.account.id));
    const locked = (await getAccount(ctx, owner.account.id))!.account;
    assert.equal(await follow(ctx, fan.account, locked), 'requested');
    assert.equal(await follow(ctx, fan.account, locked, { notify: true }), 'updated');
    await block(ctx, owner.account.id, fan.account.id);
    assert.deepEqual(await blockedAccountIds(ctx, fan.account.id), {
      blocking: [],
      blockedBy: [owner.account.id],
    });
    await assert.rejects(
      follow(ctx, fan.account, locked),
      (e) => isDomainError(e, 'forbidden') && e.message === 'This action is not allowed',
    );
    const [r] = await relationships(ctx, fan.account.id, [owner.account.id]);
    assert.equal(r?.requested, false);
  });
});

describe('home feed effects', () => {
  test('follow merges, unfollow removes, block clears both ways, mute clears and unmute restores', async () => {
    const alice = await createTestUser(ctx, { username: 'h_alice' });
    const bob = await createTestUser(ctx, { username: 'h_bob' });
    const own = await post(alice, 'mine');
    const bobs = await post(bob, 'hello');
    // Build both homes (as a first read would), so that merges have somewhere to go.
    await ctx.feeds.replace(alice.account.id, [{ statusId: own, reblogOfId: null }]);
    const bobOwn = await post(bob, 'own');
    await ctx.feeds.replace(bob.account.id, [{ statusId: bobOwn, reblogOfId: null }]);

    await follow(ctx, alice.account, bob.account);
    assert.ok((await homeIds(alice)).includes(bobs), 'following merges the followed account’s statuses');

    await mute(ctx, alice.account.id, bob.account.id);
    assert.ok(!(await homeIds(alice)).includes(bobs), 'a mute takes them out');
    await unmute(ctx, alice.account.id, bob.account.id);
    assert.ok((await homeIds(alice)).includes(bobs), 'unmuting a followed account brings them back');

    await unfollow(ctx, alice.account.id, bob.account.id);
    assert.ok(!(await homeIds(alice)).includes(bobs), 'unfollowing removes them');

    await follow(ctx, alice.account, bob.account);
    await follow(ctx, bob.account, alice.account);
    assert.ok((await homeIds(bob)).includes(own));
    await block(ctx, alice.account.id, bob.account.id);
    assert.ok(
      !(await homeIds(alice)).includes(bobs),
      'the blocked account’s statuses leave the blocker’s home',
    );
    assert.ok(!(await homeIds(bob)).includes(own), 'and the blocker’s leave the blocked account’s home');
    assert.equal(await isFollowing(ctx, alice.account.id, bob.account.id), false);
    assert.equal(await isFollowing(ctx, bob.account.id, alice.account.id), false);
  });

  test('a timed mute queues its end; when it comes the statuses return, unless the mute was renewed', async () => {
    const carol = await createTestUser(ctx, { username: 'h_carol' });
    const dave = await createTestUser(ctx, { username: 'h_dave' });
    const mine = await post(carol, 'mine');
    const daves = await post(dave, 'hi');
    await ctx.feeds.replace(carol.account.id, [{ statusId: mine, reblogOfId: null }]);
    await follow(ctx, carol.account, dave.account);
    const before = (await ctx.queue.counts()).default.delayed;
    await mute(ctx, carol.account.id, dave.account.id, { duration: 3600 });
    assert.equal((await ctx.queue.counts()).default.delayed, before + 1, 'the end of the mute is queued');
    assert.ok(!(await homeIds(carol)).includes(daves));
    // Not yet expired: the job changes nothing.
    assert.equal(await expireMute(ctx, carol.account.id, dave.account.id), false);
    assert.ok(!(await homeIds(carol)).includes(daves));
    // Expired: the mute goes and the statuses come back.
    await ctx.database.db
      .update(mutes)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(and(eq(mutes.accountId, carol.account.id), eq(mutes.targetAccountId, dave.account.id)));
    assert.equal(await expireMute(ctx, carol.account.id, dave.account.id), true);
    assert.ok((await homeIds(carol)).includes(daves));
  });
});
