import { and, eq, isNull, type Placeholder, type SQL, sql } from 'drizzle-orm';
import { perDatabase } from '../../db/database.ts';
import { accountStats, accounts, oauthApplications, polls, statuses, users } from '../../db/schema/index.ts';
import type { AccountRecord, UserRecord } from '../accounts/records.ts';
import { allRoles } from '../accounts/roles.ts';
import { type AccountStatsRecord, type AccountView, accountViewOf, loadAccounts } from '../accounts/views.ts';
import type { Context } from '../context.ts';
import { notFound } from '../errors.ts';
import { mediaByIds } from '../media/attach.ts';
import type { MediaAttachmentRecord } from '../media/records.ts';
import { canViewStatus } from '../visibility/visibility.ts';

export type StatusRecord = typeof statuses.$inferSelect;
export type PollRecord = typeof polls.$inferSelect;

export interface PollView {
  poll: PollRecord;
  /** The viewer's choices (null when anonymous). */
  ownVotes: number[] | null;
  /** The viewer is the poll's author (sees totals even when hidden). */
  own: boolean;
}

/** What the viewer did with a status (null when anonymous). */
export interface StatusViewerFlags {
  favourited: boolean;
  reblogged: boolean;
  bookmarked: boolean;
  /** The thread is muted. */
  muted: boolean;
  pinned: boolean;
}

/**
 * A status as the API shows it to one viewer: the row, its author, the original when it is a
 * reblog, mentioned accounts, hashtags, poll, application and the viewer's own flags.
 */
export interface StatusView {
  status: StatusRecord;
  account: AccountView;
  reblog: StatusView | null;
  mentions: AccountRecord[];
  tags: { name: string; displayName: string }[];
  poll: PollView | null;
  /** The attachments, in the author's order. */
  media: MediaAttachmentRecord[];
  application: { name: string; website: string | null } | null;
  viewer: StatusViewerFlags | null;
  /** The viewer's account id (null: anonymous), for the serializer's per-viewer fields. */
  viewerAccountId: string | null;
}

/**
 * Hydrates statuses for a viewer, in the order of `statusIds`, in one statement per page: the
 * statuses with the originals of reblogs, their authors, mentions, tags and the viewer's flags
 * (mentioned accounts that wrote none of them, polls and applications add one each when present). Statuses that do not exist, whose
 * author the API does not show (unconfirmed, …) or that are reblogs of a vanished original are left
 * out. Visibility is the caller's: pass only ids the viewer may see (src/domain/visibility).
 */
export async function loadStatusViews(
  ctx: Context,
  viewerAccountId: string | null,
  statusIds: readonly string[],
): Promise<StatusView[]> {
  const wanted = [...new Set(statusIds)];
  if (wanted.length === 0) return [];
  const fetched = await statusesWithOriginals(ctx.database.db).execute({
    ids: wanted,
    viewer: viewerAccountId,
  });
  return hydrateStatusViews(ctx, viewerAccountId, wanted, fetched);
}

/** A status row with what a view shows of it beyond the row, read in the same statement. */
export interface FetchedStatus {
  status: StatusRecord;
  /** The author, with its user and counters (statusViewJoins). */
  account: AccountRecord | null;
  user: UserRecord | null;
  stats: AccountStatsRecord | null;
  /** Mentioned account ids, in the order mentioned. */
  mentionIds: string[] | null;
  tagNames: string[] | null;
  /** The same tags' display names, in the same order. */
  tagDisplayNames: string[] | null;
  /** What the viewer did with it, as bits of VIEWER_FLAG. */
  viewerFlags: number;
  /** The viewer's choices in the status's poll. */
  ownVotes: number[] | null;
}

/** The bits of FetchedStatus.viewerFlags. */
const VIEWER_FLAG = { favourited: 1, reblogged: 2, bookmarked: 4, pinned: 8, muted: 16 } as const;

/**
 * The columns that read a status as FetchedStatus, for a select from `statuses` joined as
 * statusViewJoins; `viewer` is an account id, a placeholder (prepared statements), or null
 * (anonymous: every flag is false).
 */
export function statusViewColumns(viewer: string | Placeholder | null) {
  return {
    status: statuses,
    account: accounts,
    user: users,
    stats: accountStats,
    mentionIds: sql<string[] | null>`(select array_agg(m.account_id::text order by m.id)
      from mentions m where m.status_id = ${outerStatus}.id)`,
    tagNames: sql<string[] | null>`(select array_agg(t.name order by t.id)
      from statuses_tags st join tags t on t.id = st.tag_id where st.status_id = ${outerStatus}.id)`,
    tagDisplayNames: sql<string[] | null>`(select array_agg(t.display_name order by t.id)
      from statuses_tags st join tags t on t.id = st.tag_id where st.status_id = ${outerStatus}.id)`,
    ...viewerColumns(viewer),
  };
}

