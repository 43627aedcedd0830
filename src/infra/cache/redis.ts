import type { Redis } from 'ioredis';
import type { RedisConfig } from '../../config/config.ts';
import { closeRedisClient, createRedisClient } from '../redis-connection.ts';
import { type Cache, type CacheOptions, type Counter, ttlToMs } from './cache.ts';

// Atomic so that concurrent first hits cannot both set (and so extend) the window. A key with no
// expiry (left by `set` without TTL, or a crash between commands elsewhere) gets one here.
const INCR_WINDOW = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

/** Redis cache for the scaled shape; every process of the instance sees the same values. */
export class RedisCache implements Cache {
  private readonly client: Redis;
  private readonly prefix: string;

  constructor(config: RedisConfig, opts: CacheOptions = {}) {
    this.prefix = opts.keyPrefix ?? '';
    this.client = createRedisClient(config, { name: 'woolly:cache' });
  }

  async get(key: string): Promise<string | null> {
    return this.client.get(this.prefix + key);
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    if (ttlSeconds === undefined) await this.client.set(this.prefix + key, value);
    else await this.client.set(this.prefix + key, value, 'PX', ttlToMs(ttlSeconds));
  }

  async del(key: string): Promise<void> {
    await this.client.del(this.prefix + key);
  }

  async incr(key: string, ttlSeconds: number): Promise<Counter> {
    const reply = (await this.client.eval(INCR_WINDOW, 1, this.prefix + key, ttlToMs(ttlSeconds))) as [
      number,
      number,
    ];
    return { count: reply[0], ttlSeconds: Math.ceil(reply[1] / 1000) };
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return (await this.client.set(this.prefix + key, value, 'PX', ttlToMs(ttlSeconds), 'NX')) === 'OK';
  }

  async close(): Promise<void> {
    await closeRedisClient(this.client);
  }
}
