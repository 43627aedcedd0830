import type { RedisConfig } from '../../config/config.ts';
import type { Cache, CacheOptions } from './cache.ts';
import { MemoryCache } from './memory.ts';

export type { Cache, CacheOptions, Counter } from './cache.ts';

/**
 * Redis when configured, otherwise an in-process map. The Redis module is loaded only when used,
 * so the embedded shape never pays for ioredis.
 */
export async function createCache(redis: RedisConfig | undefined, opts: CacheOptions = {}): Promise<Cache> {
  if (redis === undefined) return new MemoryCache();
  const { RedisCache } = await import('./redis.ts');
  return new RedisCache(redis, opts);
}
