import { type Cache, type Counter, ttlToMs } from './cache.ts';

interface Entry {
  value: string;
  /** Epoch ms; undefined means no expiry. */
  expiresAt: number | undefined;
}

export interface MemoryCacheOptions {
  /** Past this many entries the oldest written are dropped. */
  maxEntries?: number;
  /** How often expired entries are swept out (they are also dropped lazily on read). */
  sweepIntervalMs?: number;
}

/** The embedded shape's cache: one process, so a Map with expiry times is enough. */
export class MemoryCache implements Cache {
  // Map iteration is insertion order: the first key is the oldest write, the eviction candidate.
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(opts: MemoryCacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 100_000;
    this.sweeper = setInterval(() => this.sweep(), opts.sweepIntervalMs ?? 60_000);
    this.sweeper.unref(); // a cache must never keep the process alive
  }

  async get(key: string): Promise<string | null> {
    return this.live(key, Date.now())?.value ?? null;
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    const expiresAt = ttlSeconds === undefined ? undefined : Date.now() + ttlToMs(ttlSeconds);
    this.write(key, { value, expiresAt });
  }

  async del(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async incr(key: string, ttlSeconds: number): Promise<Counter> {
    const ttlMs = ttlToMs(ttlSeconds);
    const now = Date.now();
    const entry = this.live(key, now);
    if (entry === undefined) {
      this.write(key, { value: '1', expiresAt: now + ttlMs });
      return { count: 1, ttlSeconds: Math.ceil(ttlMs / 1000) };
    }
    if (!/^-?\d+$/.test(entry.value)) throw new Error(`cache value at ${key} is not an integer`);
    const count = Number(entry.value) + 1;
    entry.value = String(count);
    // Same as the Redis script: a counter must never live forever.
    entry.expiresAt ??= now + ttlMs;
    return { count, ttlSeconds: Math.ceil((entry.expiresAt - now) / 1000) };
  }

  async incrMany(counters: readonly { key: string; ttlSeconds: number }[]): Promise<Counter[]> {
    for (const c of counters) ttlToMs(c.ttlSeconds); // all valid, or none counted
    const results: Counter[] = [];
    for (const c of counters) results.push(await this.incr(c.key, c.ttlSeconds));
    return results;
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    const ttlMs = ttlToMs(ttlSeconds);
    const now = Date.now();
    if (this.live(key, now) !== undefined) return false;
    this.write(key, { value, expiresAt: now + ttlMs });
    return true;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.entries.clear();
  }

  /** Number of entries held, expired ones included until swept (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  private live(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private write(key: string, entry: Entry): void {
    this.entries.delete(key); // re-inserting makes it the newest
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.entries.delete(key);
    }
  }
}
