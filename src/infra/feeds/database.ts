import { sql } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import type { Page } from '../../db/page.ts';
import {
  FEED_MAX_ITEMS,
  type FeedAddResult,
  type FeedEntry,
  type FeedStore,
  REBLOG_FALLOFF,
} from './feed-store.ts';
import { applyAdds } from './rules.ts';

// Ids travel as one comma-separated text parameter: array parameters are typed differently by
// PGlite and postgres.js, text is not.
const idList = (ids: readonly string[]): string => ids.join(',');

interface Row {
  status_id: string | number | bigint;
  reblog_of_id: string | number | bigint | null;
}
const entryOf = (r: Row): FeedEntry => ({
  statusId: String(r.status_id),
  reblogOfId: r.reblog_of_id === null ? null : String(r.reblog_of_id),
});

/** A fan-out trims each feed on about one insert in this many (pseudo-randomly, per feed and status). */
export const TRIM_EVERY = 32;

function trimDue(accountId: string, statusId: string): boolean {
  // The ids' low 16 bits are a per-millisecond sequence: their mix spreads feeds evenly.
  return (BigInt(accountId) * 2654435761n + BigInt(statusId)) % BigInt(TRIM_EVERY) === 0n;
}

/**
 * Home feeds in the table home_feed_entries (the embedded shape). Fan-out is one set-based insert
 * for all followers, with the reblog rule checked against each feed's REBLOG_FALLOFF-th newest id
 * (an index-only walk of 40 keys), then one delete that trims some of the feeds (see TRIM_EVERY);
 * merges and rebuilds trim exactly.
 */
export class DatabaseFeedStore implements FeedStore {
  readonly kind = 'database' as const;
  private readonly database: Database;

  constructor(database: Database) {
    this.database = database;
  }

  async add(accountIds: readonly string[], entry: FeedEntry): Promise<FeedAddResult> {
    if (accountIds.length === 0) return { added: [], unbuilt: [] };
    const rows = await this.database.query<{ account_id: string; outcome: 'added' | 'unbuilt' }>(
      `with r as (select distinct unnest(string_to_array($1, ','))::bigint as account_id),
       c as (
         select r.account_id,
           coalesce((select h.status_id from home_feed_entries h where h.account_id = r.account_id
                     order by h.status_id desc offset ${REBLOG_FALLOFF - 1} limit 1), 0) as cutoff
         from r
         where exists (select 1 from home_feed_entries e where e.account_id = r.account_id)),
       ins as (
         insert into home_feed_entries (account_id, status_id, reblog_of_id)
         select c.account_id, $2::bigint, $3::bigint from c
         where case when $3::bigint is null then
           not exists (select 1 from home_feed_entries h where h.account_id = c.account_id
                       and h.reblog_of_id = $2::bigint and h.status_id >= c.cutoff)
         else
           not exists (select 1 from home_feed_entries h where h.account_id = c.account_id
                       and h.status_id >= c.cutoff and (h.status_id = $3::bigint or h.reblog_of_id = $3::bigint))
         end
         on conflict do nothing
         returning account_id)
       select account_id::text as account_id, 'added' as outcome from ins
       union all
       -- Index lookups, not a join of the CTEs (which PGlite runs as a nested loop).
       select r.account_id::text, 'unbuilt' from r
       where not exists (select 1 from home_feed_entries e where e.account_id = r.account_id)`,
      [idList(accountIds), entry.statusId, entry.reblogOfId],
    );
    const outcome: FeedAddResult = { added: [], unbuilt: [] };
    for (const row of rows) {
      if (row.outcome === 'added') outcome.added.push(String(row.account_id));
      else if (row.outcome === 'unbuilt') outcome.unbuilt.push(String(row.account_id));
    }
    // Trimming walks FEED_MAX_ITEMS index entries per feed (~0.5 ms): for all 10,000 followers of
    // one account that is seconds. Each feed is trimmed on about one insert in TRIM_EVERY instead,
    // so a feed holds at most a few dozen entries past the cap between trims.
    const due = outcome.added.filter((id) => trimDue(id, entry.statusId));
    if (due.length > 0) await this.trim(due);
    return outcome;
  }

