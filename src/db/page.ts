import { and, asc, desc, gt, lt, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';

/**
 * One page of an id-ordered list, as Mastodon pages (mastodon.md §11.2): `maxId` is an exclusive
 * upper bound, `sinceId` an exclusive lower bound that still returns the newest page, `minId` an
 * exclusive lower bound that returns the page just after the cursor (ascending query, reversed).
 * With `minId`, `sinceId` is ignored, as in Mastodon's Paginable. Results are always newest first.
 * Ids are canonical decimal strings (the API layer's parsePage makes them so).
 */
export interface Page {
  maxId?: string;
  sinceId?: string;
  minId?: string;
  limit: number;
}

/** The conditions, order and limit of a page over an id column; `reversed` when minId is used. */
export interface PagePlan {
  where: SQL | undefined;
  orderBy: SQL;
  limit: number;
  reversed: boolean;
}

export function planPage(column: PgColumn | SQL.Aliased | SQL, page: Page): PagePlan {
  const col = column as PgColumn;
  if (page.minId !== undefined) {
    return {
      where: and(gt(col, page.minId), page.maxId === undefined ? undefined : lt(col, page.maxId)),
      orderBy: asc(col),
      limit: page.limit,
      reversed: true,
    };
  }
  return {
    where: and(
      page.maxId === undefined ? undefined : lt(col, page.maxId),
      page.sinceId === undefined ? undefined : gt(col, page.sinceId),
    ),
    orderBy: desc(col),
    limit: page.limit,
    reversed: false,
  };
}

/**
 * Runs one page of a query over an id column: `run` gets the cursor conditions (to AND with its
 * own), the order and the limit; the rows come back newest first whichever cursor was used.
 *
 *   const rows = await paginate(page, statuses.id, (where, orderBy, limit) =>
 *     db.select().from(statuses).where(and(eq(statuses.accountId, id), where)).orderBy(orderBy).limit(limit));
 */
export async function paginate<T>(
  page: Page,
  column: PgColumn | SQL,
  run: (where: SQL | undefined, orderBy: SQL, limit: number) => Promise<T[]>,
): Promise<T[]> {
  const plan = planPage(column, page);
  const rows = await run(plan.where, plan.orderBy, plan.limit);
  return plan.reversed ? rows.reverse() : rows;
}

/** Applies a page to ids already in memory (sorted any way): newest first. */
export function pageOfIds(ids: readonly string[], page: Page): string[] {
  const big = (id: string) => BigInt(id);
  const max = page.maxId === undefined ? undefined : big(page.maxId);
  const min = page.minId === undefined ? undefined : big(page.minId);
  const since = page.sinceId === undefined ? undefined : big(page.sinceId);
  const sorted = [...ids].sort((a, b) => (big(b) > big(a) ? 1 : big(b) < big(a) ? -1 : 0));
  const inRange = sorted.filter(
    (id) =>
      (max === undefined || big(id) < max) &&
      (min !== undefined ? big(id) > min : since === undefined || big(id) > since),
  );
  return min !== undefined ? inRange.slice(-page.limit) : inRange.slice(0, page.limit);
}
