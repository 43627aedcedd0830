import { eq } from 'drizzle-orm';
import { newId } from '../../db/ids.ts';
import { polls, statusEdits, statuses } from '../../db/schema/index.ts';
import { assertActionAllowed, recordAction } from '../action-limits.ts';
import type { Context } from '../context.ts';
import { isIso6391 } from '../instance/languages.ts';
import { attachMedia, mediaByIds, mediaToAttach } from '../media/attach.ts';
import { applyMediaAttributes, type MediaParams } from '../media/attachments.ts';
import type { MediaAttachmentRecord } from '../media/records.ts';
import { notify } from '../notifications/notify.ts';
import { Validator } from '../validation.ts';
import { type Author, resolveMentions, validateText } from './compose.ts';
import { insertPoll, newPoll, type PollParams, schedulePollEnd, validatePoll } from './polls.ts';
import { distributeStatusUpdate, writeMentions, writeTags } from './store.ts';
import { hashtagsOf, renderStatusHtml } from './text.ts';
import { ownStatus, type StatusRecord, visibleStatus } from './views.ts';

export interface EditParams {
  text?: string;
  spoilerText?: string;
  sensitive?: boolean;
  language?: string | null;
  /** Absent: the attachments stay; given (even empty): the status shows these, in this order. */
  mediaIds?: string[];
  /** Descriptions, focus points and thumbnails of the attachments kept or added. */
  mediaAttributes?: ({ id: string } & MediaParams)[];
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
  const previousIds = status.orderedMediaAttachmentIds ?? [];
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
  const withMedia = params.mediaIds !== undefined ? params.mediaIds.length > 0 : previousIds.length > 0;
  validateText(v, text, spoilerText, { withMedia });
  if (params.poll) validatePoll(v, params.poll);
  v.check();

  // UpdateStatusService#update_media_attachments!: the next set, then their attributes.
  const previousMedia = await mediaByIds(ctx, previousIds);
  const nextMedia =
    params.mediaIds !== undefined
      ? await mediaToAttach(ctx, author.account.id, params.mediaIds, { statusId: status.id })
      : undefined;
  const nextIds = nextMedia?.map((m) => m.id) ?? previousIds;
  let mediaChanged = nextIds.join(',') !== previousIds.join(',');
  for (const attributes of nextMedia === undefined ? [] : (params.mediaAttributes ?? [])) {
    const media = nextMedia?.find((m) => m.id === attributes.id);
    if (media === undefined) continue;
    const after = await applyMediaAttributes(ctx, media, attributes);
    mediaChanged ||=
      after.description !== media.description ||
      after.thumbnailKey !== media.thumbnailKey ||
      JSON.stringify(after.fileMeta) !== JSON.stringify(media.fileMeta);
  }

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
    pollChanged ||
    mediaChanged;
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
      orderedMediaAttachmentIds: previousIds.length > 0 ? previousIds : null,
      mediaDescriptions:
        previousIds.length > 0 ? previousIds.map((i) => previousMedia.get(i)?.description ?? '') : null,
      createdAt: status.editedAt ?? status.createdAt,
    });
    await attachMedia(tx, status.id, author.account.id, nextIds);
    let pollId = status.pollId;
    if (pollChanged) {
      if (oldPoll) await tx.delete(polls).where(eq(polls.id, oldPoll.id));
      // A changed poll starts over: its votes were cast for other options (Mastodon resets them).
      pollId = params.poll
        ? await insertPoll(tx, author.account.id, status.id, newPoll(params.poll, now), now)
        : null;
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
        orderedMediaAttachmentIds: nextIds.length > 0 ? nextIds : null,
        editedAt: now,
        updatedAt: now,
      })
      .where(eq(statuses.id, status.id))
      .returning();
    await writeMentions(
      tx,
      status.id,
      mentioned.map((a) => a.id),
    );
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
  const currentIds = status.orderedMediaAttachmentIds ?? [];
  const media = await mediaByIds(ctx, [
    ...edits.flatMap((e) => e.orderedMediaAttachmentIds ?? []),
    ...currentIds,
  ]);
  // Each version shows its attachments with the descriptions they had then.
  const mediaOf = (ids: string[], descriptions: (string | null)[] | null): MediaAttachmentRecord[] =>
    ids.flatMap((mediaId, i) => {
      const m = media.get(mediaId);
      if (m === undefined) return [];
      return [descriptions ? { ...m, description: descriptions[i] || null } : m];
    });
  const versions = edits.map((e) => ({
    content: e.content,
    spoilerText: e.spoilerText,
    sensitive: e.sensitive,
    createdAt: e.createdAt,
    pollOptions: e.pollOptions,
    media: mediaOf(e.orderedMediaAttachmentIds ?? [], e.mediaDescriptions),
  }));
  versions.push({
    content: status.content,
    spoilerText: status.spoilerText,
    sensitive: status.sensitive,
    createdAt: status.editedAt ?? status.createdAt,
    pollOptions: currentPoll ? currentPoll.options : null,
    media: mediaOf(currentIds, null),
  });
  return { status, versions };
}
