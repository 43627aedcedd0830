/** A window counter as `incr` reports it. */
export interface Counter {
  /** The value after this increment; 1 for the first hit of a window. */
  count: number;
  /** Seconds until the window ends and the counter starts again from 0 (rounded up). */
  ttlSeconds: number;
}

/**
 * Short-lived string values shared by the processes of one instance: cached lookups, rate-limit
 * counters, locks. Anything here may vanish at any time (eviction, restart); it is never the only copy.
 */
export interface Cache {
  get(key: string): Promise<string | null>;
  /** Without a TTL the value stays until deleted or evicted; setting again replaces value and TTL. */
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  del(key: string): Promise<void>;
  /**
   * Fixed-window counter: the first increment creates the key with `ttlSeconds`; later increments
   * keep the original expiry, so the window is not extended by traffic.
   */
  incr(key: string, ttlSeconds: number): Promise<Counter>;
  /**
   * Several `incr`s at once (one round trip to Redis, atomic as a whole), answered in the order
   * given; a key given twice counts twice. The rate limiter counts each request this way.
   */
  incrMany(counters: readonly { key: string; ttlSeconds: number }[]): Promise<Counter[]>;
  /** Stores the value only if the key does not exist; true when it was stored (a lock was taken). */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface CacheOptions {
  /** Prepended to every key in Redis; lets tests and instances share one Redis. */
  keyPrefix?: string;
}

export function ttlToMs(ttlSeconds: number): number {
  const ms = Math.round(ttlSeconds * 1000);
  if (!Number.isFinite(ttlSeconds) || ms <= 0) {
    throw new RangeError(`cache TTL must be a positive number of seconds, got ${ttlSeconds}`);
  }
  return ms;
}
