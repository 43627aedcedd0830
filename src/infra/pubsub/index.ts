import type { RedisConfig } from '../../config/config.ts';
import { MemoryPubSub } from './memory.ts';
import type { PubSub, PubSubOptions } from './pubsub.ts';

export type { MessageHandler, PubSub, PubSubOptions, Unsubscribe } from './pubsub.ts';

/**
 * Redis pub/sub when Redis is configured, otherwise the in-process bus. The Redis module is loaded
 * only when used, so the embedded shape never pays for ioredis.
 */
export async function createPubSub(
  redis: RedisConfig | undefined,
  opts: PubSubOptions = {},
): Promise<PubSub> {
  if (redis === undefined) return new MemoryPubSub(opts);
  const { RedisPubSub } = await import('./redis.ts');
  return new RedisPubSub(redis, opts);
}
