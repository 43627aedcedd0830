import { FEED_MAX_ITEMS, type FeedEntry, REBLOG_FALLOFF } from './feed-store.ts';

const cmpDesc = (a: FeedEntry, b: FeedEntry): number => {
  const x = BigInt(a.statusId);
  const y = BigInt(b.statusId);
  return x > y ? -1 : x < y ? 1 : 0;
};

/** Whether `entry` may join a feed whose newest entries are `top` (at most REBLOG_FALLOFF, newest first). */
export function admits(top: readonly FeedEntry[], entry: FeedEntry): boolean {
  for (const e of top) {
    if (e.statusId === entry.statusId) return false;
    if (entry.reblogOfId !== null) {
      if (e.statusId === entry.reblogOfId || e.reblogOfId === entry.reblogOfId) return false;
    } else if (e.reblogOfId === entry.statusId) {
      return false;
    }
  }
  return true;
}

/**
 * The feed after adding `adds` one by one, oldest first, under the store's rules (feed-store.ts), and
 * which of them are in it at the end. Used where many entries go into one feed at once (merge,
 * rebuild): the stores write the difference in one round trip instead of one insert per entry.
 */
export function applyAdds(
  current: readonly FeedEntry[],
  adds: readonly FeedEntry[],
  maxItems: number = FEED_MAX_ITEMS,
): { feed: FeedEntry[]; added: FeedEntry[] } {
  const feed = [...current].sort(cmpDesc);
  const present = new Set(feed.map((e) => e.statusId));
  const added = new Set<string>();
  for (const entry of [...adds].sort(cmpDesc).reverse()) {
    if (present.has(entry.statusId)) continue;
    if (!admits(feed.slice(0, REBLOG_FALLOFF), entry)) continue;
    let at = feed.findIndex((e) => cmpDesc(entry, e) < 0);
    if (at < 0) at = feed.length;
    feed.splice(at, 0, entry);
    present.add(entry.statusId);
    added.add(entry.statusId);
    if (feed.length > maxItems) {
      const dropped = feed.splice(maxItems);
      for (const d of dropped) {
        present.delete(d.statusId);
        added.delete(d.statusId);
      }
    }
  }
  return { feed, added: feed.filter((e) => added.has(e.statusId)) };
}