// Raw SQL with the outer row named in full: Drizzle leaves columns unqualified in a one-table
// select, where they would resolve to the subquery's own table.
const outerStatus = sql.raw('"statuses"');

/**
 * What `viewer` did with the `statuses` row: the five flags as bits of VIEWER_FLAG, and the
 * choices in its poll. `viewer` is an id, a placeholder, an SQL expression, or null (anonymous).
 */
function viewerColumns(viewer: string | Placeholder | SQL | null) {
  const s = outerStatus;
  const bit = (flag: keyof typeof VIEWER_FLAG) => sql.raw(String(VIEWER_FLAG[flag]));
  return {
    // One column for the five flags: every column costs Drizzle some work on every row.
    viewerFlags: sql<number>`(
      (exists (select 1 from favourites f
        where f.account_id = ${viewer} and f.status_id = ${s}.id))::int * ${bit('favourited')}
      + (exists (select 1 from statuses r
        where r.account_id = ${viewer} and r.reblog_of_id = ${s}.id))::int * ${bit('reblogged')}
      + (exists (select 1 from bookmarks b
        where b.account_id = ${viewer} and b.status_id = ${s}.id))::int * ${bit('bookmarked')}
      + (exists (select 1 from status_pins p
        where p.account_id = ${viewer} and p.status_id = ${s}.id))::int * ${bit('pinned')}
      + (exists (select 1 from conversation_mutes cm
        where cm.account_id = ${viewer} and cm.conversation_id = ${s}.conversation_id))::int * ${bit('muted')}
    )`,
    ownVotes: sql<number[] | null>`(select array_agg(pv.choice order by pv.choice)
      from poll_votes pv where pv.account_id = ${viewer} and pv.poll_id = ${s}.poll_id)`,
  };
}

/** The viewer flags of a status from VIEWER_FLAG bits (a status outside any thread is never muted). */
function viewerFlagsOf(bits: number, status: StatusRecord): StatusViewerFlags {
  return {
    favourited: (bits & VIEWER_FLAG.favourited) !== 0,
    reblogged: (bits & VIEWER_FLAG.reblogged) !== 0,
    bookmarked: (bits & VIEWER_FLAG.bookmarked) !== 0,
    muted: status.conversationId !== null && (bits & VIEWER_FLAG.muted) !== 0,
    pinned: (bits & VIEWER_FLAG.pinned) !== 0,
  };
}

/** What each viewer did with each status, by `<viewer>/<status id>` (absent: nothing). */
export type ViewersFlags = Map<string, { flags: StatusViewerFlags; ownVotes: number[] }>;

/**
 * loadStatusViews' viewer flags and poll votes for many viewers at once, in one statement (the
 * streaming publisher renders one status for every home streaming it): the same SQL, decoded
 * the same way.
 */
export async function loadViewersFlags(
  ctx: Pick<Context, 'database'>,
  viewers: readonly string[],
  statusRows: readonly StatusRecord[],
): Promise<ViewersFlags> {
  const result: ViewersFlags = new Map();
  if (viewers.length === 0 || statusRows.length === 0) return result;
  const rows = await viewersFlagsStatement(ctx.database.db).execute({
    viewers: [...viewers],
    ids: statusRows.map((s) => s.id),
  });
  const byId = new Map(statusRows.map((s) => [s.id, s]));
  for (const row of rows) {
    const status = byId.get(row.statusId);
    if (status === undefined || (row.viewerFlags === 0 && row.ownVotes === null)) continue;
    result.set(`${row.viewer}/${row.statusId}`, {
      flags: viewerFlagsOf(row.viewerFlags, status),
      ownVotes: row.ownVotes ?? [],
    });
  }
  return result;
}

const NO_FLAGS = {
  flags: { favourited: false, reblogged: false, bookmarked: false, muted: false, pinned: false },
  ownVotes: [],
};

/**
 * An anonymous view (loadStatusView with no viewer) as `viewer` sees it, from loadViewersFlags:
 * their flags and poll votes on the status and on what it boosts.
 */
export function viewAsSeenBy(view: StatusView, viewer: string, flags: ViewersFlags): StatusView {
  const f = flags.get(`${viewer}/${view.status.id}`) ?? NO_FLAGS;
  return {
    ...view,
    viewerAccountId: viewer,
    viewer: { ...f.flags },
    poll: view.poll
      ? { poll: view.poll.poll, ownVotes: [...f.ownVotes], own: view.poll.poll.accountId === viewer }
      : null,
    reblog: view.reblog ? viewAsSeenBy(view.reblog, viewer, flags) : null,
  };
}

