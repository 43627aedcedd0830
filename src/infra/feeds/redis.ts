import type { ChainableCommander, Redis } from 'ioredis';
import type { RedisConfig } from '../../config/config.ts';
import type { Page } from '../../db/page.ts';
import { closeRedisClient, createRedisClient } from '../redis-connection.ts';
import {
  FEED_MAX_ITEMS,
  type FeedAddResult,
  type FeedEntry,
  type FeedStore,
  type FeedStoreOptions,
  REBLOG_FALLOFF,
} from './feed-store.ts';
import { applyAdds } from './rules.ts';

/**
 * Home feeds as Redis sorted sets, `feed:home:<accountId>` (the scaled shape; Mastodon's layout).
 *
 * Mastodon scores each member by its status id, but a 64-bit id does not fit a double's 53-bit
 * mantissa: ids minted in the same few milliseconds would share a score and sort arbitrarily. Here
 * every score is 0 and the member is the id zero-padded to 19 digits (int8's width), so Redis orders
 * members byte by byte, which is numeric order, and pages with ZREVRANGEBYLEX / ZRANGEBYLEX and
 * exclusive bounds exactly. A reblog's member carries what it boosts after a slash
 * (`<id>/<original id>`), so the reblog rule reads the newest 40 members and nothing else; the
 * prefix still sorts it by its own id. The insertion rule runs in one Lua script per feed: atomic,
 * one round trip per feed, pipelined for a fan-out.
 */
const WIDTH = 19;
const pad = (id: string): string => id.padStart(WIDTH, '0');
const unpad = (member: string): string => BigInt(member.slice(0, WIDTH)).toString();
const memberOf = (e: FeedEntry): string =>
  e.reblogOfId === null ? pad(e.statusId) : `${pad(e.statusId)}/${pad(e.reblogOfId)}`;
const entryOf = (member: string): FeedEntry => ({
  statusId: unpad(member),
  reblogOfId: member.length > WIDTH ? BigInt(member.slice(WIDTH + 1)).toString() : null,
});
/** Above every member of this id (`~` sorts after `/` and digits), below every larger id. */
const after = (id: string): string => `${pad(id)}~`;

const ADD = `
local key, id, of = KEYS[1], ARGV[1], ARGV[2]
local maxItems, falloff = tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('EXISTS', key) == 0 then return -1 end
if redis.call('ZRANGEBYLEX', key, '[' .. id, '[' .. id .. '~', 'LIMIT', 0, 1)[1] then return 0 end
for _, m in ipairs(redis.call('ZREVRANGE', key, 0, falloff - 1)) do
  local mof = string.sub(m, ${WIDTH + 2})
  if of ~= '' then
    if string.sub(m, 1, ${WIDTH}) == of or mof == of then return 0 end
  elseif mof == id then
    return 0
  end
end
local member = id
if of ~= '' then member = id .. '/' .. of end
redis.call('ZADD', key, 0, member)
redis.call('ZREMRANGEBYRANK', key, 0, -(maxItems + 1))
return 1
`;

const REMOVE = `
for _, id in ipairs(ARGV) do
  for _, m in ipairs(redis.call('ZRANGEBYLEX', KEYS[1], '[' .. id, '[' .. id .. '~')) do
    redis.call('ZREM', KEYS[1], m)
  end
end
return 0
`;

type FeedCommands = {
  feedAdd(key: string, id: string, of: string, maxItems: number, falloff: number): Promise<number>;
  feedRemove(key: string, ...ids: string[]): Promise<number>;
};

/** Members per ZADD (keeps each command's argument list modest). */
const CHUNK = 500;

export class RedisFeedStore implements FeedStore {
  readonly kind = 'redis' as const;
  private readonly client: Redis & FeedCommands;
  private readonly prefix: string;

  constructor(config: RedisConfig, options: FeedStoreOptions = {}) {
    this.prefix = options.keyPrefix ?? '';
    const client = createRedisClient(config, { name: 'woolly:feeds' });
    client.defineCommand('feedAdd', { numberOfKeys: 1, lua: ADD });
    client.defineCommand('feedRemove', { numberOfKeys: 1, lua: REMOVE });
    this.client = client as Redis & FeedCommands;
  }

