import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { and, eq, isNull } from 'drizzle-orm';
import { newId } from '../../db/ids.ts';
import { mediaAttachments } from '../../db/schema/index.ts';
import { type Identified, MediaProcessingError, type ProcessedFile } from '../../infra/media/index.ts';
import type { Context } from '../context.ts';
import { DomainError, notFound } from '../errors.ts';
import { enqueueJob, JOBS } from '../jobs.ts';
import { MEDIA_LIMITS } from '../limits.ts';
import { invalidField, tooLong, Validator } from '../validation.ts';
import { type MediaCollection, type MediaStyle, mediaKey } from './keys.ts';
import { type MediaContext, mediaProcessor } from './processor.ts';
import type { MediaAttachmentRecord } from './records.ts';
import type { MediaMeta, MediaType } from './types.ts';
import type { UploadedFile } from './upload.ts';

/**
 * A user's uploads (Mastodon's Api::V1/V2::MediaController and MediaAttachment): created
 * unattached, described and focused while unattached, attached once to a status (statuses/…), and
 * deleted while still unattached. Images are processed on the request; video, audio and GIFs are
 * stored as uploaded and processed by a `default` job when the client can wait (v2's 202).
 */

/** Mastodon's texts for these refusals (Api::V1::MediaController). */
export const FILE_TYPE_ERROR = 'File type of uploaded media could not be verified';
export const PROCESSING_ERROR = 'Error processing thumbnail for uploaded media';
export const IN_USE_ERROR = 'Media attachment is currently used by a status';

export interface MediaParams {
  file?: UploadedFile | undefined;
  thumbnail?: UploadedFile | undefined;
  /** Undefined: unchanged (updates). Blank: no description. */
  description?: string | null | undefined;
  /** `"x,y"`, each −1..1; undefined: unchanged. */
  focus?: string | null | undefined;
}

const STORED_CACHE_CONTROL = 'public, max-age=31536000, immutable';
const MB = 1024 * 1024;

/** Creates an upload. `delay`: the client accepts a 202 (v2), so slow formats go to a job. */
export async function createMediaAttachment(
  ctx: Context,
  accountId: string,
  params: MediaParams,
  options: { delay: boolean },
): Promise<MediaAttachmentRecord> {
  const v = new Validator();
  if (params.file === undefined) v.add('file', 'File', 'ERR_BLANK');
  const description = checkDescription(v, params.description);
  const focus = checkFocus(v, params.focus);
  v.check();
  const file = params.file as UploadedFile;

  // What the bytes are; video and audio without ffmpeg are refused there, with the reason.
  const processor = await mediaProcessor(ctx);
  const identified = await identify(processor, file.path);
  checkSize(file.size, identified);
  // A GIF becomes a looping video when ffmpeg can make one (a still one turns out an image).
  const type = typeOf(identified, processor.videoSupported);
  const larger = type !== 'image';
  if (params.thumbnail !== undefined && type !== 'video' && type !== 'audio')
    throw invalidField('thumbnail', 'Thumbnail', 'must be blank: only videos and audio take a thumbnail');

  const id = newId();
  const base: typeof mediaAttachments.$inferInsert = {
    id,
    accountId,
    type,
    description,
    shortcode: randomBytes(14).toString('base64url'),
    fileMeta: focus ? { focus } : {},
  };
  const thumbnail = params.thumbnail ? await storeThumbnail(ctx, id, params.thumbnail) : null;
  if (options.delay && larger) {
    // Kept as uploaded until the job replaces it with the processed file.
    const key = mediaKey('media_attachments/files', id, 'original', extensionOf(identified.mimetype));
    await ctx.storage.put(key, createReadStream(file.path), { contentType: identified.mimetype });
    const [row] = await ctx.database.db
      .insert(mediaAttachments)
      .values({
        ...base,
        ...thumbnail,
        processing: 'queued',
        fileKey: key,
        fileContentType: identified.mimetype,
        fileSize: file.size,
        fileUpdatedAt: new Date(),
      })
      .returning();
    await enqueueJob(ctx, JOBS.processMedia, { mediaAttachmentId: id });
    return row as MediaAttachmentRecord;
  }
  const processed = await processAndStore(ctx, id, 'media_attachments/files', file.path, identified, {
    remote: false,
  });
  const [row] = await ctx.database.db
    .insert(mediaAttachments)
    .values({
      ...base,
      ...processed,
      ...thumbnail,
      fileMeta: { ...processed.fileMeta, ...(focus ? { focus } : {}) },
      blurhash: thumbnail?.blurhash ?? processed.blurhash,
    })
    .returning();
  return row as MediaAttachmentRecord;
}

