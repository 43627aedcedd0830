import { sql } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { accountStats } from '../../db/schema/index.ts';

/**
 * Follow counters in `account_stats`, moved by the same transaction that adds or removes the edge,
 * so they cannot drift from the rows. Upserts: an account gets its stats row on first use.
 */
export async function adjustFollowCounts(
  db: Db,
  followerId: string,
  targetId: string,
  delta: 1 | -1,
): Promise<void> {
  const start = Math.max(delta, 0);
  await db
    .insert(accountStats)
    .values({ accountId: followerId, followingCount: start })
    .onConflictDoUpdate({
      target: accountStats.accountId,
      set: { followingCount: sql`greatest(account_stats.following_count + ${delta}, 0)` },
    });
  await db
    .insert(accountStats)
    .values({ accountId: targetId, followersCount: start })
    .onConflictDoUpdate({
      target: accountStats.accountId,
      set: { followersCount: sql`greatest(account_stats.followers_count + ${delta}, 0)` },
    });
}
