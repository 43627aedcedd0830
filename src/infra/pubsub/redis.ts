import type { Redis } from 'ioredis';
import type { RedisConfig } from '../../config/config.ts';
import { closeRedisClient, createRedisClient } from '../redis-connection.ts';
import {
  defaultOnError,
  type MessageHandler,
  type PubSub,
  type PubSubOptions,
  type Unsubscribe,
} from './pubsub.ts';

interface Subscription {
  handler: MessageHandler;
}

interface Channel {
  subs: Set<Subscription>;
  /** The SUBSCRIBE round trip; later local subscribers wait for it too. */
  ready: Promise<void>;
}

/**
 * Redis pub/sub for the scaled shape. One connection publishes; a dedicated one subscribes (a
 * subscribed Redis connection can run no other command). Each channel is subscribed at Redis once,
 * however many local handlers it has, and unsubscribed when the last one leaves.
 */
export class RedisPubSub implements PubSub {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly prefix: string;
  private readonly onError: (error: unknown, channel: string) => void;
  /** Keyed by the wire (prefixed) channel name. */
  private readonly channels = new Map<string, Channel>();
  private closed = false;

  constructor(config: RedisConfig, opts: PubSubOptions = {}) {
    this.prefix = opts.keyPrefix ?? '';
    this.onError = opts.onError ?? defaultOnError;
    this.publisher = createRedisClient(config, { name: 'woolly:pubsub:pub' });
    this.subscriber = createRedisClient(config, { name: 'woolly:pubsub:sub' });
    this.subscriber.on('message', (wire: string, message: string) => this.dispatch(wire, message));
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.publisher.publish(this.prefix + channel, message);
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
    if (this.closed) throw new Error('pubsub is closed');
    const wire = this.prefix + channel;
    let entry = this.channels.get(wire);
    if (entry === undefined) {
      const created: Channel = {
        subs: new Set(),
        ready: this.subscriber.subscribe(wire).then(() => undefined),
      };
      // A failed SUBSCRIBE must not leave a dead entry that later subscribers would trust.
      created.ready.catch(() => {
        if (this.channels.get(wire) === created) this.channels.delete(wire);
      });
      this.channels.set(wire, created);
      entry = created;
    }
    const sub: Subscription = { handler };
    const current = entry;
    current.subs.add(sub);
    try {
      await current.ready;
    } catch (error) {
      current.subs.delete(sub);
      throw error;
    }
    return async () => {
      if (!current.subs.delete(sub)) return;
      if (current.subs.size > 0 || this.channels.get(wire) !== current) return;
      this.channels.delete(wire);
      // Commands on one connection run in order, so a SUBSCRIBE issued after this one still wins.
      if (!this.closed) await this.subscriber.unsubscribe(wire);
    };
  }

  private dispatch(wire: string, message: string): void {
    const entry = this.channels.get(wire);
    if (entry === undefined) return;
    const channel = wire.slice(this.prefix.length);
    for (const sub of [...entry.subs]) {
      if (!entry.subs.has(sub)) continue;
      try {
        sub.handler(message, channel);
      } catch (error) {
        this.onError(error, channel);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    await Promise.all([closeRedisClient(this.publisher), closeRedisClient(this.subscriber)]);
  }
}