/** The joins statusViewColumns reads the author through. */
export const statusViewJoins = {
  account: eq(accounts.id, statuses.accountId),
  user: eq(users.accountId, accounts.id),
  stats: eq(accountStats.accountId, accounts.id),
};

/**
 * loadStatusViews for rows a caller already fetched with statusViewColumns: the statuses among
 * `statusIds` it found, and the originals of those that are reblogs (a timeline's query can check
 * visibility and fetch at once). Ids without a row are left out, as those that do not exist.
 */
export async function hydrateStatusViews(
  ctx: Context,
  viewerAccountId: string | null,
  statusIds: readonly string[],
  fetched: readonly FetchedStatus[],
): Promise<StatusView[]> {
  const wanted = [...new Set(statusIds)];
  if (wanted.length === 0 || fetched.length === 0) return [];
  const db = ctx.database.db;
  const rows = new Map<string, FetchedStatus>();
  for (const f of fetched) rows.set(f.status.id, f);
  const all = [...rows.values()].map((f) => f.status);

  const pollIds = all.flatMap((s) => (s.pollId !== null ? [s.pollId] : []));
  const mediaIds = all.flatMap((s) => s.orderedMediaAttachmentIds ?? []);
  const applicationIds = [
    ...new Set(all.flatMap((s) => (s.applicationId !== null ? [s.applicationId] : []))),
  ];
  // Authors came with their statuses; mentioned accounts are read when there are others.
  const authors = new Map<string, AccountRecord>();
  for (const f of rows.values()) if (f.account) authors.set(f.account.id, f.account);
  const mentioned = new Set<string>();
  for (const f of rows.values()) for (const id of f.mentionIds ?? []) if (!authors.has(id)) mentioned.add(id);

  const [roles, others, pollRows, applicationRows, media] = await Promise.all([
    allRoles(ctx),
    mentioned.size > 0 ? loadAccounts(ctx, [...mentioned]) : Promise.resolve(null),
    pollIds.length > 0 ? pollsByIds(db).execute({ ids: pollIds }) : Promise.resolve([]),
    applicationIds.length > 0 ? applicationsByIds(db).execute({ ids: applicationIds }) : Promise.resolve([]),
    mediaByIds(ctx, mediaIds),
  ]);
  const pollById = new Map(pollRows.map((p) => [p.id, p]));
  const applicationById = new Map(applicationRows.map((a) => [a.id, a]));
  const authorViews = new Map<string, AccountView | undefined>();
  const authorView = (f: FetchedStatus): AccountView | undefined => {
    if (f.account === null) return undefined;
    if (!authorViews.has(f.account.id))
      authorViews.set(
        f.account.id,
        accountViewOf({ account: f.account, user: f.user, stats: f.stats }, roles),
      );
    return authorViews.get(f.account.id);
  };
  const mentionRecord = (id: string) => authors.get(id) ?? others?.records.get(id);

  const build = (f: FetchedStatus): StatusView | undefined => {
    const s = f.status;
    const account = authorView(f);
    if (account === undefined) return undefined;
    let reblog: StatusView | null = null;
    if (s.reblogOfId !== null) {
      const original = rows.get(s.reblogOfId);
      const built = original ? build(original) : undefined;
      if (built === undefined) return undefined;
      reblog = built;
    }
    const pollRecord = s.pollId !== null ? pollById.get(s.pollId) : undefined;
    const application = s.applicationId !== null ? applicationById.get(s.applicationId) : undefined;
    const tagNames = f.tagNames ?? [];
    return {
      status: s,
      account,
      reblog,
      mentions: (f.mentionIds ?? []).flatMap((id) => {
        const record = mentionRecord(id);
        return record ? [record] : [];
      }),
      tags: tagNames.map((name, i) => ({ name, displayName: f.tagDisplayNames?.[i] ?? name })),
      poll: pollRecord
        ? {
            poll: pollRecord,
            ownVotes: viewerAccountId === null ? null : (f.ownVotes ?? []),
            own: viewerAccountId !== null && pollRecord.accountId === viewerAccountId,
          }
        : null,
      media: (s.orderedMediaAttachmentIds ?? []).flatMap((mediaId) => {
        const m = media.get(mediaId);
        return m ? [m] : [];
      }),
      application: application ? { name: application.name, website: application.website } : null,
      viewer: viewerAccountId === null ? null : viewerFlagsOf(f.viewerFlags, s),
      viewerAccountId,
    };
  };

  const views: StatusView[] = [];
  for (const id of wanted) {
    const row = rows.get(id);
    const view = row ? build(row) : undefined;
    if (view) views.push(view);
  }
  return views;
}

