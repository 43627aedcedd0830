import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { newId } from '../../src/db/ids.ts';
import {
  createFeedStore,
  FEED_MAX_ITEMS,
  type FeedAddResult,
  type FeedEntry,
  type FeedStore,
} from '../../src/infra/feeds/feed-store.ts';
import { applyAdds } from '../../src/infra/feeds/rules.ts';
import { createTestUser } from '../support/accounts.ts';
import { createTestContext, type TestContext } from '../support/context.ts';

/** The outcome of an add, in a stable order (stores may list feeds in any order). */
const sorted = (r: FeedAddResult) => ({ added: [...r.added].sort(), unbuilt: [...r.unbuilt].sort() });

/**
 * The home feed store's contract, run against the database store always and against Redis when
 * REDIS_URL is set (the scaled shape).
 */
let ctx: TestContext;
const stores: { name: string; store: FeedStore }[] = [];

before(async () => {
  ctx = await createTestContext();
  stores.push({ name: 'database', store: await createFeedStore(undefined, ctx.database) });
  if (ctx.config.redis !== undefined) {
    const keyPrefix = `woolly-test-${randomBytes(6).toString('hex')}:`;
    stores.push({
      name: 'redis',
      store: await createFeedStore(ctx.config.redis, ctx.database, { keyPrefix }),
    });
  }
});

after(async () => {
  for (const { store } of stores) await store.close();
  await ctx?.close();
});

const original = (statusId: string): FeedEntry => ({ statusId, reblogOfId: null });
const reblog = (statusId: string, reblogOfId: string): FeedEntry => ({ statusId, reblogOfId });

/** Increasing ids, some beyond 2^53 with neighbours a unit apart (doubles could not tell them apart). */
function ids(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(newId());
  return out;
}

async function account(): Promise<string> {
  return (await createTestUser(ctx)).account.id;
}