/**
 * The job behind a 202: processes the stored upload and replaces it with the result. A file that
 * cannot be processed marks the attachment failed with the reason; the job itself succeeds.
 */
export async function processQueuedMedia(ctx: Context, id: string): Promise<void> {
  const [row] = await ctx.database.db.select().from(mediaAttachments).where(eq(mediaAttachments.id, id));
  if (row === undefined || row.fileKey === null) return;
  if (row.processing !== 'queued' && row.processing !== 'in_progress') return;
  await ctx.database.db
    .update(mediaAttachments)
    .set({ processing: 'in_progress', updatedAt: new Date() })
    .where(eq(mediaAttachments.id, id));
  const rawKey = row.fileKey;
  try {
    const processed = await withStoredFile(ctx, rawKey, async (path) => {
      const processor = await mediaProcessor(ctx);
      const identified = await identify(processor, path);
      return processAndStore(ctx, id, 'media_attachments/files', path, identified, {
        remote: row.remoteUrl !== '',
      });
    });
    const focus = (row.fileMeta as MediaMeta).focus;
    await ctx.database.db
      .update(mediaAttachments)
      .set({
        ...processed,
        fileMeta: { ...processed.fileMeta, ...(focus ? { focus } : {}) },
        blurhash: row.thumbnailKey !== null ? row.blurhash : processed.blurhash,
        updatedAt: new Date(),
      })
      .where(eq(mediaAttachments.id, id));
    if (processed.fileKey !== rawKey) await ctx.storage.delete([rawKey]);
  } catch (error) {
    const reason =
      error instanceof MediaProcessingError || error instanceof DomainError
        ? error.message
        : 'processing failed';
    if (!(error instanceof MediaProcessingError))
      ctx.log.error({ err: error, mediaAttachmentId: id }, 'media processing failed');
    await ctx.database.db
      .update(mediaAttachments)
      .set({ processing: 'failed', processingError: reason, updatedAt: new Date() })
      .where(eq(mediaAttachments.id, id));
  }
}

/** The viewer's own unattached upload (GET and PUT /api/v1/media/:id), or 404. */
export async function ownUnattachedMedia(
  ctx: Context,
  accountId: string,
  id: string,
): Promise<MediaAttachmentRecord> {
  const [row] = await ctx.database.db
    .select()
    .from(mediaAttachments)
    .where(
      and(
        eq(mediaAttachments.id, id),
        eq(mediaAttachments.accountId, accountId),
        isNull(mediaAttachments.statusId),
      ),
    );
  if (row === undefined) throw notFound();
  if (row.processing === 'failed') throw new DomainError('unprocessable', PROCESSING_ERROR);
  return row;
}

/** Changes an unattached upload's description, focus or thumbnail. */
export async function updateMediaAttachment(
  ctx: Context,
  accountId: string,
  id: string,
  params: MediaParams,
): Promise<MediaAttachmentRecord> {
  const row = await ownUnattachedMedia(ctx, accountId, id);
  return applyMediaAttributes(ctx, row, params);
}

/**
 * Description, focus and thumbnail of one attachment, validated together; the upload's own edit
 * and a status edit's `media_attributes[]` both come here.
 */
export async function applyMediaAttributes(
  ctx: Context,
  row: MediaAttachmentRecord,
  params: MediaParams,
): Promise<MediaAttachmentRecord> {
  const v = new Validator();
  const description = checkDescription(v, params.description);
  const focus = checkFocus(v, params.focus);
  v.check();
  if (params.thumbnail !== undefined && row.type !== 'video' && row.type !== 'audio')
    throw invalidField('thumbnail', 'Thumbnail', 'must be blank: only videos and audio take a thumbnail');
  const changes: Partial<typeof mediaAttachments.$inferInsert> = { updatedAt: new Date() };
  if (params.description !== undefined) changes.description = description;
  if (focus !== undefined) changes.fileMeta = { ...(row.fileMeta as MediaMeta), focus };
  let oldThumbnail: string | null = null;
  if (params.thumbnail !== undefined) {
    const thumbnail = await storeThumbnail(ctx, row.id, params.thumbnail);
    Object.assign(changes, thumbnail);
    oldThumbnail = row.thumbnailKey;
  }
  const [updated] = await ctx.database.db
    .update(mediaAttachments)
    .set(changes)
    .where(eq(mediaAttachments.id, row.id))
    .returning();
  if (oldThumbnail !== null) await ctx.storage.delete([oldThumbnail]);
  return updated as MediaAttachmentRecord;
}

