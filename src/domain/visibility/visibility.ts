import { and, eq, isNull, or, type SQL, sql } from 'drizzle-orm';
import { blocks, mutes as mutesTable, statuses } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';

/**
 * The one place that decides who may see, boost, reply to, quote and be notified about a status
 * (Mastodon's StatusPolicy). REST, timelines, notifications, streaming, federation and search all
 * ask here; the rules exist twice — once in SQL for lists (`visibleStatusCondition`) and once for
 * a single status (`canViewStatus`, which runs that same SQL for one row), so they cannot drift.
 *
 * The rules:
 * - the author sees their own statuses;
 * - public and unlisted: everyone, anonymous included, except accounts blocked either way with the
 *   author (Mastodon hides only from accounts the author blocks on a direct fetch, and filters
 *   the other direction out of timelines and threads; we hide both ways everywhere, so a status
 *   never appears through one route and not another);
 * - private (followers-only): followers of the author and mentioned accounts;
 * - direct: mentioned accounts only;
 * - a reblog is visible when the reblog row itself is (booster not blocked) and its original is;
 * - statuses of suspended accounts are visible to nobody but their author.
 */
export type StatusVisibility = 'public' | 'unlisted' | 'private' | 'direct';

export const STATUS_VISIBILITIES: readonly StatusVisibility[] = ['public', 'unlisted', 'private', 'direct'];

export function isStatusVisibility(value: unknown): value is StatusVisibility {
  return typeof value === 'string' && (STATUS_VISIBILITIES as readonly string[]).includes(value);
}

/**
 * What each visibility reaches, each rule written once here (with its SQL twin where queries need
 * one), so that the streams, the timelines, the home feeds and the counters cannot disagree:
 * - public broadcast (`isPublicBroadcast`): public and not a boost, Mastodon's
 *   FanOutOnWriteService#broadcastable? — the public and hashtag timelines and streams carry it;
 * - public visibility (`hasPublicVisibility`): the visibility of those; a deleted status with it,
 *   a boost included, is announced on the public streams (Mastodon's RemoveStatusService);
 * - publicly visible (`isPubliclyVisible`): public and unlisted, seen by anyone, anonymous
 *   included; a reply counts on its parent only then (Mastodon's distributable?);
 * - to followers (`FOLLOWER_VISIBILITIES_SQL`): every visibility but direct reaches the homes of
 *   the author's followers; a direct status only those of the followers it mentions.
 */
const PUBLICLY_VISIBLE: readonly StatusVisibility[] = ['public', 'unlisted'];
const TO_FOLLOWERS: readonly StatusVisibility[] = ['public', 'unlisted', 'private'];

const sqlList = (values: readonly string[]) => `(${values.map((v) => `'${v}'`).join(', ')})`;

export function hasPublicVisibility(visibility: string): boolean {
  return visibility === 'public';
}

export function isPublicBroadcast(status: { visibility: string; reblogOfId: string | null }): boolean {
  return hasPublicVisibility(status.visibility) && status.reblogOfId === null;
}

/** isPublicBroadcast as a condition over the `statuses` table. */
export function publicBroadcastCondition(): SQL {
  return and(eq(statuses.visibility, 'public'), isNull(statuses.reblogOfId)) as SQL;
}

export function isPubliclyVisible(visibility: string): boolean {
  return (PUBLICLY_VISIBLE as readonly string[]).includes(visibility);
}

/** `in (…)` list of the publicly visible visibilities, for raw SQL. */
export const PUBLICLY_VISIBLE_SQL = sqlList(PUBLICLY_VISIBLE);

/** `in (…)` list of the visibilities that reach every follower's home, for raw SQL. */
export const FOLLOWER_VISIBILITIES_SQL = sqlList(TO_FOLLOWERS);

/** The columns the rules read; a status row (`typeof statuses.$inferSelect`) has them all. */
export interface VisibilityFields {
  id: string;
  accountId: string;
  visibility: string;
  reblogOfId: string | null;
}

type Db = Pick<Context, 'database'>;

/**
 * Which statuses `viewer` may see, as a condition over the `statuses` table (use it in any query
 * selecting from `statuses`, not from an alias of it). Exists-subqueries on follows, mentions and
 * blocks, each on an index.
 */