  async addMany(accountId: string, entries: readonly FeedEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const { added } = applyAdds(await this.entries(accountId), entries);
    if (added.length === 0) return 0;
    await this.insertRows(accountId, added);
    await this.trim([accountId]);
    return added.length;
  }

  async remove(accountIds: readonly string[], statusIds: readonly string[]): Promise<void> {
    if (accountIds.length === 0 || statusIds.length === 0) return;
    await this.database.query(
      `delete from home_feed_entries
       where account_id = any(string_to_array($1, ',')::bigint[]) and status_id = any(string_to_array($2, ',')::bigint[])`,
      [idList(accountIds), idList(statusIds)],
    );
  }

  async replace(accountId: string, entries: readonly FeedEntry[]): Promise<void> {
    await this.database.transaction(async (tx) => {
      await tx.execute(sql`delete from home_feed_entries where account_id = ${accountId}`);
      if (entries.length === 0) return;
      await tx.execute(sql`
        insert into home_feed_entries (account_id, status_id, reblog_of_id)
        select ${accountId}::bigint, s::bigint, nullif(r, '')::bigint
        from unnest(string_to_array(${idList(entries.map((e) => e.statusId))}, ','),
                    string_to_array(${entries.map((e) => e.reblogOfId ?? '').join(',')}, ',')) as t(s, r)
        on conflict do nothing`);
    });
    await this.trim([accountId]);
  }

  async page(accountId: string, page: Page): Promise<string[]> {
    const params: unknown[] = [accountId];
    const conds: string[] = ['account_id = $1'];
    const bound = (op: string, id: string) => {
      params.push(id);
      conds.push(`status_id ${op} $${params.length}::bigint`);
    };
    if (page.maxId !== undefined) bound('<', page.maxId);
    if (page.minId !== undefined) bound('>', page.minId);
    else if (page.sinceId !== undefined) bound('>', page.sinceId);
    params.push(page.limit);
    const order = page.minId !== undefined ? 'asc' : 'desc';
    const rows = await this.database.query<{ status_id: string }>(
      `select status_id from home_feed_entries where ${conds.join(' and ')}
       order by status_id ${order} limit $${params.length}`,
      params,
    );
    const ids = rows.map((r) => String(r.status_id));
    return page.minId !== undefined ? ids.reverse() : ids;
  }

  async entries(accountId: string): Promise<FeedEntry[]> {
    const rows = await this.database.query<Row>(
      `select status_id, reblog_of_id from home_feed_entries where account_id = $1 order by status_id desc`,
      [accountId],
    );
    return rows.map(entryOf);
  }

  async exists(accountId: string): Promise<boolean> {
    const rows = await this.database.query(`select 1 from home_feed_entries where account_id = $1 limit 1`, [
      accountId,
    ]);
    return rows.length > 0;
  }

  async clear(accountId: string): Promise<void> {
    await this.database.query(`delete from home_feed_entries where account_id = $1`, [accountId]);
  }

  async close(): Promise<void> {
    // The database belongs to its opener.
  }

  private async insertRows(accountId: string, entries: readonly FeedEntry[]): Promise<void> {
    await this.database.query(
      `insert into home_feed_entries (account_id, status_id, reblog_of_id)
       select $1::bigint, s::bigint, nullif(r, '')::bigint
       from unnest(string_to_array($2, ','), string_to_array($3, ',')) as t(s, r)
       on conflict do nothing`,
      [accountId, idList(entries.map((e) => e.statusId)), entries.map((e) => e.reblogOfId ?? '').join(',')],
    );
  }

  /** Deletes what lies past the FEED_MAX_ITEMS-th newest entry of each feed. */
  private async trim(accountIds: readonly string[]): Promise<void> {
    await this.database.query(
      `delete from home_feed_entries h using (
         select r.account_id,
           (select x.status_id from home_feed_entries x where x.account_id = r.account_id
            order by x.status_id desc offset ${FEED_MAX_ITEMS} limit 1) as cutoff
         from unnest(string_to_array($1, ',')::bigint[]) as r(account_id)) t
       where t.cutoff is not null and h.account_id = t.account_id and h.status_id <= t.cutoff`,
      [idList(accountIds)],
    );
  }
}