/** Deletes the viewer's upload with its files; one already attached to a status stays (422). */
export async function deleteMediaAttachment(ctx: Context, accountId: string, id: string): Promise<void> {
  const [row] = await ctx.database.db
    .select()
    .from(mediaAttachments)
    .where(and(eq(mediaAttachments.id, id), eq(mediaAttachments.accountId, accountId)));
  if (row === undefined) throw notFound();
  if (row.statusId !== null) throw new DomainError('unprocessable', IN_USE_ERROR);
  await destroyMediaAttachments(ctx, [row]);
}

/** Removes attachments and their stored files (a status deleted with its media, housekeeping). */
export async function destroyMediaAttachments(
  ctx: Context,
  rows: readonly MediaAttachmentRecord[],
): Promise<void> {
  if (rows.length === 0) return;
  for (const row of rows)
    await ctx.database.db.delete(mediaAttachments).where(eq(mediaAttachments.id, row.id));
  await ctx.storage.delete(storedKeys(rows));
}

/** Every stored file of the rows. */
export function storedKeys(rows: readonly MediaAttachmentRecord[]): string[] {
  return rows.flatMap((r) => [r.fileKey, r.smallKey, r.thumbnailKey].filter((k): k is string => k !== null));
}

// ---------------------------------------------------------------------------------------------

type StoredFileColumns = Pick<
  typeof mediaAttachments.$inferInsert,
  | 'type'
  | 'processing'
  | 'processingError'
  | 'fileKey'
  | 'fileContentType'
  | 'fileSize'
  | 'smallKey'
  | 'fileUpdatedAt'
> & {
  fileMeta: MediaMeta;
  blurhash: string | null;
  thumbnailKey?: string;
  thumbnailContentType?: string;
  thumbnailFileSize?: number;
};

/** Processes a file and stores what comes out; the row's file columns, ready to write. */
export async function processAndStore(
  ctx: MediaContext,
  id: string,
  collection: MediaCollection,
  path: string,
  identified: Identified,
  options: { remote: boolean },
): Promise<StoredFileColumns> {
  const processor = await mediaProcessor(ctx);
  let result: Awaited<ReturnType<typeof processor.process>>;
  try {
    result = await processor.process(path, identified);
  } catch (error) {
    throw asDomainError(error);
  }
  try {
    const put = async (file: ProcessedFile, style: MediaStyle) => {
      const key = mediaKey(collection, id, style, file.extension, { remote: options.remote });
      await ctx.storage.put(key, createReadStream(file.path), {
        contentType: file.contentType,
        cacheControl: STORED_CACHE_CONTROL,
      });
      return key;
    };
    const columns: StoredFileColumns = {
      type: result.type,
      processing: 'complete',
      processingError: null,
      fileKey: await put(result.original, 'original'),
      fileContentType: result.original.contentType,
      fileSize: result.original.size,
      smallKey: result.small ? await put(result.small, 'small') : null,
      fileUpdatedAt: new Date(),
      fileMeta: result.meta,
      blurhash: result.blurhash,
    };
    if (result.thumbnail) {
      // Audio's own cover art, used unless the uploader gives a thumbnail.
      columns.thumbnailKey = await put(result.thumbnail, 'thumbnail');
      columns.thumbnailContentType = result.thumbnail.contentType;
      columns.thumbnailFileSize = result.thumbnail.size;
    }
    return columns;
  } finally {
    await processor.cleanup(result.original, result.small, result.thumbnail);
  }
}