export function visibleStatusCondition(viewerAccountId: string | null): SQL {
  const outer = sql`${sql.identifier('statuses')}`;
  const original = sql`${sql.identifier('visibility_original')}`;
  const reblogCondition = sql`(${outer}.reblog_of_id is null or exists (select 1 from statuses ${original} where ${original}.id = ${outer}.reblog_of_id and ${rowCondition(original, viewerAccountId)}))`;
  return sql`(${rowCondition(outer, viewerAccountId)} and ${reblogCondition})`;
}

/** The rule for one row (`t` names the statuses row), ignoring what a reblog points at. */
function rowCondition(t: SQL, viewer: string | null): SQL {
  const authorAvailable = sql`not exists (select 1 from accounts va where va.id = ${t}.account_id and va.suspended_at is not null)`;
  const publiclyVisible = sql.raw(PUBLICLY_VISIBLE_SQL);
  if (viewer === null) return sql`(${t}.visibility in ${publiclyVisible} and ${authorAvailable})`;
  const notBlocked = sql`not exists (select 1 from blocks vb where (vb.account_id = ${t}.account_id and vb.target_account_id = ${viewer}) or (vb.account_id = ${viewer} and vb.target_account_id = ${t}.account_id))`;
  const mentioned = sql`exists (select 1 from mentions vm where vm.status_id = ${t}.id and vm.account_id = ${viewer})`;
  const following = sql`exists (select 1 from follows vf where vf.account_id = ${viewer} and vf.target_account_id = ${t}.account_id)`;
  return sql`(${t}.account_id = ${viewer} or (${authorAvailable} and ${notBlocked} and (${t}.visibility in ${publiclyVisible} or (${t}.visibility = 'private' and (${following} or ${mentioned})) or (${t}.visibility = 'direct' and ${mentioned}))))`;
}

/** Whether `viewer` (null: anonymous) may see `status`; a reblog is visible when its original is. */
export async function canViewStatus(
  ctx: Db,
  viewerAccountId: string | null,
  status: VisibilityFields,
): Promise<boolean> {
  // One's own original status needs no query (a suspended author cannot sign in to ask).
  if (viewerAccountId !== null && status.accountId === viewerAccountId && status.reblogOfId === null)
    return true;
  const visible = await visibleStatusIds(ctx, viewerAccountId, [status.id]);
  return visible.has(status.id);
}

/** Of `statusIds`, those `viewer` may see (one query). */
export async function visibleStatusIds(
  ctx: Db,
  viewerAccountId: string | null,
  statusIds: readonly string[],
): Promise<Set<string>> {
  const ids = [...new Set(statusIds)];
  if (ids.length === 0) return new Set();
  const rows = await ctx.database.db
    .select({ id: statuses.id })
    .from(statuses)
    .where(and(sql`${statuses.id} in ${ids}`, visibleStatusCondition(viewerAccountId)));
  return new Set(rows.map((r) => r.id));
}

/**
 * Whether the visibility itself allows `viewer` to boost: public and unlisted statuses, and
 * private ones by their own author (Mastodon: private is boostable only by its author, who
 * boosts it to the same followers); direct never.
 */
export function reblogAllowedByVisibility(status: VisibilityFields, viewerAccountId: string | null): boolean {
  if (isPubliclyVisible(status.visibility)) return true;
  return status.visibility === 'private' && viewerAccountId !== null && status.accountId === viewerAccountId;
}

/** Whether `viewer` may boost `status` (an original, not a reblog): visibility, sight and blocks. */
export async function canReblog(
  ctx: Db,
  viewerAccountId: string | null,
  status: VisibilityFields,
): Promise<boolean> {
  if (viewerAccountId === null || status.reblogOfId !== null) return false;
  if (!reblogAllowedByVisibility(status, viewerAccountId)) return false;
  return canViewStatus(ctx, viewerAccountId, status);
}

/**
 * Whether `viewer` may interact with `status` in the ways that need only sight of it: favourite it
 * or reply to it (Mastodon's StatusPolicy#favourite? and the `in_reply_to` check). Blocks already
 * hide it.
 */
