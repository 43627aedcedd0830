import { Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/config.ts';

export interface RedisClientOptions {
  /** Sent as CLIENT SETNAME so operators can tell connections apart (`CLIENT LIST`). */
  name?: string;
  /** ioredis default (20) when omitted; BullMQ workers need `null`. */
  maxRetriesPerRequest?: number | null;
  lazyConnect?: boolean;
}

/**
 * One ioredis connection from the configuration. REDIS_URL, when set, wins over the separate
 * host/port/user/password/db settings (as in Mastodon).
 */
export function createRedisClient(config: RedisConfig, opts: RedisClientOptions = {}): Redis {
  const options: RedisOptions = { lazyConnect: opts.lazyConnect ?? false };
  if (opts.name !== undefined) options.connectionName = opts.name;
  if (opts.maxRetriesPerRequest !== undefined) options.maxRetriesPerRequest = opts.maxRetriesPerRequest;
  if (config.url !== undefined && config.url !== '') return new Redis(config.url, options);
  return new Redis({
    ...options,
    host: config.host,
    port: config.port,
    username: config.username,
    password: config.password,
    db: config.db,
  });
}

/** QUIT lets pending replies arrive first; a connection that is already gone is just dropped. */
export async function closeRedisClient(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'wait') {
    client.disconnect(); // lazyConnect and never used: nothing to flush
    return;
  }
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