/** A custom thumbnail for a video or audio file: an image, processed and stored. */
async function storeThumbnail(ctx: Context, id: string, file: UploadedFile) {
  if (file.size > MEDIA_LIMITS.imageSizeLimit)
    throw invalidField('thumbnail', 'Thumbnail', `must be less than ${MEDIA_LIMITS.imageSizeLimit / MB} MB`);
  const processor = await mediaProcessor(ctx);
  const identified = await identify(processor, file.path);
  if (identified.kind !== 'image')
    throw invalidField('thumbnail', 'Thumbnail', 'must be an image (JPEG, PNG, WebP, GIF, AVIF or HEIC)');
  let made: Awaited<ReturnType<typeof processor.thumbnail>>;
  try {
    made = await processor.thumbnail(file.path);
  } catch (error) {
    throw asDomainError(error);
  }
  try {
    const key = mediaKey('media_attachments/files', id, 'thumbnail', made.file.extension);
    await ctx.storage.put(key, createReadStream(made.file.path), {
      contentType: made.file.contentType,
      cacheControl: STORED_CACHE_CONTROL,
    });
    return {
      thumbnailKey: key,
      thumbnailContentType: made.file.contentType,
      thumbnailFileSize: made.file.size,
      blurhash: made.blurhash,
    };
  } finally {
    await processor.cleanup(made.file);
  }
}

async function identify(
  processor: Awaited<ReturnType<typeof mediaProcessor>>,
  path: string,
): Promise<Identified> {
  try {
    return await processor.identify(path);
  } catch (error) {
    if (error instanceof MediaProcessingError && error.reason === 'unsupported_type')
      throw new DomainError('unprocessable', FILE_TYPE_ERROR);
    throw asDomainError(error);
  }
}

function typeOf(identified: Identified, videoSupported: boolean): MediaType {
  if (identified.kind === 'gif') return videoSupported ? 'gifv' : 'image';
  return identified.kind;
}

/** Mastodon's limits by what the bytes are, whatever the client declared. */
function checkSize(size: number, identified: Identified): void {
  const image = identified.kind === 'image' || identified.kind === 'gif';
  const limit = image ? MEDIA_LIMITS.imageSizeLimit : MEDIA_LIMITS.videoSizeLimit;
  if (size > limit) throw invalidField('file', 'File', `must be less than ${Math.round(limit / MB)} MB`);
}

function checkDescription(v: Validator, value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  const description = value.trim();
  if ([...description].length > MEDIA_LIMITS.descriptionLimit)
    v.add('description', 'Description', 'ERR_TOO_LONG', tooLong(MEDIA_LIMITS.descriptionLimit));
  return description === '' ? null : description;
}

const NUMBER = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*$/;

/** `"x,y"` with each in −1..1 (Mastodon's focal point); undefined when not given or blank. */
function checkFocus(v: Validator, value: string | null | undefined): { x: number; y: number } | undefined {
  if (value === undefined || value === null || value.trim() === '') return undefined;
  const parts = value.split(',');
  const [x, y] = parts.map(Number);
  if (
    parts.length !== 2 ||
    !parts.every((p) => NUMBER.test(p)) ||
    x === undefined ||
    y === undefined ||
    Math.abs(x) > 1 ||
    Math.abs(y) > 1
  ) {
    v.add('focus', 'Focus', 'ERR_INVALID', 'must be two numbers from -1.0 to 1.0, as "x,y"');
    return undefined;
  }
  return { x, y };
}

/** What the processor refused, as the 422 the client sees. */
function asDomainError(error: unknown): unknown {
  if (error instanceof MediaProcessingError) return new DomainError('unprocessable', error.message);
  return error;
}

const EXTENSIONS: Record<string, string> = {
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
  'video/ogg': 'ogv',
  'image/gif': 'gif',
  'image/png': 'png',
  'image/webp': 'webp',
  'audio/mpeg': 'mp3',
  'audio/ogg': 'ogg',
  'audio/wav': 'wav',
  'audio/flac': 'flac',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
  'audio/webm': 'weba',
};

function extensionOf(mimetype: string): string {
  return EXTENSIONS[mimetype] ?? 'bin';
}

/** Copies a stored object to a temporary file for the duration of `work`. */
export async function withStoredFile<T>(
  ctx: Context,
  key: string,
  work: (path: string) => Promise<T>,
): Promise<T> {
  const object = await ctx.storage.get(key);
  if (object === null) throw new DomainError('not_found', 'The uploaded file is no longer stored');
  const dir = await mkdtemp(join(tmpdir(), 'woolly-media-'));
  try {
    const path = join(dir, 'source');
    await pipeline(object.body, createWriteStream(path));
    return await work(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
