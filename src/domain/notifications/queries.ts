import { and, desc, eq, inArray, notInArray, type SQL, sql } from 'drizzle-orm';
import { type Page, paginate, planPage } from '../../db/page.ts';
import { notificationRequests, notifications } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { visibleStatusCondition } from '../visibility/visibility.ts';
import { reconsiderRequests } from './notify.ts';
import {
  GROUPABLE_TYPES,
  NOTIFICATION_TYPES,
  type NotificationRecord,
  type NotificationType,
} from './types.ts';

type Ctx = Pick<Context, 'database'>;

/** What a list of notifications shows (Mastodon's `browserable`). */
export interface NotificationFilter {
  /** Only these types (unknown names are ignored; none known means nothing). Empty: all. */
  types?: readonly string[];
  excludeTypes?: readonly string[];
  /** Only from this account; filtered ones are then included, as Mastodon does. */
  fromAccountId?: string;
  /** Include notifications the policy filtered (they wait in requests). */
  includeFiltered?: boolean;
}

/**
 * The conditions every read shares: the recipient's own, not from suspended accounts, and — for
 * the types that carry a status — only while that status exists and the recipient may see it.
 */
function baseConditions(accountId: string): SQL[] {
  return [
    eq(notifications.accountId, accountId),
    sql`not exists (select 1 from accounts na where na.id = ${notifications.fromAccountId} and na.suspended_at is not null)`,
    sql`(${notifications.statusId} is null or exists (select 1 from statuses where statuses.id = ${notifications.statusId} and ${visibleStatusCondition(accountId)}))`,
  ];
}

function browserable(accountId: string, filter: NotificationFilter): SQL[] {
  const conditions = baseConditions(accountId);
  if (filter.fromAccountId !== undefined)
    conditions.push(eq(notifications.fromAccountId, filter.fromAccountId));
  else if (!filter.includeFiltered) conditions.push(eq(notifications.filtered, false));
  const known: readonly string[] = NOTIFICATION_TYPES;
  let requested =
    filter.types && filter.types.length > 0 ? known.filter((t) => filter.types?.includes(t)) : [...known];
  requested = requested.filter((t) => !filter.excludeTypes?.includes(t));
  if (requested.length === 0) conditions.push(sql`false`);
  else if (requested.length < known.length) conditions.push(inArray(notifications.type, requested));
  return conditions;
}

/** One page of notifications, newest first. */
export async function listNotifications(
  ctx: Ctx,
  accountId: string,
  filter: NotificationFilter,
  page: Page,
): Promise<NotificationRecord[]> {
  const conditions = browserable(accountId, filter);
  return paginate(page, notifications.id, (where, orderBy, limit) =>
    ctx.database.db
      .select()
      .from(notifications)
      .where(and(...conditions, where))
      .orderBy(orderBy)
      .limit(limit),
  );
}

/** One of the account's notifications (filtered ones included), or undefined. */
export async function getNotification(
  ctx: Ctx,
  accountId: string,
  id: string,
): Promise<NotificationRecord | undefined> {
  const [row] = await ctx.database.db
    .select()
    .from(notifications)
    .where(and(...baseConditions(accountId), eq(notifications.id, id)))
    .limit(1);
  return row;
}

/**
 * How many notifications are unread, up to `limit`. Mastodon counts those after the notifications
 * marker; markers arrive in a later issue, so until then every browserable notification is unread.
 */
export async function unreadCount(
  ctx: Ctx,
  accountId: string,
  filter: NotificationFilter,
  limit: number,
): Promise<number> {
  const [row] = await ctx.database.db.select({ n: sql<number>`count(*)::int` }).from(
    ctx.database.db
      .select({ id: notifications.id })
      .from(notifications)
      .where(and(...browserable(accountId, filter)))
      .orderBy(desc(notifications.id))
      .limit(limit)
      .as('unread'),
  );
  return Number(row?.n ?? 0);
}

/** Deletes one notification; false when the account has none with that id. */
export async function dismissNotification(ctx: Ctx, accountId: string, id: string): Promise<boolean> {
  return (await dismissWhere(ctx, accountId, eq(notifications.id, id))) > 0;
}

/**
 * Deletes the account's notifications that match `condition`; filtered ones among them may leave
 * their notification request empty, so the requests are reconsidered. Returns how many went.
 */
async function dismissWhere(ctx: Ctx, accountId: string, condition: SQL): Promise<number> {
  const removed = await ctx.database.db
    .delete(notifications)
    .where(and(eq(notifications.accountId, accountId), condition))
    .returning({
      accountId: notifications.accountId,
      fromAccountId: notifications.fromAccountId,
      filtered: notifications.filtered,
    });
  await reconsiderRequests(
    ctx,
    removed.filter((r) => r.filtered),
  );
  return removed.length;
}

