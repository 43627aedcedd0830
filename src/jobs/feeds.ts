import type { Context } from '../domain/context.ts';
import { expireMute, MUTE_EXPIRY_JOB } from '../domain/relationships/mutes.ts';
import { DISTRIBUTE_JOB, DISTRIBUTE_UPDATE_JOB } from '../domain/statuses/store.ts';
import { fanOutStatus, fanOutStatusUpdate } from '../domain/timelines/distribution.ts';
import type { JsonValue } from '../infra/queue/queue.ts';
import type { JobRegistry } from './registry.ts';

/**
 * The `default` queue's home-feed jobs: `distribute` {statusId}, the fan-out of a new status, and
 * `distribute_update` {statusId}, the streaming of an edit.
 */
export function registerFeedJobs(registry: JobRegistry, deps: Partial<Context>): void {
  registry.register('default', DISTRIBUTE_JOB, async (data) => {
    const { database, feeds, cache, streams } = deps;
    if (database === undefined || feeds === undefined || cache === undefined || streams === undefined) {
      throw new Error('feed jobs need the database, the feed store, the cache and the streams');
    }
    await fanOutStatus({ database, feeds, cache, streams }, statusIdOf(data));
  });
  registry.register('default', DISTRIBUTE_UPDATE_JOB, async (data) => {
    const { database, streams } = deps;
    if (database === undefined || streams === undefined)
      throw new Error('distribute_update needs the database and the streams');
    await fanOutStatusUpdate({ database, streams }, statusIdOf(data));
  });
}

/** `default` / `mute_expired` {accountId, targetId}: the end of a timed mute (src/domain/relationships/mutes.ts). */
export function registerMuteJobs(registry: JobRegistry, deps: Partial<Context>): void {
  registry.register('default', MUTE_EXPIRY_JOB, async (data) => {
    const { accountId, targetId } = (data ?? {}) as { accountId?: unknown; targetId?: unknown };
    if (typeof accountId !== 'string' || typeof targetId !== 'string')
      throw new Error('mute_expired needs {accountId, targetId}');
    if (deps.database === undefined || deps.feeds === undefined || deps.streams === undefined)
      throw new Error('mute_expired needs the database, the feed store and the streams');
    await expireMute(deps as Context, accountId, targetId);
  });
}

function statusIdOf(data: JsonValue): string {
  const statusId = (data as { statusId?: unknown } | null)?.statusId;
  if (typeof statusId !== 'string' || !/^\d{1,19}$/.test(statusId))
    throw new Error('a distribute job needs {statusId}');
  return statusId;
}
