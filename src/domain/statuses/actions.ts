import { and, count, eq, sql } from 'drizzle-orm';
import { newId } from '../../db/ids.ts';
import {
  bookmarks,
  conversationMutes,
  favourites,
  polls,
  statusEdits,
  statuses,
  statusPins,
} from '../../db/schema/index.ts';
import { userPreferences } from '../accounts/profile.ts';
import { assertActionAllowed, recordAction } from '../action-limits.ts';
import type { Context } from '../context.ts';
import { isIso6391 } from '../instance/languages.ts';
import { notify, removeNotifications, removeStatusNotifications } from '../notifications/notify.ts';
import {
  deletedStatusFacts,
  distributeStatus,
  distributeStatusUpdate,
  removeStatusFromFeeds,
} from '../timelines/distribution.ts';
import { localReblogUri } from '../uris.ts';
import { Validator } from '../validation.ts';
import { canFavourite, canReblog, canViewStatus, isStatusVisibility } from '../visibility/visibility.ts';
import {
  type Author,
  bumpCounters,
  insertPoll,
  type PollParams,
  resolveMentions,
  schedulePollEnd,
  validatePoll,
  writeMentions,
  writeTags,
} from './create.ts';
import { notAllowed, notFound, StatusError } from './errors.ts';
import { countableLength, hashtagsOf, MAX_STATUS_CHARS, renderStatusHtml } from './text.ts';
import { findReblog, findStatus, type StatusRecord } from './views.ts';

export const MAX_PINNED_STATUSES = 5;

/** A record-level refusal, worded as Rails' RecordInvalid for a base error. */
const invalid = (message: string) => new StatusError('unprocessable', `Validation failed: ${message}`);

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

/** One of the author's own statuses (edit, delete), or 404. */
async function ownStatus(ctx: Context, accountId: string, id: string): Promise<StatusRecord> {
  const status = await findStatus(ctx, id);
  if (status === undefined || status.accountId !== accountId || status.reblogOfId !== null) throw notFound();
  return status;
}

export async function favourite(ctx: Context, accountId: string, id: string): Promise<StatusRecord> {
  const status = await visibleStatus(ctx, accountId, id, { proper: true });
  if (!(await canFavourite(ctx, accountId, status))) throw notAllowed();
  const inserted = await ctx.database.transaction(async (tx) => {
    const rows = await tx
      .insert(favourites)
      .values({ id: newId(), accountId, statusId: status.id })
      .onConflictDoNothing()
      .returning({ id: favourites.id });
    if (rows.length > 0) {
      await tx
        .update(statuses)
        .set({ favouritesCount: sql`${statuses.favouritesCount} + 1` })
        .where(eq(statuses.id, status.id));
    }
    return rows.length > 0;
  });
  if (inserted)
    await notify(ctx, {
      type: 'favourite',
      recipientAccountId: status.accountId,
      fromAccountId: accountId,
      statusId: status.id,
    });
  return status;
}

/** Unfavourite answers for any status the viewer favourited, even one no longer visible. */
export async function unfavourite(ctx: Context, accountId: string, id: string): Promise<StatusRecord> {
  const found = await findStatus(ctx, id);
  if (found === undefined) throw notFound();
  const status = found.reblogOfId ? await findStatus(ctx, found.reblogOfId) : found;
  if (status === undefined) throw notFound();
  const removed = await ctx.database.transaction(async (tx) => {
    const rows = await tx
      .delete(favourites)
      .where(and(eq(favourites.accountId, accountId), eq(favourites.statusId, status.id)))
      .returning({ id: favourites.id });
    if (rows.length > 0) {
      await tx
        .update(statuses)
        .set({ favouritesCount: sql`greatest(${statuses.favouritesCount} - 1, 0)` })
        .where(eq(statuses.id, status.id));
    }
    return rows.length > 0;
  });
  if (removed)
    await removeNotifications(ctx, { type: 'favourite', fromAccountId: accountId, statusId: status.id });
  else if (!(await canViewStatus(ctx, accountId, status))) throw notFound();
  return status;
}

/**
 * Boosts a status (Mastodon's ReblogService): the reblog is a status row of its own with the
 * chosen visibility (public, unlisted or private; default the user's, never more open than
 * public). Boosting twice returns the existing boost.
 */
