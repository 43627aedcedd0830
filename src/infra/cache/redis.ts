import type { Redis } from 'ioredis';
import type { RedisConfig } from '../../config/config.ts';
import { closeRedisClient, createRedisClient } from '../redis-connection.ts';
import { type Cache, type CacheOptions, type Counter, ttlToMs } from './cache.ts';

// Atomic so that concurrent first hits cannot both set (and so extend) a window. A key with no
// expiry (left by `set` without TTL, or a crash between commands elsewhere) gets one here. Any
// number of counters per call: KEYS[i] with its window ARGV[i] (ms); replies count, ttl pairs.
const INCR_WINDOWS = `
local reply = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, ARGV[i])
    ttl = tonumber(ARGV[i])
  end
  reply[#reply + 1] = count
  reply[#reply + 1] = ttl
end
return reply
`;

/** The script as a command of the client: ioredis sends it by its SHA once Redis has it. */
interface WithIncrWindows {
  woollyIncrWindows(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<number[]>;
}

/** Redis cache for the scaled shape; every process of the instance sees the same values. */
export class RedisCache implements Cache {
  private readonly client: Redis;
  private readonly prefix: string;

  constructor(config: RedisConfig, opts: CacheOptions = {}) {
    this.prefix = opts.keyPrefix ?? '';
    this.client = createRedisClient(config, { name: 'woolly:cache' });
    this.client.defineCommand('woollyIncrWindows', { lua: INCR_WINDOWS });
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
    const [counter] = await this.incrMany([{ key, ttlSeconds }]);
    return counter!;
  }

  async incrMany(counters: readonly { key: string; ttlSeconds: number }[]): Promise<Counter[]> {
    if (counters.length === 0) return [];
    const windows = counters.map((c) => ttlToMs(c.ttlSeconds));
    const reply = await (this.client as unknown as WithIncrWindows).woollyIncrWindows(
      counters.length,
      ...counters.map((c) => this.prefix + c.key),
      ...windows,
    );
    return counters.map((_, i) => ({
      count: reply[2 * i]!,
      ttlSeconds: Math.ceil(reply[2 * i + 1]! / 1000),
    }));
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return (await this.client.set(this.prefix + key, value, 'PX', ttlToMs(ttlSeconds), 'NX')) === 'OK';
  }

  async close(): Promise<void> {
    await closeRedisClient(this.client);
  }
}
