import { and, asc, gt, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { accounts } from '../../db/schema/index.ts';
import { rebuildHome } from '../../domain/timelines/feeds.ts';
import type { FeedStore } from '../../infra/feeds/feed-store.ts';

export interface FeedsDeps {
  database: Database;
  feeds: FeedStore;
}

export type FeedsArgs = { action: 'build'; username: string } | { action: 'build'; all: true };

export interface FeedsOutput {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Where the progress bar goes when the output is a terminal (null: no bar). */
  progress?: ((text: string) => void) | null;
}

const BATCH = 500;

/**
 * `woolly feeds build USERNAME | --all` (tootctl feeds build): rebuilds home feeds from the graph,
 * replacing what the store holds. Returns the exit code.
 */
export async function feedsCommand(deps: FeedsDeps, args: FeedsArgs, io: FeedsOutput): Promise<number> {
  if ('username' in args) {
    const [account] = await deps.database.db
      .select({ id: accounts.id })
      .from(accounts)
      .where(and(isNull(accounts.domain), sql`lower(${accounts.username}) = lower(${args.username})`))
      .limit(1);
    if (account === undefined) {
      io.err(`No local account named ${args.username}`);
      return 1;
    }
    const entries = await rebuildHome(deps, account.id);
    io.out(`OK: ${entries} entries in ${args.username}'s home feed`);
    return 0;
  }
  const [{ total } = { total: 0 }] = await deps.database.db
    .select({ total: sql<number>`count(*)::int` })
    .from(accounts)
    .where(isNull(accounts.domain));
  let done = 0;
  let after = '0';
  const bar = io.progress ?? null;
  for (;;) {
    const rows = await deps.database.db
      .select({ id: accounts.id })
      .from(accounts)
      .where(and(isNull(accounts.domain), gt(accounts.id, after)))
      .orderBy(asc(accounts.id))
      .limit(BATCH);
    for (const row of rows) {
      await rebuildHome(deps, row.id);
      done += 1;
      bar?.(progressLine(done, total));
    }
    const last = rows.at(-1);
    if (last === undefined || rows.length < BATCH) break;
    after = last.id;
  }
  if (bar) bar('\n');
  io.out(`OK: rebuilt ${done} home feed${done === 1 ? '' : 's'}`);
  return 0;
}

/** `\r[#####-----] 50% 5/10` */
export function progressLine(done: number, total: number, width = 30): string {
  const ratio = total === 0 ? 1 : Math.min(done / total, 1);
  const filled = Math.round(ratio * width);
  return `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(ratio * 100)}% ${done}/${total}`;
}