export async function reblog(
  ctx: Context,
  author: Author,
  id: string,
  visibility: string | null,
): Promise<StatusRecord> {
  const original = await visibleStatus(ctx, author.account.id, id, { proper: true });
  if (!(await canReblog(ctx, author.account.id, original))) throw notAllowed();
  const existing = await findReblog(ctx, author.account.id, original.id);
  if (existing) return existing;
  const chosen = reblogVisibility(author, original, visibility);
  await assertActionAllowed(ctx, author.account.id, 'statuses');
  const now = new Date();
  const reblogId = newId(now);
  const row = await ctx.database.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(statuses)
      .values({
        id: reblogId,
        accountId: author.account.id,
        uri: localReblogUri(ctx.config, author.account.username, reblogId),
        url: null,
        visibility: chosen,
        reblogOfId: original.id,
        local: true,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await bumpCounters(tx, inserted!, 1);
    return inserted!;
  });
  await recordAction(ctx, author.account.id, 'statuses');
  await distributeStatus(ctx, row.id);
  await notify(ctx, {
    type: 'reblog',
    recipientAccountId: original.accountId,
    fromAccountId: author.account.id,
    statusId: original.id,
  });
  return row;
}

/**
 * Mastodon: boosting a private status (one's own) keeps it private; otherwise the requested
 * visibility, else the user's default. A boost cannot be direct.
 */
function reblogVisibility(author: Author, original: StatusRecord, requested: string | null): string {
  if (original.visibility === 'private' || original.visibility === 'direct') return original.visibility;
  if (requested !== null && requested !== '') {
    const v = new Validator();
    if (!isStatusVisibility(requested)) v.add('visibility', 'Visibility', 'ERR_INCLUSION');
    else if (requested === 'direct') v.add('visibility', 'Visibility', 'ERR_RESERVED');
    v.check();
    return requested;
  }
  const fallback = userPreferences(author.user, author.account).defaultPrivacy;
  return fallback === 'direct' || !isStatusVisibility(fallback) ? 'public' : fallback;
}

/** Removes the viewer's boost; answers with the original (Mastodon's unreblog). */
export async function unreblog(ctx: Context, accountId: string, id: string): Promise<StatusRecord> {
  const found = await findStatus(ctx, id);
  if (found === undefined) throw notFound();
  const original = found.reblogOfId ? await findStatus(ctx, found.reblogOfId) : found;
  if (original === undefined) throw notFound();
  const existing = await findReblog(ctx, accountId, original.id);
  if (existing === undefined) {
    if (!(await canViewStatus(ctx, accountId, original))) throw notFound();
    return original;
  }
  await deleteStatusRow(ctx, existing);
  return (await findStatus(ctx, original.id)) ?? original;
}

/** Deletes a status row, its counters, its feed entries, and its boosts. */
async function deleteStatusRow(ctx: Context, status: StatusRecord): Promise<void> {
  const boosts = await ctx.database.db.select().from(statuses).where(eq(statuses.reblogOfId, status.id));
  for (const boost of boosts) await deleteStatusRow(ctx, boost);
  // Read before the row goes (its tags go with it); the `delete` event follows the deletion.
  const gone = await deletedStatusFacts(ctx, status.id);
  const homes = await removeStatusFromFeeds(ctx, { id: status.id, accountId: status.accountId });
  await ctx.database.transaction(async (tx) => {
    const [deleted] = await tx
      .delete(statuses)
      .where(eq(statuses.id, status.id))
      .returning({ id: statuses.id });
    if (deleted === undefined) return;
    if (status.pollId !== null) await tx.delete(polls).where(eq(polls.id, status.pollId));
    await bumpCounters(tx, status, -1);
  });
  if (gone !== undefined) await ctx.streams.statusDeleted(gone, homes);
  // Notifications about it go too; a boost's own notification points at the original.
  await removeStatusNotifications(ctx, [status.id]);
  if (status.reblogOfId !== null) {
    await removeNotifications(ctx, {
      type: 'reblog',
      fromAccountId: status.accountId,
      statusId: status.reblogOfId,
    });
  }
}

/** Deletes one's own status (with its boosts by others); returns the row as it was, for redrafting. */
export async function deleteStatus(ctx: Context, accountId: string, id: string): Promise<StatusRecord> {
  const status = await ownStatus(ctx, accountId, id);
  await deleteStatusRow(ctx, status);
  return status;
}

export async function bookmark(ctx: Context, accountId: string, id: string): Promise<StatusRecord> {
  const status = await visibleStatus(ctx, accountId, id, { proper: true });
  await ctx.database.db
    .insert(bookmarks)
    .values({ id: newId(), accountId, statusId: status.id })
    .onConflictDoNothing();
  return status;
}

