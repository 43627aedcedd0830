import type { RedisConfig } from '../../config/config.ts';
import type { Database } from '../../db/database.ts';
import type { Page } from '../../db/page.ts';

/** Mastodon's FeedManager::MAX_ITEMS: a home feed keeps its newest 800 entries. */
export const FEED_MAX_ITEMS = 800;
/** Mastodon's REBLOG_FALLOFF: a boost of something among the newest 40 entries is not inserted again. */
export const REBLOG_FALLOFF = 40;

/** One entry of a home feed: the status shown (a reblog's own id) and, for a reblog, what it boosts. */
export interface FeedEntry {
  statusId: string;
  reblogOfId: string | null;
}

/**
 * The precomputed home feeds (DESIGN.md §1, mastodon.md §9): one interface, a database store for the
 * embedded shape (table home_feed_entries) and Redis sorted sets for the scaled one, held to the
 * same contract by test/domain/timelines/feed-store.test.ts. Feeds are a cache of the graph: they
 * can be dropped and rebuilt (src/domain/timelines/feeds.ts).
 *
 * Insertion rules, in both stores (Mastodon's FeedManager#add_to_feed):
 * - a reblog is skipped when its original, or another reblog of the same original, is among the
 *   feed's newest REBLOG_FALLOFF entries;
 * - an original is skipped when a reblog of it is among the newest REBLOG_FALLOFF entries (the
 *   boost arrived first);
 * - after inserting, the feed is trimmed to its newest FEED_MAX_ITEMS entries.
 */
/** Where one fan-out entry went; the feeds not named refused it (de-duplication, already there). */
export interface FeedAddResult {
  /** The feeds that took it. */
  added: string[];
  /** Feeds not built yet: they will hold it once their first read builds them. */
  unbuilt: string[];
}

export interface FeedStore {
  readonly kind: 'database' | 'redis';
  /**
   * Adds one entry to each of these feeds that exists (fan-out). A missing feed stays missing: an
   * entry alone would make it look built, and its first read rebuilds it whole instead.
   */
  add(accountIds: readonly string[], entry: FeedEntry): Promise<FeedAddResult>;
  /** Adds entries to one feed (merging a followed account's statuses); returns how many it took. */
  addMany(accountId: string, entries: readonly FeedEntry[]): Promise<number>;
  /** Removes these statuses from these feeds (missing ones are ignored). */
  remove(accountIds: readonly string[], statusIds: readonly string[]): Promise<void>;
  /** Replaces a feed with these entries (a rebuild; already de-duplicated, at most FEED_MAX_ITEMS). */
  replace(accountId: string, entries: readonly FeedEntry[]): Promise<void>;
  /** One page of status ids, newest first. */
  page(accountId: string, page: Page): Promise<string[]>;
  /** Every entry of a feed, newest first. */
  entries(accountId: string): Promise<FeedEntry[]>;
  /** Whether the feed has been built (has any entry). */
  exists(accountId: string): Promise<boolean>;
  clear(accountId: string): Promise<void>;
  close(): Promise<void>;
}

export interface FeedStoreOptions {
  /** Prepended to Redis keys (tests share one Redis). */
  keyPrefix?: string;
}

/**
 * Redis when configured, otherwise the database. The Redis store is loaded only when used, so the
 * embedded shape never loads ioredis for it.
 */
export async function createFeedStore(
  redis: RedisConfig | undefined,
  database: Database,
  options: FeedStoreOptions = {},
): Promise<FeedStore> {
  if (redis === undefined) {
    const { DatabaseFeedStore } = await import('./database.ts');
    return new DatabaseFeedStore(database);
  }
  const { RedisFeedStore } = await import('./redis.ts');
  return new RedisFeedStore(redis, options);
}
