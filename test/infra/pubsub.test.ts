import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { createPubSub, type PubSub, type PubSubOptions } from '../../src/infra/pubsub/index.ts';
import { closeRedisClient, createRedisClient } from '../../src/infra/redis-connection.ts';
import { testRedisConfig } from '../support/redis.ts';

const redisConfig = testRedisConfig();
const prefix = `woolly-test:${randomBytes(6).toString('hex')}:`;

/** Records what a handler receives and lets a test wait for a number of messages. */
function collector() {
  const received: { message: string; channel: string }[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const handler = (message: string, channel: string) => {
    received.push({ message, channel });
    for (const w of [...waiters]) {
      if (received.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const waitFor = async (n: number, timeoutMs = 2000): Promise<void> => {
    if (received.length >= n) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => waiters.push({ n, resolve })),
      new Promise<void>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`expected ${n} messages within ${timeoutMs} ms, got ${JSON.stringify(received)}`),
            ),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  };
  const messages = () => received.map((r) => r.message);
  return { handler, received, waitFor, messages };
}

let channelCounter = 0;
const uniqueChannel = (label: string) => `${label}:${++channelCounter}`;

function contract(name: string, make: (opts: PubSubOptions) => Promise<PubSub>) {
  describe(name, () => {
    let pubsub: PubSub;
    const errors: { error: unknown; channel: string }[] = [];
    beforeEach(async () => {
      errors.length = 0;
      pubsub = await make({ onError: (error, channel) => errors.push({ error, channel }) });
    });
    afterEach(async () => {
      await pubsub.close();
    });

    test('delivers each message once to every subscriber of the channel', async () => {
      const channel = uniqueChannel('timeline:public');
      const subs = [collector(), collector(), collector()];
      for (const s of subs) await pubsub.subscribe(channel, s.handler);
      await pubsub.publish(channel, 'hello');
      await pubsub.publish(channel, 'world');
      for (const s of subs) {
        await s.waitFor(2);
        assert.deepEqual(s.received, [
          { message: 'hello', channel },
          { message: 'world', channel },
        ]);
      }
    });

    test('the same function subscribed twice is two subscriptions', async () => {
      const channel = uniqueChannel('twice');
      const c = collector();
      const first = await pubsub.subscribe(channel, c.handler);
      await pubsub.subscribe(channel, c.handler);
      await pubsub.publish(channel, 'a');
      await c.waitFor(2);
      await first();
      await pubsub.publish(channel, 'b');
      await c.waitFor(3);
      assert.deepEqual(c.messages(), ['a', 'a', 'b']);
    });

    test('unsubscribe stops delivery to that handler only', async () => {
      const channel = uniqueChannel('user:1');
      const leaving = collector();
      const staying = collector();
      const unsubscribe = await pubsub.subscribe(channel, leaving.handler);
      await pubsub.subscribe(channel, staying.handler);
      await pubsub.publish(channel, 'before');
      await leaving.waitFor(1);
      await staying.waitFor(1);
      await unsubscribe();
      await unsubscribe(); // a second call is harmless
      await pubsub.publish(channel, 'after');
      // Delivery is ordered, so once `staying` has 'after', `leaving` would have had it too.
      await staying.waitFor(2);
      assert.deepEqual(staying.messages(), ['before', 'after']);
      assert.deepEqual(leaving.messages(), ['before']);
    });

    test('nothing reaches a handler once its unsubscribe was called, even a publish in flight', async () => {
      const channel = uniqueChannel('in-flight');
      const leaving = collector();
      const staying = collector();
      const unsubscribe = await pubsub.subscribe(channel, leaving.handler);
      await pubsub.subscribe(channel, staying.handler);
      const published = pubsub.publish(channel, 'racing');
      await unsubscribe();
      await published;
      await staying.waitFor(1);
      assert.deepEqual(leaving.messages(), []);
    });

    test('a channel can be subscribed again after its last handler left', async () => {
      const channel = uniqueChannel('again');
      const first = collector();
      const unsubscribe = await pubsub.subscribe(channel, first.handler);
      await unsubscribe();
      const second = collector();
      await pubsub.subscribe(channel, second.handler);
      await pubsub.publish(channel, 'back');
      await second.waitFor(1);
      assert.deepEqual(second.messages(), ['back']);
      assert.deepEqual(first.messages(), []);
    });

    test('channels are isolated', async () => {
      const one = uniqueChannel('hashtag:cats');
      const two = uniqueChannel('hashtag:dogs');
      const a = collector();
      const b = collector();
      await pubsub.subscribe(one, a.handler);
      await pubsub.subscribe(two, b.handler);
      await pubsub.publish(two, 'woof');
      await pubsub.publish(one, 'meow');
      await pubsub.publish(uniqueChannel('nobody'), 'lost');
      await a.waitFor(1);
      await b.waitFor(1);
      await pubsub.publish(one, 'purr');
      await a.waitFor(2);
      assert.deepEqual(a.received, [
        { message: 'meow', channel: one },
        { message: 'purr', channel: one },
      ]);
      assert.deepEqual(b.received, [{ message: 'woof', channel: two }]);
    });

    test('messages published before subscribing are not delivered', async () => {
      const channel = uniqueChannel('late');
      await pubsub.publish(channel, 'early');
      const c = collector();
      await pubsub.subscribe(channel, c.handler);
      await pubsub.publish(channel, 'on time');
      await c.waitFor(1);
      assert.deepEqual(c.messages(), ['on time']);
    });

    test('keeps publish order and passes payloads through unchanged', async () => {
      const channel = uniqueChannel('order');
      const c = collector();
      await pubsub.subscribe(channel, c.handler);
      const payloads = Array.from({ length: 50 }, (_, i) =>
        JSON.stringify({ event: 'update', payload: `n${i} ünïcödé 🐑\n\u0000` }),
      );
      await Promise.all(payloads.map((p) => pubsub.publish(channel, p)));
      await c.waitFor(50);
      assert.deepEqual(c.messages(), payloads);
    });

    test('a throwing handler is reported and does not stop the others', async () => {
      const channel = uniqueChannel('throws');
      const c = collector();
      await pubsub.subscribe(channel, () => {
        throw new Error('boom');
      });
      await pubsub.subscribe(channel, c.handler);
      await pubsub.publish(channel, 'still here');
      await c.waitFor(1);
      assert.deepEqual(c.messages(), ['still here']);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]?.channel, channel);
      assert.match(String(errors[0]?.error), /boom/);
    });

    test('subscribe rejects after close', async () => {
      await pubsub.close();
      await assert.rejects(pubsub.subscribe(uniqueChannel('closed'), () => {}));
    });
  });
}

