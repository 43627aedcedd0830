import { and, eq, exists, inArray, isNull, notExists, or, type SQL, sql } from 'drizzle-orm';
import { perDatabase } from '../../db/database.ts';
import { type Page, planPage } from '../../db/page.ts';
import {
  accountStats,
  accounts,
  statuses,
  statusPins,
  statusTags,
  tags,
  users,
} from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { normalizeHashtag } from '../statuses/text.ts';
import {
  compareIds,
  hydrateStatusViews,
  type StatusView,
  statusViewColumns,
  statusViewJoins,
} from '../statuses/views.ts';
import {
  notMutedCondition,
  publicBroadcastCondition,
  visibleStatusCondition,
} from '../visibility/visibility.ts';
import { homeFeedPage } from './feeds.ts';

/**
 * The timelines (mastodon.md §1.3): home reads the precomputed feed, the others are SQL over
 * `statuses` with the visibility module's condition. Each returns hydrated views, newest first;
 * a page costs one statement (its statuses with everything shown of them), plus one each for
 * mentioned accounts who wrote none of them, polls and applications when the page has any
 * (DESIGN.md §8).
 */

/** Home: the feed's page, re-checked against visibility and mutes (the graph may have moved since). */
export async function homeTimeline(ctx: Context, viewerId: string, page: Page): Promise<StatusView[]> {
  const ids = await homeFeedPage(ctx, viewerId, page);
  if (ids.length === 0) return [];
  const rows = await visibleHomeStatuses(ctx.database.db).execute({ ids, viewer: viewerId });
  return hydrateStatusViews(ctx, viewerId, ids, rows);
}

/**
 * The home page's statuses that still pass visibility and mutes, with the originals of those that
 * are reblogs (visible too: a reblog is visible only when its original is), in one statement
 * prepared once (perDatabase). The visibility module's conditions are built with a placeholder
 * where the viewer's id goes, so every viewer shares the statement.
 */
const visibleHomeStatuses = perDatabase((db) => {
  const viewer = sql.placeholder('viewer');
  // The visibility module takes the viewer's id; the placeholder stands for it in the SQL.
  const asViewer = viewer as unknown as string;
  const page = db.$with('home_page').as(
    db
      .select({ id: statuses.id, reblogOfId: statuses.reblogOfId })
      .from(statuses)
      .where(
        and(
          sql`${statuses.id} = any(${sql.placeholder('ids')}::bigint[])`,
          visibleStatusCondition(asViewer),
          notMutedCondition(asViewer),
        ),
      ),
  );
  return db
    .with(page)
    .select(statusViewColumns(viewer))
    .from(statuses)
    .leftJoin(accounts, statusViewJoins.account)
    .leftJoin(users, statusViewJoins.user)
    .leftJoin(accountStats, statusViewJoins.stats)
    .where(
      sql`${statuses.id} in (select ${page.id} from ${page} union all select ${page.reblogOfId} from ${page})`,
    )
    .prepare('home_visible_statuses');
});

/** Statuses that show attachments (Mastodon's `only_media`: ordered ids not empty). */
function withMediaCondition(): SQL {
  return sql`cardinality(${statuses.orderedMediaAttachmentIds}) > 0`;
}

export interface PublicOptions {
  local?: boolean;
  remote?: boolean;
  onlyMedia?: boolean;
}

/** Conditions shared by the public and tag timelines (Mastodon's PublicFeed). */
function publicConditions(viewerId: string | null, options: PublicOptions): SQL[] {
  const conds: SQL[] = [
    // What is broadcast publicly, as the public and hashtag streams carry it.
    publicBroadcastCondition(),
    visibleStatusCondition(viewerId),
    notMutedCondition(viewerId),
  ];
  if (options.local) conds.push(eq(statuses.local, true));
  else if (options.remote) conds.push(eq(statuses.local, false));
  if (options.onlyMedia) conds.push(withMediaCondition());
  return conds;
}

/**
 * Public statuses, no boosts; replies only when they continue the author's own thread (Mastodon's
 * without_replies). Anonymous viewers are allowed.
 */
export async function publicTimeline(
  ctx: Context,
  viewerId: string | null,
  options: PublicOptions,
  page: Page,
): Promise<StatusView[]> {
  const conds = publicConditions(viewerId, options);
  conds.push(or(isNull(statuses.inReplyToId), eq(statuses.inReplyToAccountId, statuses.accountId)) as SQL);
  return pageOfStatuses(ctx, viewerId, conds, page);
}

export interface TagOptions extends PublicOptions {
  any?: readonly string[];
  all?: readonly string[];
  none?: readonly string[];
}

/** Tag ids by normalised name (unknown names are absent). */
async function tagIds(ctx: Context, names: readonly string[]): Promise<Map<string, string>> {
  const normalized = [...new Set(names.map(normalizeHashtag))];
  if (normalized.length === 0) return new Map();
  const rows = await ctx.database.db
    .select({ id: tags.id, name: tags.name })
    .from(tags)
    .where(inArray(tags.name, normalized));
  return new Map(rows.map((r) => [r.name, r.id]));
}

