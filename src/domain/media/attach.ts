import { and, eq, inArray, isNull, or } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { isId } from '../../db/ids.ts';
import { mediaAttachments } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { DomainError } from '../errors.ts';
import { STATUS_LIMITS } from '../limits.ts';
import type { MediaAttachmentRecord } from './records.ts';

/**
 * Attaching uploads to a status (PostStatusService / UpdateStatusService#validate_media!): at most
 * four, the author's own, not attached elsewhere, processed, and not a video or audio file beside
 * anything else. Mastodon's texts, so that clients show what they already know.
 */
export const TOO_MANY = `Cannot attach more than ${STATUS_LIMITS.maxMediaAttachments} files`;
export const NOT_READY = 'Cannot attach files that have not finished processing. Try again in a moment!';
export const IMAGES_AND_VIDEO = 'Cannot attach a video to a post that already contains images';
export const notFoundMessage = (ids: readonly string[]) =>
  `Media ${ids.join(', ')} not found or already attached to another post`;

/**
 * The attachments `ids` name, in that order, checked for a new status (or, with `statusId`, an edit
 * of that status, which may keep its own). Throws Mastodon's 422s; nothing is written.
 */
export async function mediaToAttach(
  ctx: Pick<Context, 'database'>,
  accountId: string,
  ids: readonly string[],
  options: { statusId?: string } = {},
): Promise<MediaAttachmentRecord[]> {
  if (ids.length === 0) return [];
  if (ids.length > STATUS_LIMITS.maxMediaAttachments) throw new DomainError('unprocessable', TOO_MANY);
  const wanted = [...new Set(ids)];
  const valid = wanted.filter(isId);
  const rows =
    valid.length === 0
      ? []
      : await ctx.database.db
          .select()
          .from(mediaAttachments)
          .where(
            and(
              eq(mediaAttachments.accountId, accountId),
              inArray(mediaAttachments.id, valid),
              options.statusId === undefined
                ? isNull(mediaAttachments.statusId)
                : and(
                    or(isNull(mediaAttachments.statusId), eq(mediaAttachments.statusId, options.statusId)),
                    isNull(mediaAttachments.scheduledStatusId),
                  ),
            ),
          );
  const byId = new Map(rows.map((r) => [r.id, r]));
  const missing = wanted.filter((id) => !byId.has(id));
  if (missing.length > 0) throw new DomainError('unprocessable', notFoundMessage(missing));
  const ordered = wanted.map((id) => byId.get(id) as MediaAttachmentRecord);
  if (ordered.length > 1 && ordered.some((m) => m.type === 'video' || m.type === 'audio'))
    throw new DomainError('unprocessable', IMAGES_AND_VIDEO);
  if (ordered.some((m) => m.processing !== 'complete')) throw new DomainError('unprocessable', NOT_READY);
  return ordered;
}

/**
 * Points the attachments at their status, inside the status's transaction. Only attachments still
 * free (or already this status's) move; if another post took one meanwhile, the whole post fails.
 */
export async function attachMedia(
  tx: Db,
  statusId: string,
  accountId: string,
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0) return;
  const moved = await tx
    .update(mediaAttachments)
    .set({ statusId, updatedAt: new Date() })
    .where(
      and(
        eq(mediaAttachments.accountId, accountId),
        inArray(mediaAttachments.id, [...ids]),
        or(isNull(mediaAttachments.statusId), eq(mediaAttachments.statusId, statusId)),
      ),
    )
    .returning({ id: mediaAttachments.id });
  if (moved.length !== new Set(ids).size) {
    const got = new Set(moved.map((m) => m.id));
    throw new DomainError('unprocessable', notFoundMessage(ids.filter((id) => !got.has(id))));
  }
}

/** Attachments by id (a page of statuses names them in `ordered_media_attachment_ids`). */
export async function mediaByIds(
  ctx: Pick<Context, 'database'>,
  ids: readonly string[],
): Promise<Map<string, MediaAttachmentRecord>> {
  if (ids.length === 0) return new Map();
  const rows = await ctx.database.db
    .select()
    .from(mediaAttachments)
    .where(inArray(mediaAttachments.id, [...new Set(ids)]));
  return new Map(rows.map((r) => [r.id, r]));
}

/** Every attachment pointing at a status, including those an edit took off it. */
export async function mediaOfStatus(
  ctx: Pick<Context, 'database'>,
  statusId: string,
): Promise<MediaAttachmentRecord[]> {
  return ctx.database.db.select().from(mediaAttachments).where(eq(mediaAttachments.statusId, statusId));
}

/** Marks uploads as waiting for a scheduled status (checked already by mediaToAttach). */
export async function reserveMediaForScheduled(
  tx: Db,
  scheduledStatusId: string,
  accountId: string,
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .update(mediaAttachments)
    .set({ scheduledStatusId, updatedAt: new Date() })
    .where(
      and(
        eq(mediaAttachments.accountId, accountId),
        inArray(mediaAttachments.id, [...ids]),
        isNull(mediaAttachments.statusId),
      ),
    );
}

/** The attachments of scheduled statuses, by scheduled status, oldest first. */
export async function mediaOfScheduledStatuses(
  ctx: Pick<Context, 'database'>,
  scheduledStatusIds: readonly string[],
): Promise<Map<string, MediaAttachmentRecord[]>> {
  const byScheduled = new Map<string, MediaAttachmentRecord[]>();
  if (scheduledStatusIds.length === 0) return byScheduled;
  const rows = await ctx.database.db
    .select()
    .from(mediaAttachments)
    .where(inArray(mediaAttachments.scheduledStatusId, [...scheduledStatusIds]))
    .orderBy(mediaAttachments.id);
  for (const row of rows) {
    const key = row.scheduledStatusId as string;
    byScheduled.set(key, [...(byScheduled.get(key) ?? []), row]);
  }
  return byScheduled;
}