contract('memory pubsub', (opts) => createPubSub(undefined, opts));

if (redisConfig === undefined) {
  test('redis pubsub', { skip: 'REDIS_URL not set: Redis variant skipped' }, () => {});
} else {
  const config = redisConfig;
  contract('redis pubsub', (opts) => createPubSub(config, { ...opts, keyPrefix: prefix }));

  describe('redis pubsub across connections', () => {
    const raw = createRedisClient(config, { name: 'woolly:test' });
    const open: PubSub[] = [];
    const make = async (keyPrefix: string) => {
      const p = await createPubSub(config, { keyPrefix });
      open.push(p);
      return p;
    };
    after(async () => {
      await Promise.all(open.map((p) => p.close()));
      await closeRedisClient(raw);
    });

    test('a message published by one instance reaches another (as between processes)', async () => {
      const publisher = await make(prefix);
      const subscriber = await make(prefix);
      const channel = uniqueChannel('cross');
      const c = collector();
      await subscriber.subscribe(channel, c.handler);
      await publisher.publish(channel, 'from afar');
      await c.waitFor(1);
      assert.deepEqual(c.received, [{ message: 'from afar', channel }]);
    });

    test('the prefix is applied on the wire and separates instances', async () => {
      const otherPrefix = `${prefix}other:`;
      const ours = await make(prefix);
      const theirs = await make(otherPrefix);
      const channel = uniqueChannel('shared-name');
      const mine = collector();
      const other = collector();
      await ours.subscribe(channel, mine.handler);
      await theirs.subscribe(channel, other.handler);
      assert.equal(await raw.publish(`${prefix}${channel}`, 'raw'), 1);
      await theirs.publish(channel, 'theirs');
      await ours.publish(channel, 'ours');
      await mine.waitFor(2);
      await other.waitFor(1);
      assert.deepEqual(mine.messages(), ['raw', 'ours']);
      assert.deepEqual(other.messages(), ['theirs']);
    });

    test('a channel stays subscribed at Redis until its last local handler leaves', async () => {
      const p = await make(prefix);
      const channel = uniqueChannel('numsub');
      const wire = `${prefix}${channel}`;
      const numsub = async () => Number(((await raw.pubsub('NUMSUB', wire)) as [string, number])[1]);
      const unsubscribes = await Promise.all([1, 2, 3].map(() => p.subscribe(channel, () => {})));
      assert.equal(await numsub(), 1);
      await unsubscribes[0]!();
      await unsubscribes[1]!();
      assert.equal(await numsub(), 1);
      await unsubscribes[2]!();
      assert.equal(await numsub(), 0);
    });
  });
}