/** One status for a viewer, or undefined (visibility is the caller's, as for loadStatusViews). */
export async function loadStatusView(
  ctx: Context,
  viewerAccountId: string | null,
  statusId: string,
): Promise<StatusView | undefined> {
  const [view] = await loadStatusViews(ctx, viewerAccountId, [statusId]);
  return view;
}

/** The statements of a page, prepared once (see perDatabase): lists go as one array parameter. */
const idList = sql.placeholder('ids');

/** The statuses asked for and the originals of those that are reblogs, in one statement. */
const statusesWithOriginals = perDatabase((db) =>
  db
    .select(statusViewColumns(sql.placeholder('viewer')))
    .from(statuses)
    .leftJoin(accounts, statusViewJoins.account)
    .leftJoin(users, statusViewJoins.user)
    .leftJoin(accountStats, statusViewJoins.stats)
    .where(
      sql`${statuses.id} = any(${idList}::bigint[]) or ${statuses.id} in (select r.reblog_of_id from statuses r where r.id = any(${idList}::bigint[]))`,
    )
    .prepare('status_views_statuses'),
);

const pollsByIds = perDatabase((db) =>
  db.select().from(polls).where(sql`${polls.id} = any(${idList}::bigint[])`).prepare('status_views_polls'),
);

const applicationsByIds = perDatabase((db) =>
  db
    .select({ id: oauthApplications.id, name: oauthApplications.name, website: oauthApplications.website })
    .from(oauthApplications)
    .where(sql`${oauthApplications.id} = any(${idList}::bigint[])`)
    .prepare('status_views_applications'),
);

/** loadViewersFlags' statement: every (viewer, status) pair, the viewer's columns as for one viewer. */
const viewersFlagsStatement = perDatabase((db) =>
  db
    .select({
      viewer: sql<string>`v.id::text`,
      statusId: statuses.id,
      ...viewerColumns(sql`v.id`),
    })
    .from(statuses)
    .innerJoin(sql`unnest(${sql.placeholder('viewers')}::bigint[]) as v(id)`, sql`true`)
    .where(sql`${statuses.id} = any(${idList}::bigint[])`)
    .prepare('status_viewers_flags'),
);

/** Whether `viewer` reblogged `statusId` (its reblog row), for unreblog. */
export async function findReblog(
  ctx: Context,
  viewer: string,
  statusId: string,
): Promise<StatusRecord | undefined> {
  const [row] = await ctx.database.db
    .select()
    .from(statuses)
    .where(and(eq(statuses.accountId, viewer), eq(statuses.reblogOfId, statusId)))
    .limit(1);
  return row;
}

/** A status row by id (any visibility), or undefined; non-numeric ids name nothing. */
export async function findStatus(
  ctx: Pick<Context, 'database'>,
  id: string,
): Promise<StatusRecord | undefined> {
  if (!/^\d{1,19}$/.test(id) || BigInt(id) > 9223372036854775807n) return undefined;
  const [row] = await ctx.database.db.select().from(statuses).where(eq(statuses.id, id)).limit(1);
  return row;
}

/**
 * A status the viewer may see, or 404. A reblog id is followed to its original when `proper`
 * (favouriting or boosting a boost acts on what was boosted, as Mastodon's `status.reblog`).
 */
export async function visibleStatus(
  ctx: Context,
  viewerAccountId: string | null,
  id: string,
  options: { proper?: boolean } = {},
): Promise<StatusRecord> {
  let status = await findStatus(ctx, id);
  if (status === undefined || !(await canViewStatus(ctx, viewerAccountId, status))) throw notFound();
  if (options.proper && status.reblogOfId !== null) {
    status = await findStatus(ctx, status.reblogOfId);
    if (status === undefined) throw notFound();
  }
  return status;
}

/** One of the author's own statuses, not a boost (edit, delete), or 404. */
export async function ownStatus(ctx: Context, accountId: string, id: string): Promise<StatusRecord> {
  const status = await findStatus(ctx, id);
  if (status === undefined || status.accountId !== accountId || status.reblogOfId !== null) throw notFound();
  return status;
}

/**
 * The status an un-action (unfavourite, unbookmark, unreblog) applies to: the original when `id`
 * names a boost, whatever the viewer sees (they may undo what they did to a status since hidden).
 */
export async function properStatus(ctx: Context, id: string): Promise<StatusRecord> {
  const found = await findStatus(ctx, id);
  if (found === undefined) throw notFound();
  const status = found.reblogOfId ? await findStatus(ctx, found.reblogOfId) : found;
  if (status === undefined) throw notFound();
  return status;
}

/** Original (non-reblog) statuses only. */
export const originalOnly = isNull(statuses.reblogOfId);

/** Compares decimal id strings numerically (length first, as they have no leading zeros). */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