export async function unbookmark(ctx: Context, accountId: string, id: string): Promise<StatusRecord> {
  const found = await findStatus(ctx, id);
  if (found === undefined) throw notFound();
  const status = found.reblogOfId ? await findStatus(ctx, found.reblogOfId) : found;
  if (status === undefined) throw notFound();
  const rows = await ctx.database.db
    .delete(bookmarks)
    .where(and(eq(bookmarks.accountId, accountId), eq(bookmarks.statusId, status.id)))
    .returning({ id: bookmarks.id });
  if (rows.length === 0 && !(await canViewStatus(ctx, accountId, status))) throw notFound();
  return status;
}

/** Pins one's own status to the profile: not a boost, not direct, at most five (Mastodon's errors). */
export async function pin(ctx: Context, accountId: string, id: string): Promise<StatusRecord> {
  const status = await visibleStatus(ctx, accountId, id);
  if (status.accountId !== accountId || status.reblogOfId !== null)
    throw invalid("Someone else's post cannot be pinned");
  if (status.visibility === 'direct')
    throw invalid('Posts that are only visible to mentioned users cannot be pinned');
  await ctx.database.transaction(async (tx) => {
    const [pinned] = await tx
      .select({ n: count() })
      .from(statusPins)
      .where(eq(statusPins.accountId, accountId));
    const already = await tx
      .select({ id: statusPins.id })
      .from(statusPins)
      .where(and(eq(statusPins.accountId, accountId), eq(statusPins.statusId, status.id)));
    if (already.length > 0) return;
    if ((pinned?.n ?? 0) >= MAX_PINNED_STATUSES) {
      throw invalid('You have already pinned the maximum number of posts');
    }
    await tx.insert(statusPins).values({ id: newId(), accountId, statusId: status.id });
  });
  return status;
}

export async function unpin(ctx: Context, accountId: string, id: string): Promise<StatusRecord> {
  const status = await visibleStatus(ctx, accountId, id);
  await ctx.database.db
    .delete(statusPins)
    .where(and(eq(statusPins.accountId, accountId), eq(statusPins.statusId, status.id)));
  return status;
}

/** Mutes the thread a status belongs to (its conversation): no more notifications from it. */
export async function muteConversation(
  ctx: Context,
  accountId: string,
  id: string,
  mute: boolean,
): Promise<StatusRecord> {
  const status = await visibleStatus(ctx, accountId, id, { proper: true });
  const conversationId = status.conversationId ?? status.id;
  if (mute) {
    await ctx.database.db
      .insert(conversationMutes)
      .values({ accountId, conversationId })
      .onConflictDoNothing();
  } else {
    await ctx.database.db
      .delete(conversationMutes)
      .where(
        and(eq(conversationMutes.accountId, accountId), eq(conversationMutes.conversationId, conversationId)),
      );
  }
  return status;
}

export interface EditParams {
  text?: string;
  spoilerText?: string;
  sensitive?: boolean;
  language?: string | null;
  mediaIds?: string[];
  /** Absent: keep; null: remove the poll; else replace it. */
  poll?: PollParams | null;
}

/**
 * Edits one's own status (Mastodon's UpdateStatusService): the previous version is kept in
 * status_edits, `edited_at` is set, hashtags and mentions follow the new text, accounts that
 * boosted it are notified. A submission that changes nothing leaves the status as it was.
 */
