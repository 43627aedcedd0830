import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type Cache, createCache } from '../../src/infra/cache/index.ts';
import { MemoryCache } from '../../src/infra/cache/memory.ts';
import { closeRedisClient, createRedisClient } from '../../src/infra/redis-connection.ts';
import { testRedisConfig } from '../support/redis.ts';

const redisConfig = testRedisConfig();
const prefix = `woolly-test:${randomBytes(6).toString('hex')}:`;

let keyCounter = 0;
const uniqueKey = (label: string) => `${label}:${++keyCounter}`;

function contract(name: string, make: () => Promise<Cache>) {
  // Concurrent so the 1 s expiry waits overlap; every test uses its own keys.
  describe(name, { concurrency: true }, () => {
    let cache: Cache;
    before(async () => {
      cache = await make();
    });
    after(async () => {
      await cache.close();
    });

    test('get returns what set stored, and null for a missing key', async () => {
      const key = uniqueKey('value');
      assert.equal(await cache.get(key), null);
      await cache.set(key, 'first');
      assert.equal(await cache.get(key), 'first');
      await cache.set(key, 'ünïcödé 🐑');
      assert.equal(await cache.get(key), 'ünïcödé 🐑');
      await cache.set(key, '');
      assert.equal(await cache.get(key), '');
    });

    test('del removes a key and ignores a missing one', async () => {
      const key = uniqueKey('del');
      await cache.set(key, 'x');
      await cache.del(key);
      assert.equal(await cache.get(key), null);
      await cache.del(uniqueKey('never-set'));
    });

    test('a value with a TTL expires; one without does not; setting again resets the TTL', async () => {
      const short = uniqueKey('ttl');
      const forever = uniqueKey('no-ttl');
      const replaced = uniqueKey('replaced');
      await cache.set(short, 'soon gone', 1);
      await cache.set(forever, 'stays');
      await cache.set(replaced, 'v1', 1);
      await cache.set(replaced, 'v2');
      assert.equal(await cache.get(short), 'soon gone');
      await sleep(1100);
      assert.equal(await cache.get(short), null);
      assert.equal(await cache.get(forever), 'stays');
      assert.equal(await cache.get(replaced), 'v2');
    });

    test('incr counts from 1 and reports the window', async () => {
      const key = uniqueKey('rate');
      assert.deepEqual(await cache.incr(key, 300), { count: 1, ttlSeconds: 300 });
      const second = await cache.incr(key, 300);
      assert.equal(second.count, 2);
      assert.ok(second.ttlSeconds <= 300 && second.ttlSeconds >= 299, `ttl ${second.ttlSeconds}`);
      assert.equal((await cache.incr(key, 300)).count, 3);
      assert.equal(await cache.get(key), '3');
      assert.equal((await cache.incr(uniqueKey('rate-other'), 300)).count, 1, 'keys count separately');
    });

    test('incr keeps the window of the first hit: later hits do not extend it', async () => {
      const key = uniqueKey('window');
      assert.equal((await cache.incr(key, 1)).count, 1);
      await sleep(600);
      // A later hit asking for a longer window still gets the original one.
      const mid = await cache.incr(key, 60);
      assert.equal(mid.count, 2);
      assert.equal(mid.ttlSeconds, 1, 'remaining TTL is what is left of the first window');
      await sleep(500);
      // Had the window been extended at 600 ms, this would be 3.
      assert.deepEqual(await cache.incr(key, 1), { count: 1, ttlSeconds: 1 });
    });

    test('incr is atomic under concurrent hits', async () => {
      const key = uniqueKey('burst');
      const results = await Promise.all(Array.from({ length: 25 }, () => cache.incr(key, 60)));
      assert.deepEqual(
        results.map((r) => r.count).sort((a, b) => a - b),
        Array.from({ length: 25 }, (_, i) => i + 1),
      );
    });

    test('incrMany counts several windows in one call, answering in the order given', async () => {
      const a = uniqueKey('many-a');
      const b = uniqueKey('many-b');
      await cache.incr(a, 300);
      assert.deepEqual(await cache.incrMany([]), []);
      const first = await cache.incrMany([
        { key: a, ttlSeconds: 300 },
        { key: b, ttlSeconds: 900 },
        { key: a, ttlSeconds: 300 },
      ]);
      assert.deepEqual(
        first.map((c) => c.count),
        [2, 1, 3],
        'a key given twice counts twice',
      );
      assert.ok(first[0]!.ttlSeconds <= 300 && first[0]!.ttlSeconds >= 299, `ttl ${first[0]!.ttlSeconds}`);
      assert.equal(first[1]!.ttlSeconds, 900, 'each key gets its own window');
      assert.deepEqual(
        (
          await cache.incrMany([
            { key: b, ttlSeconds: 900 },
            { key: a, ttlSeconds: 300 },
          ])
        ).map((c) => c.count),
        [2, 4],
      );
      assert.equal(await cache.get(a), '4');
    });

    test('incrMany keeps each first window and is atomic under concurrent calls', async () => {
      const short = uniqueKey('many-short');
      const long = uniqueKey('many-long');
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          cache.incrMany([
            { key: short, ttlSeconds: 1 },
            { key: long, ttlSeconds: 60 },
          ]),
        ),
      );
      const counts = (i: number) => results.map((r) => r[i]!.count).sort((x, y) => x - y);
      assert.deepEqual(
        counts(0),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      assert.deepEqual(
        counts(1),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      await sleep(1100);
      const [again, still] = await cache.incrMany([
        { key: short, ttlSeconds: 60 },
        { key: long, ttlSeconds: 1 },
      ]);
      assert.deepEqual(again, { count: 1, ttlSeconds: 60 }, 'the short window ended and a new one began');
      assert.equal(still!.count, 21);
      assert.ok(still!.ttlSeconds > 50, 'a later hit does not shorten the window either');
    });

    test('incr gives a counter left without expiry a window', async () => {
      const key = uniqueKey('stale-counter');
      await cache.set(key, '41');
      assert.deepEqual(await cache.incr(key, 1), { count: 42, ttlSeconds: 1 });
      await sleep(1100);
      assert.equal(await cache.get(key), null);
    });

    test('setIfAbsent stores only when missing, and the lock expires', async () => {
      const key = uniqueKey('lock');
      assert.equal(await cache.setIfAbsent(key, 'owner-a', 1), true);
      assert.equal(await cache.setIfAbsent(key, 'owner-b', 1), false);
      assert.equal(await cache.get(key), 'owner-a');
      await sleep(1100);
      assert.equal(await cache.get(key), null);
      assert.equal(await cache.setIfAbsent(key, 'owner-b', 1), true);
      assert.equal(await cache.get(key), 'owner-b');
      await cache.del(key);
      assert.equal(await cache.setIfAbsent(key, 'owner-c', 60), true);
    });

    test('setIfAbsent has exactly one winner under contention', async () => {
      const key = uniqueKey('race');
      const wins = await Promise.all(
        Array.from({ length: 10 }, (_, i) => cache.setIfAbsent(key, `w${i}`, 60)),
      );
      assert.equal(wins.filter(Boolean).length, 1);
      assert.equal(await cache.get(key), `w${wins.indexOf(true)}`);
    });

    test('rejects a TTL that is not a positive number', async () => {
      for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        await assert.rejects(cache.set(uniqueKey('bad-ttl'), 'x', ttl), RangeError);
        await assert.rejects(cache.incr(uniqueKey('bad-ttl'), ttl), RangeError);
        const counted = uniqueKey('bad-ttl-many');
        await assert.rejects(
          cache.incrMany([
            { key: counted, ttlSeconds: 60 },
            { key: uniqueKey('bad-ttl'), ttlSeconds: ttl },
          ]),
          RangeError,
        );
        assert.equal(await cache.get(counted), null, 'nothing is counted when one window is invalid');
        await assert.rejects(cache.setIfAbsent(uniqueKey('bad-ttl'), 'x', ttl), RangeError);
      }
    });
  });
}