const taggedWith = (ids: readonly string[]): SQL =>
  exists(
    sql`(select 1 from ${statusTags} where ${statusTags.statusId} = ${statuses.id} and ${inArray(statusTags.tagId, [...ids])})`,
  );

/**
 * Public statuses tagged `tag` or any of `any`, and every one of `all`, and none of `none` (Mastodon's
 * TagFeed). An unknown tag, or an unknown tag under `all`, gives an empty timeline.
 */
export async function tagTimeline(
  ctx: Context,
  viewerId: string | null,
  tag: string,
  options: TagOptions,
  page: Page,
): Promise<StatusView[]> {
  const any = [tag, ...(options.any ?? [])];
  const all = options.all ?? [];
  const none = options.none ?? [];
  const known = await tagIds(ctx, [...any, ...all, ...none]);
  const idsOf = (names: readonly string[]) =>
    names.flatMap((n) => {
      const id = known.get(normalizeHashtag(n));
      return id === undefined ? [] : [id];
    });
  const anyIds = idsOf(any);
  if (anyIds.length === 0) return [];
  const conds = publicConditions(viewerId, options);
  conds.push(taggedWith(anyIds));
  for (const name of all) {
    const id = known.get(normalizeHashtag(name));
    if (id === undefined) return [];
    conds.push(taggedWith([id]));
  }
  const noneIds = idsOf(none);
  if (noneIds.length > 0)
    conds.push(
      notExists(
        sql`(select 1 from ${statusTags} where ${statusTags.statusId} = ${statuses.id} and ${inArray(statusTags.tagId, noneIds)})`,
      ),
    );
  return pageOfStatuses(ctx, viewerId, conds, page);
}

export interface AccountStatusesOptions {
  onlyMedia?: boolean;
  excludeReplies?: boolean;
  excludeReblogs?: boolean;
  pinned?: boolean;
  tagged?: string;
}

/**
 * An account's statuses as `viewer` may see them (Mastodon's AccountStatusesFilter): replies
 * excluded except self-replies with exclude_replies, boosts with exclude_reblogs, only pinned ones
 * with pinned, only those with a hashtag with tagged. Mutes do not apply: the viewer opened the
 * profile.
 */
export async function accountStatuses(
  ctx: Context,
  viewerId: string | null,
  accountId: string,
  options: AccountStatusesOptions,
  page: Page,
): Promise<StatusView[]> {
  const conds: SQL[] = [eq(statuses.accountId, accountId), visibleStatusCondition(viewerId)];
  if (options.onlyMedia) conds.push(withMediaCondition());
  if (options.excludeReplies) {
    conds.push(or(isNull(statuses.inReplyToId), eq(statuses.inReplyToAccountId, statuses.accountId)) as SQL);
  }
  if (options.excludeReblogs) conds.push(isNull(statuses.reblogOfId));
  if (options.pinned) {
    conds.push(
      exists(
        sql`(select 1 from ${statusPins} where ${statusPins.statusId} = ${statuses.id} and ${statusPins.accountId} = ${accountId})`,
      ),
    );
  }
  if (options.tagged !== undefined) {
    const id = (await tagIds(ctx, [options.tagged])).get(normalizeHashtag(options.tagged));
    if (id === undefined) return [];
    conds.push(taggedWith([id]));
  }
  return pageOfStatuses(ctx, viewerId, conds, page);
}

/**
 * One page of the statuses matching `conds`, newest first, hydrated for the viewer. The page's rows
 * and the originals of its reblogs come in one statement, named per shape of the query (options ×
 * cursors) so that each shape is parsed and planned once per connection.
 */
async function pageOfStatuses(
  ctx: Context,
  viewerId: string | null,
  conds: (SQL | undefined)[],
  page: Page,
): Promise<StatusView[]> {
  const db = ctx.database.db;
  const plan = planPage(statuses.id, page);
  const pageRows = db.$with('timeline_page').as(
    db
      .select({ id: statuses.id, reblogOfId: statuses.reblogOfId })
      .from(statuses)
      .where(and(...conds, plan.where))
      .orderBy(plan.orderBy)
      .limit(plan.limit),
  );
  const rows = await db
    .with(pageRows)
    .select({
      ...statusViewColumns(viewerId),
      inPage: sql<boolean>`${statuses.id} in (select ${pageRows.id} from ${pageRows})`,
    })
    .from(statuses)
    .leftJoin(accounts, statusViewJoins.account)
    .leftJoin(users, statusViewJoins.user)
    .leftJoin(accountStats, statusViewJoins.stats)
    .where(
      sql`${statuses.id} in (select ${pageRows.id} from ${pageRows} union all select ${pageRows.reblogOfId} from ${pageRows})`,
    )
    .prepare('timeline_page')
    .execute();
  // Newest first whichever cursor was used (min_id reads ascending: see planPage).
  const ids = rows
    .filter((r) => r.inPage)
    .map((r) => r.status.id)
    .sort((a, b) => compareIds(b, a));
  return hydrateStatusViews(ctx, viewerId, ids, rows);
}