export async function canInteract(
  ctx: Db,
  viewerAccountId: string | null,
  status: VisibilityFields,
): Promise<boolean> {
  if (viewerAccountId === null) return false;
  return canViewStatus(ctx, viewerAccountId, status);
}

/**
 * Whether `viewer` may quote `status`: never a private or direct one (Mastodon forces their quote
 * policy to nobody), else whoever sees it. Quote approval policies arrive with quotes.
 */
export async function canQuote(
  ctx: Db,
  viewerAccountId: string | null,
  status: VisibilityFields,
): Promise<boolean> {
  if (viewerAccountId === null) return false;
  if (!isPubliclyVisible(status.visibility)) return false;
  return canViewStatus(ctx, viewerAccountId, status);
}

/**
 * Whether `recipient` may be notified about `status` caused by `fromAccountId`: they must be able
 * to see the status, and neither block nor mute the one who caused it (a mute that hides
 * notifications). Notification policies (filtering) are the notification module's.
 */
export async function canNotifyAbout(
  ctx: Db,
  recipientAccountId: string,
  fromAccountId: string,
  status: VisibilityFields | null,
): Promise<boolean> {
  if (recipientAccountId === fromAccountId) return false;
  if (await blockedEitherWay(ctx, recipientAccountId, fromAccountId)) return false;
  const mute = await muteOf(ctx, recipientAccountId, fromAccountId);
  if (mute?.hideNotifications) return false;
  if (status !== null && !(await canViewStatus(ctx, recipientAccountId, status))) return false;
  return true;
}

/** Whether `a` blocks `b` or `b` blocks `a`. */
export async function blockedEitherWay(ctx: Db, a: string, b: string): Promise<boolean> {
  if (a === b) return false;
  const rows = await ctx.database.db
    .select({ id: blocks.id })
    .from(blocks)
    .where(
      or(
        and(eq(blocks.accountId, a), eq(blocks.targetAccountId, b)),
        and(eq(blocks.accountId, b), eq(blocks.targetAccountId, a)),
      ),
    )
    .limit(1);
  return rows.length > 0;
}

/** Whether `viewer` blocks `target`. */
export async function isBlocking(ctx: Db, viewer: string, target: string): Promise<boolean> {
  const rows = await ctx.database.db
    .select({ id: blocks.id })
    .from(blocks)
    .where(and(eq(blocks.accountId, viewer), eq(blocks.targetAccountId, target)))
    .limit(1);
  return rows.length > 0;
}

/** The viewer's unexpired mute of `target`, if any. */
export async function muteOf(
  ctx: Db,
  viewer: string,
  target: string,
): Promise<{ hideNotifications: boolean; expiresAt: Date | null } | undefined> {
  const [row] = await ctx.database.db
    .select({ hideNotifications: mutesTable.hideNotifications, expiresAt: mutesTable.expiresAt })
    .from(mutesTable)
    .where(
      and(
        eq(mutesTable.accountId, viewer),
        eq(mutesTable.targetAccountId, target),
        sql`(${mutesTable.expiresAt} is null or ${mutesTable.expiresAt} > now())`,
      ),
    )
    .limit(1);
  return row;
}

/** Whether `viewer` mutes `target` (an unexpired mute). */
export async function mutes(ctx: Db, viewer: string, target: string): Promise<boolean> {
  return (await muteOf(ctx, viewer, target)) !== undefined;
}

/**
 * Statuses that a viewer's blocks and mutes filter out of lists (timelines, threads, reblogged_by):
 * by an account the viewer mutes, or reblogs of such an account's status. Blocks are already in
 * `visibleStatusCondition`. A condition over the `statuses` table.
 */
export function notMutedCondition(viewerAccountId: string | null): SQL {
  if (viewerAccountId === null) return sql`true`;
  const muted = (col: SQL) =>
    sql`exists (select 1 from mutes mm where mm.account_id = ${viewerAccountId} and mm.target_account_id = ${col} and (mm.expires_at is null or mm.expires_at > now()))`;
  const outer = sql`${sql.identifier('statuses')}`;
  return sql`(not ${muted(sql`${outer}.account_id`)} and (${outer}.reblog_of_id is null or not exists (select 1 from statuses mo where mo.id = ${outer}.reblog_of_id and ${muted(sql`mo.account_id`)})))`;
}