  private key(accountId: string): string {
    return `${this.prefix}feed:home:${accountId}`;
  }

  async add(accountIds: readonly string[], entry: FeedEntry): Promise<FeedAddResult> {
    const outcome: FeedAddResult = { added: [], unbuilt: [] };
    const id = pad(entry.statusId);
    const of = entry.reblogOfId === null ? '' : pad(entry.reblogOfId);
    const unique = [...new Set(accountIds)];
    for (let i = 0; i < unique.length; i += CHUNK) {
      const chunk = unique.slice(i, i + CHUNK);
      const pipeline = this.client.pipeline() as ChainableCommander & {
        feedAdd(key: string, id: string, of: string, maxItems: number, falloff: number): ChainableCommander;
      };
      for (const accountId of chunk)
        pipeline.feedAdd(this.key(accountId), id, of, FEED_MAX_ITEMS, REBLOG_FALLOFF);
      const results = (await pipeline.exec()) ?? [];
      results.forEach(([error, result], n) => {
        if (error) throw error;
        // The script answers 1 (added), 0 (refused) or -1 (no such feed).
        if (result === 1) outcome.added.push(chunk[n]!);
        else if (result === -1) outcome.unbuilt.push(chunk[n]!);
      });
    }
    return outcome;
  }

  async addMany(accountId: string, entries: readonly FeedEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const { added } = applyAdds(await this.entries(accountId), entries);
    if (added.length === 0) return 0;
    const key = this.key(accountId);
    const multi = this.client.multi();
    for (let i = 0; i < added.length; i += CHUNK) {
      multi.zadd(key, ...added.slice(i, i + CHUNK).flatMap((e) => ['0', memberOf(e)]));
    }
    multi.zremrangebyrank(key, 0, -(FEED_MAX_ITEMS + 1));
    await execOrThrow(multi);
    return added.length;
  }

  async remove(accountIds: readonly string[], statusIds: readonly string[]): Promise<void> {
    if (accountIds.length === 0 || statusIds.length === 0) return;
    const ids = statusIds.map(pad);
    for (let i = 0; i < accountIds.length; i += CHUNK) {
      const pipeline = this.client.pipeline() as ChainableCommander & {
        feedRemove(key: string, ...ids: string[]): ChainableCommander;
      };
      for (const accountId of accountIds.slice(i, i + CHUNK))
        pipeline.feedRemove(this.key(accountId), ...ids);
      await execOrThrow(pipeline);
    }
  }

  async replace(accountId: string, entries: readonly FeedEntry[]): Promise<void> {
    const key = this.key(accountId);
    const multi = this.client.multi().del(key);
    for (let i = 0; i < entries.length; i += CHUNK) {
      multi.zadd(key, ...entries.slice(i, i + CHUNK).flatMap((e) => ['0', memberOf(e)]));
    }
    multi.zremrangebyrank(key, 0, -(FEED_MAX_ITEMS + 1));
    await execOrThrow(multi);
  }

  async page(accountId: string, page: Page): Promise<string[]> {
    const key = this.key(accountId);
    const max = page.maxId === undefined ? '+' : `(${pad(page.maxId)}`;
    if (page.minId !== undefined) {
      const members = await this.client.zrangebylex(
        key,
        `(${after(page.minId)}`,
        max,
        'LIMIT',
        0,
        page.limit,
      );
      return members.map(unpad).reverse();
    }
    const min = page.sinceId === undefined ? '-' : `(${after(page.sinceId)}`;
    const members = await this.client.zrevrangebylex(key, max, min, 'LIMIT', 0, page.limit);
    return members.map(unpad);
  }

  async entries(accountId: string): Promise<FeedEntry[]> {
    return (await this.client.zrevrange(this.key(accountId), 0, -1)).map(entryOf);
  }

  async exists(accountId: string): Promise<boolean> {
    return (await this.client.exists(this.key(accountId))) === 1;
  }

  async clear(accountId: string): Promise<void> {
    await this.client.del(this.key(accountId));
  }

  async close(): Promise<void> {
    await closeRedisClient(this.client);
  }
}

async function execOrThrow(batch: ChainableCommander): Promise<void> {
  for (const [error] of (await batch.exec()) ?? []) if (error) throw error;
}
