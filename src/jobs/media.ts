import type { Context } from '../domain/context.ts';
import { JOBS } from '../domain/jobs.ts';
import { processQueuedMedia } from '../domain/media/attachments.ts';
import { cacheRemoteAttachment, cacheRemoteProfileImages } from '../domain/media/remote.ts';
import type { JobRegistry } from './registry.ts';

/**
 * Media jobs: `default`/`process_media` {mediaAttachmentId} (an upload stored as sent, turned into
 * what clients play), `default`/`remove_media_files` {keys} (files whose rows are gone), `pull`/`fetch_remote_media` {mediaAttachmentId} and
 * `pull`/`fetch_remote_profile_images` {accountId} (the remote media cache).
 */
export function registerMediaJobs(registry: JobRegistry, ctx: Context): void {
  registry.register(JOBS.processMedia, async (data) => {
    await processQueuedMedia(ctx, idOf(data, 'mediaAttachmentId', JOBS.processMedia.name));
  });
  registry.register(JOBS.removeMediaFiles, async (data) => {
    const keys = (data as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string'))
      throw new Error(`${JOBS.removeMediaFiles.name} needs {keys: string[]}`);
    await ctx.storage.delete(keys);
  });
  registry.register(JOBS.fetchRemoteMedia, async (data) => {
    await cacheRemoteAttachment(ctx, idOf(data, 'mediaAttachmentId', JOBS.fetchRemoteMedia.name));
  });
  registry.register(JOBS.fetchRemoteProfileImages, async (data) => {
    await cacheRemoteProfileImages(ctx, idOf(data, 'accountId', JOBS.fetchRemoteProfileImages.name));
  });
}

function idOf(data: unknown, key: string, job: string): string {
  const value = (data as Record<string, unknown> | null)?.[key];
  if (typeof value !== 'string') throw new Error(`${job} needs {${key}}`);
  return value;
}
