import type { Context } from '../domain/context.ts';
import { JOBS } from '../domain/jobs.ts';
import {
  removeRemoteMediaCache,
  removeUnattachedUploads,
  UNATTACHED_UPLOAD_TTL_MS,
} from '../domain/media/housekeeping.ts';
import type { JobRegistry } from './registry.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Both media jobs run once a day (Mastodon's VacuumScheduler). */
export const MEDIA_HOUSEKEEPING_EVERY_MS = DAY_MS;

/**
 * The scheduler queue's media jobs (src/domain/media/housekeeping.ts): `media_cleanup`, the uploads
 * never attached; `media_cache_retention`, the cached copies of remote attachments older than
 * MEDIA_CACHE_RETENTION_PERIOD days — scheduled only when that is set, but always handled, so a run
 * scheduled before it was unset (BullMQ keeps its schedulers) finds a handler that does nothing.
 */
export function registerMediaHousekeepingJobs(registry: JobRegistry, ctx: Context): void {
  registry.periodic({
    ...JOBS.mediaCleanup,
    everyMs: MEDIA_HOUSEKEEPING_EVERY_MS,
    handler: async () => {
      const counts = await removeUnattachedUploads(ctx, {
        olderThan: new Date(Date.now() - UNATTACHED_UPLOAD_TTL_MS),
      });
      if (counts.records > 0) ctx.log.info(counts, 'media cleanup: removed unattached uploads');
    },
  });
  const retention = async () => {
    const days = ctx.config.media.cacheRetentionDays;
    if (days === undefined) {
      ctx.log.info('media cache retention: MEDIA_CACHE_RETENTION_PERIOD is not set, nothing removed');
      return;
    }
    const counts = await removeRemoteMediaCache(ctx, { olderThan: new Date(Date.now() - days * DAY_MS) });
    if (counts.records > 0) ctx.log.info(counts, 'media cache retention: removed cached remote files');
  };
  if (ctx.config.media.cacheRetentionDays !== undefined) {
    registry.periodic({
      ...JOBS.mediaCacheRetention,
      everyMs: MEDIA_HOUSEKEEPING_EVERY_MS,
      handler: retention,
    });
  } else {
    registry.register(JOBS.mediaCacheRetention, retention);
  }
}