contract('memory cache', () => createCache(undefined));

describe('memory cache bounds', () => {
  test('drops the oldest written entries past maxEntries', async () => {
    const cache = new MemoryCache({ maxEntries: 3 });
    try {
      await cache.set('a', '1');
      await cache.set('b', '2');
      await cache.set('c', '3');
      await cache.set('a', '1 again'); // rewriting makes it the newest
      await cache.set('d', '4');
      assert.equal(cache.size, 3);
      assert.equal(await cache.get('b'), null);
      assert.equal(await cache.get('a'), '1 again');
      assert.equal(await cache.get('c'), '3');
      assert.equal(await cache.get('d'), '4');
    } finally {
      await cache.close();
    }
  });

  test('sweeps expired entries that are never read again', async () => {
    const cache = new MemoryCache({ sweepIntervalMs: 50 });
    try {
      await cache.set('gone', 'x', 0.05);
      await cache.set('kept', 'y');
      assert.equal(cache.size, 2);
      await sleep(200);
      assert.equal(cache.size, 1);
    } finally {
      await cache.close();
    }
  });

  test('an open cache does not keep the process alive', () => {
    const memory = fileURLToPath(new URL('../../src/infra/cache/memory.ts', import.meta.url));
    const script = `import { MemoryCache } from ${JSON.stringify(memory)};
      const c = new MemoryCache(); await c.set('k', 'v', 3600); console.log('started');`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 });
    assert.equal(child.stdout.toString().trim(), 'started', child.stderr.toString());
    assert.equal(child.signal, null, 'the child had to be killed: something kept it alive');
    assert.equal(child.status, 0);
  });
});

if (redisConfig === undefined) {
  test('redis cache', { skip: 'REDIS_URL not set: Redis variant skipped' }, () => {});
} else {
  const config = redisConfig;
  const raw = createRedisClient(config, { name: 'woolly:test' });
  after(async () => {
    // Remove every key this file created, whichever test made it.
    let cursor = '0';
    do {
      const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await raw.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await closeRedisClient(raw);
  });

  contract('redis cache', () => createCache(config, { keyPrefix: prefix }));

  describe('redis cache key prefix', () => {
    test('keys are stored under the prefix and instances with other prefixes do not see them', async () => {
      const ours = await createCache(config, { keyPrefix: prefix });
      const theirs = await createCache(config, { keyPrefix: `${prefix}other:` });
      try {
        const key = uniqueKey('prefixed');
        await ours.set(key, 'mine', 60);
        assert.equal(await raw.get(`${prefix}${key}`), 'mine');
        const pttl = await raw.pttl(`${prefix}${key}`);
        assert.ok(pttl > 59_000 && pttl <= 60_000, `pttl ${pttl}`);
        assert.equal(await theirs.get(key), null);
        await theirs.incr(key, 60);
        assert.equal(await ours.get(key), 'mine');
      } finally {
        await Promise.all([ours.close(), theirs.close()]);
      }
    });
  });
}
