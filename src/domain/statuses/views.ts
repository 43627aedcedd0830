import { and, eq, inArray, isNull } from 'drizzle-orm';
import {
  accounts,
  bookmarks,
  conversationMutes,
  favourites,
  mentions,
  oauthApplications,
  polls,
  pollVotes,
  statuses,
  statusPins,
  statusTags,
  tags,
} from '../../db/schema/index.ts';
import type { AccountRecord } from '../accounts/records.ts';
import { type AccountView, getAccounts } from '../accounts/views.ts';
import type { Context } from '../context.ts';

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
  application: { name: string; website: string | null } | null;
  viewer: StatusViewerFlags | null;
  /** The viewer's account id (null: anonymous), for the serializer's per-viewer fields. */
  viewerAccountId: string | null;
}

/**
 * Hydrates statuses for a viewer, in the order of `statusIds`, in a fixed number of queries per
 * batch. Statuses that do not exist, whose author the API does not show (unconfirmed, …) or that
 * are reblogs of a vanished original are left out. Visibility is the caller's: pass only ids the
 * viewer may see (src/domain/visibility).
 */
export async function loadStatusViews(
  ctx: Context,
  viewerAccountId: string | null,
  statusIds: readonly string[],
): Promise<StatusView[]> {
  const wanted = [...new Set(statusIds)];
  if (wanted.length === 0) return [];
  const db = ctx.database.db;
  const outer = await db.select().from(statuses).where(inArray(statuses.id, wanted));
  const originalIds = outer.flatMap((s) => (s.reblogOfId !== null ? [s.reblogOfId] : []));
  const originals =
    originalIds.length > 0 ? await db.select().from(statuses).where(inArray(statuses.id, originalIds)) : [];
  const rows = new Map<string, StatusRecord>();
  for (const s of [...outer, ...originals]) rows.set(s.id, s);
  const all = [...rows.values()];
  const ids = all.map((s) => s.id);

  const pollIds = all.flatMap((s) => (s.pollId !== null ? [s.pollId] : []));
  const applicationIds = [
    ...new Set(all.flatMap((s) => (s.applicationId !== null ? [s.applicationId] : []))),
  ];
  const conversationIds = [
    ...new Set(all.flatMap((s) => (s.conversationId !== null ? [s.conversationId] : []))),
  ];

  const [accountViews, mentionRows, tagRows, pollRows, applicationRows] = await Promise.all([
    getAccounts(ctx, [...new Set(all.map((s) => s.accountId))]),
    db
      .select({ statusId: mentions.statusId, mentionId: mentions.id, account: accounts })
      .from(mentions)
      .innerJoin(accounts, eq(accounts.id, mentions.accountId))
      .where(inArray(mentions.statusId, ids)),
    db
      .select({ statusId: statusTags.statusId, name: tags.name, displayName: tags.displayName })
      .from(statusTags)
      .innerJoin(tags, eq(tags.id, statusTags.tagId))
      .where(inArray(statusTags.statusId, ids)),
    pollIds.length > 0 ? db.select().from(polls).where(inArray(polls.id, pollIds)) : Promise.resolve([]),
    applicationIds.length > 0
      ? db
          .select({
            id: oauthApplications.id,
            name: oauthApplications.name,
            website: oauthApplications.website,
          })
          .from(oauthApplications)
          .where(inArray(oauthApplications.id, applicationIds))
      : Promise.resolve([]),
  ]);

  const flags =
    viewerAccountId === null ? null : await viewerFlags(ctx, viewerAccountId, ids, conversationIds, pollIds);

  const accountById = new Map(accountViews.map((v) => [v.account.id, v]));
  const mentionsBy = groupBy(
    mentionRows.sort((a, b) => compareIds(a.mentionId, b.mentionId)),
    (m) => m.statusId,
  );
  const tagsBy = groupBy(tagRows, (t) => t.statusId);
  const pollById = new Map(pollRows.map((p) => [p.id, p]));
  const applicationById = new Map(applicationRows.map((a) => [a.id, a]));

  const build = (s: StatusRecord): StatusView | undefined => {
    const account = accountById.get(s.accountId);
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
    return {
      status: s,
      account,
      reblog,
      mentions: (mentionsBy.get(s.id) ?? []).map((m) => m.account),
      tags: (tagsBy.get(s.id) ?? []).map((t) => ({ name: t.name, displayName: t.displayName })),
      poll: pollRecord
        ? {
            poll: pollRecord,
            ownVotes: flags ? (flags.votes.get(pollRecord.id) ?? []) : null,
            own: viewerAccountId !== null && pollRecord.accountId === viewerAccountId,
          }
        : null,
      application: application ? { name: application.name, website: application.website } : null,
      viewer: flags
        ? {
            favourited: flags.favourited.has(s.id),
            reblogged: flags.reblogged.has(s.id),
            bookmarked: flags.bookmarked.has(s.id),
            muted: s.conversationId !== null && flags.mutedConversations.has(s.conversationId),
            pinned: flags.pinned.has(s.id),
          }
        : null,
      viewerAccountId,
    };
  };

  const asked = new Set(outer.map((o) => o.id));
  const views: StatusView[] = [];
  for (const id of wanted) {
    const row = rows.get(id);
    const view = row && asked.has(id) ? build(row) : undefined;
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

async function viewerFlags(
  ctx: Context,
  viewer: string,
  ids: string[],
  conversationIds: string[],
  pollIds: string[],
) {
  const db = ctx.database.db;
  const [fav, reb, book, pin, muted, votes] = await Promise.all([
    db
      .select({ id: favourites.statusId })
      .from(favourites)
      .where(and(eq(favourites.accountId, viewer), inArray(favourites.statusId, ids))),
    db
      .select({ id: statuses.reblogOfId })
      .from(statuses)
      .where(and(eq(statuses.accountId, viewer), inArray(statuses.reblogOfId, ids))),
    db
      .select({ id: bookmarks.statusId })
      .from(bookmarks)
      .where(and(eq(bookmarks.accountId, viewer), inArray(bookmarks.statusId, ids))),
    db
      .select({ id: statusPins.statusId })
      .from(statusPins)
      .where(and(eq(statusPins.accountId, viewer), inArray(statusPins.statusId, ids))),
    conversationIds.length > 0
      ? db
          .select({ id: conversationMutes.conversationId })
          .from(conversationMutes)
          .where(
            and(
              eq(conversationMutes.accountId, viewer),
              inArray(conversationMutes.conversationId, conversationIds),
            ),
          )
      : Promise.resolve([]),
    pollIds.length > 0
      ? db
          .select({ pollId: pollVotes.pollId, choice: pollVotes.choice })
          .from(pollVotes)
          .where(and(eq(pollVotes.accountId, viewer), inArray(pollVotes.pollId, pollIds)))
      : Promise.resolve([]),
  ]);
  const voteMap = new Map<string, number[]>();
  for (const v of votes.sort((a, b) => a.choice - b.choice)) {
    const list = voteMap.get(v.pollId) ?? [];
    list.push(v.choice);
    voteMap.set(v.pollId, list);
  }
  return {
    favourited: new Set(fav.map((r) => r.id)),
    reblogged: new Set(reb.flatMap((r) => (r.id !== null ? [r.id] : []))),
    bookmarked: new Set(book.map((r) => r.id)),
    pinned: new Set(pin.map((r) => r.id)),
    mutedConversations: new Set(muted.map((r) => r.id)),
    votes: voteMap,
  };
}

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

/** Original (non-reblog) statuses only. */
export const originalOnly = isNull(statuses.reblogOfId);

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

/** Compares decimal id strings numerically (length first, as they have no leading zeros). */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