export async function editStatus(
  ctx: Context,
  author: Author,
  id: string,
  params: EditParams,
): Promise<StatusRecord> {
  const status = await ownStatus(ctx, author.account.id, id);
  if (params.mediaIds && params.mediaIds.length > 0) {
    throw new StatusError(
      'unprocessable',
      `Media ${params.mediaIds.join(', ')} not found or already attached to another post`,
    );
  }
  let text = params.text !== undefined ? params.text.trim() : status.text;
  let spoilerText = params.spoilerText !== undefined ? params.spoilerText.trim() : status.spoilerText;
  if (params.text !== undefined && text === '' && spoilerText !== '') {
    text = spoilerText;
    spoilerText = '';
  }
  const sensitive =
    params.sensitive !== undefined || params.spoilerText !== undefined
      ? (params.sensitive ?? false) || (params.spoilerText ?? '').trim() !== ''
      : status.sensitive;
  const language =
    params.language && isIso6391(params.language.toLowerCase())
      ? params.language.toLowerCase()
      : status.language;
  const v = new Validator();
  if (text === '') v.add('text', 'Text', 'ERR_BLANK');
  else if (countableLength(text, spoilerText) > MAX_STATUS_CHARS)
    v.add('text', 'Text', 'ERR_TOO_LONG', `character limit of ${MAX_STATUS_CHARS} exceeded`);
  if (params.poll) validatePoll(v, params.poll);
  v.check();

  const [oldPoll] = status.pollId
    ? await ctx.database.db.select().from(polls).where(eq(polls.id, status.pollId))
    : [];
  const pollChanged =
    params.poll !== undefined &&
    (params.poll === null
      ? oldPoll !== undefined
      : oldPoll === undefined ||
        JSON.stringify(oldPoll.options) !== JSON.stringify(params.poll.options) ||
        oldPoll.multiple !== params.poll.multiple ||
        oldPoll.hideTotals !== params.poll.hideTotals ||
        params.poll.expiresIn !== null);
  const changed =
    text !== status.text ||
    spoilerText !== status.spoilerText ||
    sensitive !== status.sensitive ||
    language !== status.language ||
    pollChanged;
  if (!changed) return status;
  await assertActionAllowed(ctx, author.account.id, 'statuses');

  const mentioned = await resolveMentions(ctx, text);
  const now = new Date();
  const updated = await ctx.database.transaction(async (tx) => {
    await tx.insert(statusEdits).values({
      id: newId(now),
      statusId: status.id,
      accountId: author.account.id,
      text: status.text,
      content: status.content,
      spoilerText: status.spoilerText,
      sensitive: status.sensitive,
      pollOptions: oldPoll ? oldPoll.options : null,
      createdAt: status.editedAt ?? status.createdAt,
    });
    let pollId = status.pollId;
    if (pollChanged) {
      if (oldPoll) await tx.delete(polls).where(eq(polls.id, oldPoll.id));
      // A changed poll starts over: its votes were cast for other options (Mastodon resets them).
      pollId = params.poll ? await insertPoll(tx, author.account.id, status.id, params.poll, now) : null;
    }
    const [row] = await tx
      .update(statuses)
      .set({
        text,
        spoilerText,
        sensitive,
        language,
        content: renderStatusHtml(text, ctx.config, mentioned),
        pollId,
        editedAt: now,
        updatedAt: now,
      })
      .where(eq(statuses.id, status.id))
      .returning();
    await writeMentions(tx, status.id, mentioned, []);
    await writeTags(tx, status.id, hashtagsOf(text));
    return row!;
  });
  await recordAction(ctx, author.account.id, 'statuses');
  if (pollChanged && updated.pollId) await schedulePollEnd(ctx, updated.pollId);
  // Mastodon's UpdateStatusService re-runs the fan-out as an update: `status.update` to streams.
  await distributeStatusUpdate(ctx, status.id);
  const boosters = await ctx.database.db
    .selectDistinct({ accountId: statuses.accountId })
    .from(statuses)
    .where(eq(statuses.reblogOfId, status.id));
  for (const b of boosters) {
    await notify(ctx, {
      type: 'update',
      recipientAccountId: b.accountId,
      fromAccountId: author.account.id,
      statusId: status.id,
    });
  }
  return updated;
}

export type StatusEditRecord = typeof statusEdits.$inferSelect;

/** Every version of a status, oldest first, the current one last. */
export async function statusHistory(ctx: Context, viewerAccountId: string | null, id: string) {
  const status = await visibleStatus(ctx, viewerAccountId, id);
  const edits = await ctx.database.db
    .select()
    .from(statusEdits)
    .where(eq(statusEdits.statusId, status.id))
    .orderBy(statusEdits.createdAt, statusEdits.id);
  const [currentPoll] = status.pollId
    ? await ctx.database.db.select().from(polls).where(eq(polls.id, status.pollId))
    : [];
  const versions = edits.map((e) => ({
    content: e.content,
    spoilerText: e.spoilerText,
    sensitive: e.sensitive,
    createdAt: e.createdAt,
    pollOptions: e.pollOptions,
  }));
  versions.push({
    content: status.content,
    spoilerText: status.spoilerText,
    sensitive: status.sensitive,
    createdAt: status.editedAt ?? status.createdAt,
    pollOptions: currentPoll ? currentPoll.options : null,
  });
  return { status, versions };
}