/** Deletes all of an account's notifications, filtered ones included, and so its requests. */
export async function clearNotifications(ctx: Ctx, accountId: string): Promise<void> {
  await ctx.database.db.delete(notifications).where(eq(notifications.accountId, accountId));
  await ctx.database.db.delete(notificationRequests).where(eq(notificationRequests.accountId, accountId));
}

// ——— Grouped notifications (API v2) ———

export interface GroupedFilter extends NotificationFilter {
  /** The types to group (of favourite, reblog, follow); absent or empty: all of them. */
  groupedTypes?: readonly string[];
}

export interface NotificationGroup {
  groupKey: string;
  /** The notification that represents the group on this page (its newest on the page). */
  notification: NotificationRecord;
  notificationsCount: number;
  mostRecentNotificationId: string;
  /** Newest first, at most eight. */
  sampleAccountIds: string[];
  /** Present on paginated lists: the group's oldest id on the page and its newest time. */
  pagination: { minId: string; latestNotificationAt: Date } | null;
}

/** Mastodon shows this many accounts per group. */
export const SAMPLE_ACCOUNTS_SIZE = 8;

function groupedSet(groupedTypes: readonly string[] | undefined): Set<string> {
  const asked = groupedTypes?.filter((t) => GROUPABLE_TYPES.has(t as NotificationType)) ?? [];
  return new Set(groupedTypes && groupedTypes.length > 0 ? asked : GROUPABLE_TYPES);
}

/** A notification's group on a page: its key when its type is grouped, else one of its own. */
function groupKeyExpression(grouped: Set<string>): SQL {
  // Stored keys of ungroupable or filtered notifications are already `ungrouped-<id>`.
  if (grouped.size === GROUPABLE_TYPES.size) return sql`${notifications.groupKey}`;
  if (grouped.size === 0) return sql`('ungrouped-' || ${notifications.id}::text)`;
  return sql`(case when ${inArray(notifications.type, [...grouped])} then ${notifications.groupKey} else 'ungrouped-' || ${notifications.id}::text end)`;
}

function effectiveKey(n: NotificationRecord, grouped: Set<string>): string {
  return grouped.has(n.type) ? n.groupKey : `ungrouped-${n.id}`;
}

/**
 * One page of groups, as Mastodon's paginate_groups: walking notifications in page order, the first
 * (newest, or oldest with min_id) of each group represents it, until `limit` groups are found. Then
 * each group's count, newest id, sample accounts and page bounds are read.
 */
export async function listNotificationGroups(
  ctx: Ctx,
  accountId: string,
  filter: GroupedFilter,
  page: Page,
): Promise<NotificationGroup[]> {
  const grouped = groupedSet(filter.groupedTypes);
  const keyExpr = groupKeyExpression(grouped);
  const conditions = browserable(accountId, filter);
  const ascending = page.minId !== undefined;
  const picked: NotificationRecord[] = [];
  const seen = new Set<string>();
  let cursor = ascending ? page.minId : page.maxId;
  const batchSize = Math.max(page.limit * 2, 40);
  for (;;) {
    const plan = planPage(
      notifications.id,
      ascending
        ? { minId: cursor, maxId: page.maxId, limit: batchSize }
        : { maxId: cursor, sinceId: page.sinceId, limit: batchSize },
    );
    const batch = await ctx.database.db
      .select()
      .from(notifications)
      .where(and(...conditions, plan.where, seen.size > 0 ? notInArray(keyExpr, [...seen]) : undefined))
      .orderBy(plan.orderBy)
      .limit(batchSize);
    for (const n of batch) {
      const key = effectiveKey(n, grouped);
      if (seen.has(key)) continue;
      seen.add(key);
      picked.push(n);
      if (picked.length === page.limit) break;
    }
    const last = batch[batch.length - 1];
    if (picked.length === page.limit || batch.length < batchSize || last === undefined) break;
    cursor = last.id;
  }
  const ordered = ascending ? picked.reverse() : picked;
  if (ordered.length === 0) return [];

  // The page's span, for the groups' counts and bounds (Mastodon's pagination_range).
  const newest = ordered[0] as NotificationRecord;
  const oldest = ordered[ordered.length - 1] as NotificationRecord;
  let lower: string | undefined = oldest.id;
  let upper: { id: string; inclusive: boolean } | undefined = { id: newest.id, inclusive: true };
  if (ordered.length < page.limit) {
    // The last page in this direction: it reaches to the cursor the client gave.
    if (ascending) {
      upper = page.maxId === undefined ? undefined : { id: page.maxId, inclusive: false };
    } else {
      lower = page.sinceId === undefined ? '0' : (BigInt(page.sinceId) + 1n).toString();
    }
  }
  return buildGroups(ctx, accountId, ordered, grouped, { lower, upper });
}

