import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq, gte, inArray, isNull, ne, type SQL } from 'drizzle-orm';
import { accounts, mediaAttachments } from '../../db/schema/index.ts';
import { downloadToFile, SafeFetchError } from '../../infra/http/safe-fetch.ts';
import { MediaProcessingError } from '../../infra/media/index.ts';
import type { Context } from '../context.ts';
import { DomainError } from '../errors.ts';
import { enqueueJob, JOBS } from '../jobs.ts';
import { MEDIA_LIMITS } from '../limits.ts';
import { processAndStore } from './attachments.ts';
import { type MediaContext, mediaProcessor } from './processor.ts';
import {
  PROFILE_IMAGE_SIZE_LIMIT,
  type ProfileImageKind,
  profileImageChange,
  profileImageKeys,
  storeProfileImage,
} from './profile-images.ts';
import type { MediaAttachmentRecord } from './records.ts';

/**
 * The remote media cache: a remote attachment, avatar or header keeps its `remote_url` for good,
 * and its file is fetched from there when first needed (a `pull` job, or the media proxy), through
 * the same processing as an upload, into `cache/…` keys that housekeeping may drop again.
 */

const FETCH_TIMEOUT_MS = 30_000;

async function download<T>(
  ctx: MediaContext,
  url: string,
  maxBytes: number,
  work: (path: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'woolly-remote-'));
  try {
    const path = join(dir, 'download');
    await downloadToFile(url, path, {
      maxBytes,
      timeoutMs: FETCH_TIMEOUT_MS,
      allowedPrivateAddresses: ctx.config.http.allowedPrivateAddresses,
      userAgent: `Woolly (+${ctx.config.baseUrl}/)`,
    });
    return await work(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Fetches a remote attachment's file into the cache (nothing to do when it is there). Failures
 * that will not change on a retry (a 404, a refused address, an unreadable file) are logged and
 * leave the attachment as it was; others throw, for the job to retry.
 */
export async function cacheRemoteAttachment(
  ctx: MediaContext,
  id: string,
  options: { force?: boolean } = {},
): Promise<MediaAttachmentRecord | undefined> {
  const [row] = await ctx.database.db.select().from(mediaAttachments).where(eq(mediaAttachments.id, id));
  if (row === undefined || row.remoteUrl === '') return row;
  if (row.fileKey !== null && !options.force) return row;
  try {
    const columns = await download(ctx, row.remoteUrl, MEDIA_LIMITS.videoSizeLimit, async (path) => {
      const processor = await mediaProcessor(ctx);
      const identified = await processor.identify(path);
      return processAndStore(ctx, row.id, 'media_attachments/files', path, identified, { remote: true });
    });
    const [updated] = await ctx.database.db
      .update(mediaAttachments)
      .set({
        ...columns,
        // The remote description and focus stay; the remote blurhash too when it sent one.
        fileMeta: { ...columns.fileMeta, ...pickFocus(row.fileMeta) },
        blurhash: row.blurhash ?? columns.blurhash,
        updatedAt: new Date(),
      })
      .where(eq(mediaAttachments.id, row.id))
      .returning();
    // A forced refresh replaced the cached copy: the old files go once the row points elsewhere.
    const old = [row.fileKey, row.smallKey].filter((k): k is string => k !== null);
    if (old.length > 0) await ctx.storage.delete(old);
    return updated;
  } catch (error) {
    if (isPermanent(error)) {
      ctx.log.info(
        { mediaAttachmentId: id, url: row.remoteUrl, err: (error as Error).message },
        'remote media not cached',
      );
      return row;
    }
    throw error;
  }
}

/** Fetches a remote account's avatar and header into the cache, replacing what was there. */
export async function cacheRemoteProfileImages(ctx: MediaContext, accountId: string): Promise<void> {
  const [account] = await ctx.database.db.select().from(accounts).where(eq(accounts.id, accountId));
  if (account === undefined || account.domain === null) return;
  for (const kind of ['avatar', 'header'] as ProfileImageKind[]) {
    const url = kind === 'avatar' ? account.avatarRemoteUrl : account.headerRemoteUrl;
    const cached = kind === 'avatar' ? account.avatarKey : account.headerKey;
    if (url === '' || cached !== null) continue;
    try {
      const stored = await download(ctx, url, PROFILE_IMAGE_SIZE_LIMIT, (path) =>
        storeProfileImage(ctx, account.id, kind, path, { remote: true }),
      );
      await ctx.database.db
        .update(accounts)
        .set(profileImageChange(kind, stored))
        .where(eq(accounts.id, account.id));
      await ctx.storage.delete(profileImageKeys(account, kind));
    } catch (error) {
      if (!isPermanent(error)) throw error;
      ctx.log.info({ accountId, url, err: (error as Error).message }, `remote ${kind} not cached`);
    }
  }
}

/** Queues the fetch of a remote attachment (what federation does for each one it stores). */
export async function queueRemoteAttachment(ctx: Context, id: string): Promise<void> {
  await enqueueJob(
    ctx,
    JOBS.fetchRemoteMedia,
    { mediaAttachmentId: id },
    { jobId: `fetch-media-${id}`, attempts: 3 },
  );
}

/** Queues the fetch of a remote account's avatar and header. */
export async function queueRemoteProfileImages(ctx: Context, accountId: string): Promise<void> {
  await enqueueJob(
    ctx,
    JOBS.fetchRemoteProfileImages,
    { accountId },
    { jobId: `fetch-profile-images-${accountId}-${Date.now()}`, attempts: 3 },
  );
}

/**
 * The media proxy (`/media_proxy/:id/:style`): the URL of a remote attachment's cached file,
 * fetching it first when it is not cached. Undefined when there is nothing to show.
 */
export async function proxiedMediaKey(
  ctx: Context,
  id: string,
  style: 'original' | 'small',
): Promise<string | undefined> {
  const [row] = await ctx.database.db.select().from(mediaAttachments).where(eq(mediaAttachments.id, id));
  if (row === undefined) return undefined;
  const cached = row.fileKey === null && row.remoteUrl !== '' ? await cacheRemoteAttachment(ctx, id) : row;
  if (cached === undefined) return undefined;
  if (style === 'small') return cached.thumbnailKey ?? cached.smallKey ?? undefined;
  return cached.fileKey ?? undefined;
}

function pickFocus(meta: unknown): { focus?: { x: number; y: number } } {
  const focus = (meta as { focus?: { x: number; y: number } } | null)?.focus;
  return focus ? { focus } : {};
}

function isPermanent(error: unknown): boolean {
  if (error instanceof SafeFetchError) return error.permanent;
  return error instanceof MediaProcessingError || error instanceof DomainError;
}

export interface RefreshSelection {
  /** A status's attachments. */
  statusId?: string;
  /** One remote account's attachments (and its avatar and header). */
  accountId?: string;
  /** Every remote account of a domain. */
  domain?: string;
  /** Attachments created within the last N days. */
  days?: number;
}

export interface RefreshResult {
  /** Attachments (and accounts' images) looked at. */
  considered: number;
  /** Fetched into the cache (or that would be, with dryRun). */
  fetched: number;
  /** Whose remote file could not be fetched or read. */
  failed: number;
}

/**
 * tootctl media refresh: fetches the selected remote attachments into the cache again — those not
 * cached, or all of them with `force` (their cached files are replaced). Runs inline, one at a
 * time, reporting progress; failures are counted, not thrown.
 */
export async function refreshRemoteMedia(
  ctx: MediaContext,
  selection: RefreshSelection,
  options: { force?: boolean; dryRun?: boolean; onProgress?: (done: number, total: number) => void } = {},
): Promise<RefreshResult> {
  const conditions: SQL[] = [ne(mediaAttachments.remoteUrl, '')];
  if (selection.statusId !== undefined) conditions.push(eq(mediaAttachments.statusId, selection.statusId));
  if (selection.accountId !== undefined) conditions.push(eq(mediaAttachments.accountId, selection.accountId));
  if (selection.domain !== undefined)
    conditions.push(
      inArray(
        mediaAttachments.accountId,
        ctx.database.db
          .select({ id: accounts.id })
          .from(accounts)
          .where(eq(accounts.domain, selection.domain.toLowerCase())),
      ),
    );
  if (selection.days !== undefined)
    conditions.push(gte(mediaAttachments.createdAt, new Date(Date.now() - selection.days * 86_400_000)));
  if (!options.force) conditions.push(isNull(mediaAttachments.fileKey));
  const rows = await ctx.database.db
    .select({
      id: mediaAttachments.id,
      fileKey: mediaAttachments.fileKey,
      smallKey: mediaAttachments.smallKey,
    })
    .from(mediaAttachments)
    .where(and(...conditions))
    .orderBy(mediaAttachments.id);
  const result: RefreshResult = { considered: rows.length, fetched: 0, failed: 0 };
  let done = 0;
  for (const row of rows) {
    if (options.dryRun) result.fetched++;
    else {
      try {
        const cached = await cacheRemoteAttachment(ctx, row.id, { force: options.force });
        if (cached?.fileKey && cached.fileKey !== row.fileKey) result.fetched++;
        else result.failed++;
      } catch (error) {
        ctx.log.warn({ mediaAttachmentId: row.id, err: (error as Error).message }, 'media refresh failed');
        result.failed++;
      }
    }
    options.onProgress?.(++done, rows.length);
  }
  return result;
}
