import type { Context } from '../domain/context.ts';
import { expireMute, MUTE_EXPIRY_JOB } from '../domain/relationships/mutes.ts';
import { DISTRIBUTE_JOB, fanOutStatus } from '../domain/timelines/distribution.ts';
import type { JsonValue } from '../infra/queue/queue.ts';
import type { JobRegistry } from './registry.ts';

/** The `default` queue's home-feed job: `distribute` {statusId}, the fan-out of a new status. */
export function registerFeedJobs(registry: JobRegistry, deps: Partial<Context>): void {
  registry.register('default', DISTRIBUTE_JOB, async (data) => {
    if (deps.database === undefined || deps.feeds === undefined || deps.cache === undefined) {
      throw new Error('feed jobs need the database, the feed store and the cache');
    }
    await fanOutStatus({ database: deps.database, feeds: deps.feeds, cache: deps.cache }, statusIdOf(data));
  });
}

/** `default` / `mute_expired` {accountId, targetId}: the end of a timed mute (src/domain/relationships/mutes.ts). */
export function registerMuteJobs(registry: JobRegistry, deps: Partial<Context>): void {
  registry.register('default', MUTE_EXPIRY_JOB, async (data) => {
    const { accountId, targetId } = (data ?? {}) as { accountId?: unknown; targetId?: unknown };
    if (typeof accountId !== 'string' || typeof targetId !== 'string')
      throw new Error('mute_expired needs {accountId, targetId}');
    if (deps.database === undefined || deps.feeds === undefined)
      throw new Error('mute_expired needs the database and the feed store');
    await expireMute(deps as Context, accountId, targetId);
  });
}

function statusIdOf(data: JsonValue): string {
  const statusId = (data as { statusId?: unknown } | null)?.statusId;
  if (typeof statusId !== 'string' || !/^\d{1,19}$/.test(statusId))
    throw new Error('distribute needs {statusId}');
  return statusId;
}