for (const name of ['database', 'redis']) {
  describe(`${name} feed store`, () => {
    const store = () => {
      const found = stores.find((s) => s.name === name);
      return found?.store;
    };
    const skip = name === 'redis' && process.env.REDIS_URL === undefined ? 'REDIS_URL not set' : false;

    test('add goes only into feeds that exist; replace creates them', { skip }, async () => {
      const s = store()!;
      const [a, b] = [await account(), await account()];
      const [x, y] = ids(2) as [string, string];
      assert.equal(await s.exists(a), false);
      assert.deepEqual(sorted(await s.add([a, b], original(x))), { added: [], unbuilt: [a, b].sort() });
      assert.equal(await s.exists(a), false);
      await s.replace(a, [original(x)]);
      assert.equal(await s.exists(a), true);
      assert.deepEqual(sorted(await s.add([a, b], original(y))), { added: [a], unbuilt: [b] });
      assert.deepEqual(await s.page(a, { limit: 20 }), [y, x]);
      assert.equal(await s.exists(b), false);
      // The same status twice is one entry; the repeat is refused (neither added nor unbuilt).
      assert.deepEqual(sorted(await s.add([a], original(y))), { added: [], unbuilt: [] });
      assert.deepEqual(await s.page(a, { limit: 20 }), [y, x]);
    });

    test('pages by max_id, since_id and min_id, newest first, in numeric order beyond 2^53', {
      skip,
    }, async () => {
      const s = store()!;
      const a = await account();
      // Adjacent 64-bit ids: equal as doubles, so a score-ordered set could not order them.
      const base = 7_000_000_000_000_000_000n;
      const list = Array.from({ length: 10 }, (_, i) => (base + BigInt(i)).toString());
      assert.equal(Number(list[0]), Number(list[1]));
      await s.replace(a, [...list].reverse().map(original));
      const desc = [...list].reverse();
      assert.deepEqual(await s.page(a, { limit: 20 }), desc);
      assert.deepEqual(await s.page(a, { limit: 3 }), desc.slice(0, 3));
      assert.deepEqual(await s.page(a, { limit: 3, maxId: list[5]! }), [list[4], list[3], list[2]]);
      assert.deepEqual(await s.page(a, { limit: 3, sinceId: list[5]! }), [list[9], list[8], list[7]]);
      assert.deepEqual(await s.page(a, { limit: 3, minId: list[5]! }), [list[8], list[7], list[6]]);
      assert.deepEqual(await s.page(a, { limit: 20, minId: list[2]!, maxId: list[6]! }), [
        list[5],
        list[4],
        list[3],
      ]);
      assert.deepEqual(await s.page(a, { limit: 20, maxId: list[0]! }), []);
      // A cursor with fewer digits than the members compares numerically, not as text.
      assert.deepEqual(await s.page(a, { limit: 2, sinceId: '9' }), [list[9], list[8]]);
    });

    test('a boost of something among the newest 40 entries is skipped, and an original after its boost', {
      skip,
    }, async () => {
      const s = store()!;
      const a = await account();
      const [other, o, r1, r2, o2, r3] = ids(6) as [string, string, string, string, string, string];
      await s.replace(a, [original(o)]);
      assert.equal((await s.add([a], reblog(r1, o))).added.length, 0, 'the original is in the top 40');
      await s.replace(a, [original(other)]);
      assert.equal(
        (await s.add([a], reblog(r1, o))).added.length,
        1,
        'first boost of an original not in the feed',
      );
      assert.equal((await s.add([a], reblog(r2, o))).added.length, 0, 'second boost of the same original');
      assert.equal((await s.add([a], original(o))).added.length, 0, 'the original arrives after its boost');
      assert.equal((await s.add([a], reblog(r3, o2))).added.length, 1);
      assert.deepEqual(await s.page(a, { limit: 20 }), [r3, r1, other]);
      const entries = await s.entries(a);
      assert.deepEqual(entries[1], reblog(r1, o));
      assert.deepEqual(entries[2], original(other));
    });

    test('a boost is inserted again once the earlier one fell below the newest 40', { skip }, async () => {
      const s = store()!;
      const a = await account();
      const [o, r1] = ids(2) as [string, string];
      await s.replace(a, [reblog(r1, o)]);
      const filler = ids(40);
      for (const id of filler) await s.add([a], original(id));
      const [r2] = ids(1) as [string];
      assert.equal((await s.add([a], reblog(r2, o))).added.length, 1);
    });

    test(`keeps the newest ${FEED_MAX_ITEMS} entries`, { skip }, async () => {
      const s = store()!;
      const a = await account();
      const all = ids(FEED_MAX_ITEMS + 5);
      await s.replace(a, all.slice(0, FEED_MAX_ITEMS).map(original));
      assert.equal((await s.entries(a)).length, FEED_MAX_ITEMS);
      for (const id of all.slice(FEED_MAX_ITEMS))
        assert.equal((await s.add([a], original(id))).added.length, 1);
      let entries = await s.entries(a);
      // Redis trims on every insert; the database on about one in TRIM_EVERY (a fan-out's cost).
      if (s.kind === 'redis') assert.equal(entries.length, FEED_MAX_ITEMS);
      else assert.ok(entries.length >= FEED_MAX_ITEMS && entries.length <= FEED_MAX_ITEMS + 5);
      assert.equal(entries[0]!.statusId, all[all.length - 1]);
      // addMany trims exactly.
      const more = ids(3);
      assert.equal(await s.addMany(a, more.map(original)), 3);
      entries = await s.entries(a);
      assert.equal(entries.length, FEED_MAX_ITEMS);
      assert.equal(entries[0]!.statusId, more[2]);
      assert.equal(entries.at(-1)!.statusId, all[8]);
    });

    test('addMany merges under the same rules; remove and clear take entries out', { skip }, async () => {
      const s = store()!;
      const a = await account();
      const [x, o, r1, r2, y] = ids(5) as [string, string, string, string, string];
      assert.equal(await s.addMany(a, [original(x), reblog(r1, o), reblog(r2, o), original(y)]), 3);
      assert.deepEqual(await s.page(a, { limit: 20 }), [y, r1, x]);
      await s.remove([a], [r1, '12345']);
      assert.deepEqual(await s.page(a, { limit: 20 }), [y, x]);
      await s.clear(a);
      assert.equal(await s.exists(a), false);
      assert.deepEqual(await s.page(a, { limit: 20 }), []);
    });
  });
}

test('applyAdds applies the rules in id order whatever order entries come in', () => {
  const [a, o, r1, r2] = ids(4) as [string, string, string, string];
  const { feed, added } = applyAdds([], [reblog(r2, o), original(a), reblog(r1, o)]);
  assert.deepEqual(
    feed.map((e) => e.statusId),
    [r1, a],
  );
  assert.equal(added.length, 2);
  assert.equal(applyAdds([], ids(5).map(original), 3).feed.length, 3);
});