/** The group a key names (any of its notifications may represent it), without page bounds. */
export async function getNotificationGroup(
  ctx: Ctx,
  accountId: string,
  groupKey: string,
): Promise<NotificationGroup | undefined> {
  const [row] = await ctx.database.db
    .select()
    .from(notifications)
    .where(and(...baseConditions(accountId), eq(notifications.groupKey, groupKey)))
    .orderBy(desc(notifications.id))
    .limit(1);
  if (!row) return undefined;
  const [group] = await buildGroups(ctx, accountId, [row], groupedSet(undefined), null);
  return group;
}

interface GroupRow {
  key: string;
  most_recent: string | null;
  samples: string[] | null;
  count: number | string;
  page_min: string | null;
  latest_at: string | null;
}

async function buildGroups(
  ctx: Ctx,
  accountId: string,
  representatives: readonly NotificationRecord[],
  grouped: Set<string>,
  range: { lower: string | undefined; upper: { id: string; inclusive: boolean } | undefined } | null,
): Promise<NotificationGroup[]> {
  const keys = [...new Set(representatives.filter((n) => grouped.has(n.type)).map((n) => n.groupKey))];
  const data = new Map<string, GroupRow>();
  if (keys.length > 0) {
    const params: unknown[] = [accountId, SAMPLE_ACCOUNTS_SIZE, keys];
    let bound = '';
    if (range?.upper) {
      params.push(range.upper.id);
      bound = `and id ${range.upper.inclusive ? '<=' : '<'} $4`;
    }
    const lowerParam = `$${params.length + 1}`;
    params.push(range?.lower ?? '0');
    const same = 'n.account_id = $1 and n.group_key = g.key';
    const rows = await ctx.database.query<GroupRow>(
      `select g.key,
         (select n.id::text from notifications n where ${same} ${bound} order by n.id desc limit 1) as most_recent,
         array(select n.from_account_id::text from notifications n where ${same} ${bound} order by n.id desc limit $2) as samples,
         (select count(*)::int from notifications n where ${same} ${bound}) as count,
         (select n.id::text from notifications n where ${same} and n.id >= ${lowerParam}::bigint order by n.id asc limit 1) as page_min,
         (select to_char(n.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
            from notifications n where ${same} ${bound} order by n.id desc limit 1) as latest_at
       from unnest($3::text[]) as g(key)`,
      params,
    );
    for (const row of rows) data.set(row.key, row);
  }
  return representatives.map((n) => {
    const row = grouped.has(n.type) ? data.get(n.groupKey) : undefined;
    if (row) {
      return {
        groupKey: n.groupKey,
        notification: n,
        notificationsCount: Number(row.count),
        mostRecentNotificationId: row.most_recent ?? n.id,
        sampleAccountIds: row.samples ?? [n.fromAccountId],
        pagination:
          range === null
            ? null
            : {
                minId: row.page_min ?? n.id,
                latestNotificationAt: row.latest_at ? new Date(row.latest_at) : n.createdAt,
              },
      };
    }
    return {
      groupKey: `ungrouped-${n.id}`,
      notification: n,
      notificationsCount: 1,
      mostRecentNotificationId: n.id,
      sampleAccountIds: [n.fromAccountId],
      pagination: range === null ? null : { minId: n.id, latestNotificationAt: n.createdAt },
    };
  });
}

/** The notifications of one group, newest first, for its accounts (paged by notification id). */
export async function listGroupNotifications(
  ctx: Ctx,
  accountId: string,
  groupKey: string,
  page: Page,
): Promise<NotificationRecord[]> {
  // Mastodon pages this list by max_id / since_id only.
  const cursor: Page = { limit: page.limit, maxId: page.maxId, sinceId: page.sinceId };
  return paginate(cursor, notifications.id, (where, orderBy, limit) =>
    ctx.database.db
      .select()
      .from(notifications)
      .where(and(...baseConditions(accountId), eq(notifications.groupKey, groupKey), where))
      .orderBy(orderBy)
      .limit(limit),
  );
}

/** Deletes every notification of a group (an `ungrouped-<id>` key is one notification). */
export async function dismissNotificationGroup(ctx: Ctx, accountId: string, groupKey: string): Promise<void> {
  await dismissWhere(ctx, accountId, eq(notifications.groupKey, groupKey));
}

/**
 * Unread groups, up to `limit`: Mastodon counts the groups after the notifications marker; without
 * markers (a later issue) every group is unread.
 */
export async function unreadGroupCount(
  ctx: Ctx,
  accountId: string,
  filter: GroupedFilter,
  limit: number,
): Promise<number> {
  const keyExpr = groupKeyExpression(groupedSet(filter.groupedTypes));
  const [row] = await ctx.database.db.select({ n: sql<number>`count(*)::int` }).from(
    ctx.database.db
      .selectDistinct({ key: sql<string>`${keyExpr}`.as('key') })
      .from(notifications)
      .where(and(...browserable(accountId, filter)))
      .limit(limit)
      .as('unread_groups'),
  );
  return Number(row?.n ?? 0);
}
