import type { Context } from '../domain/context.ts';
import { JOBS } from '../domain/jobs.ts';
import { expireMute } from '../domain/relationships/mutes.ts';
import { fanOutStatus, fanOutStatusUpdate } from '../domain/timelines/distribution.ts';
import type { JsonValue } from '../infra/queue/queue.ts';
import type { JobRegistry } from './registry.ts';

/**
 * The `default` queue's home-feed jobs: `distribute` {statusId}, the fan-out of a new status, and
 * `distribute_update` {statusId}, the streaming of an edit.
 */
export function registerFeedJobs(registry: JobRegistry, ctx: Context): void {
  registry.register(JOBS.distribute, async (data) => {
    await fanOutStatus(ctx, statusIdOf(data));
  });
  registry.register(JOBS.distributeUpdate, async (data) => {
    await fanOutStatusUpdate(ctx, statusIdOf(data));
  });
}

/** `default` / `mute_expired` {accountId, targetId}: the end of a timed mute (src/domain/relationships/mutes.ts). */
export function registerMuteJobs(registry: JobRegistry, ctx: Context): void {
  registry.register(JOBS.muteExpired, async (data) => {
    const { accountId, targetId } = (data ?? {}) as { accountId?: unknown; targetId?: unknown };
    if (typeof accountId !== 'string' || typeof targetId !== 'string')
      throw new Error('mute_expired needs {accountId, targetId}');
    await expireMute(ctx, accountId, targetId);
  });
}

function statusIdOf(data: JsonValue): string {
  const statusId = (data as { statusId?: unknown } | null)?.statusId;
  if (typeof statusId !== 'string' || !/^\d{1,19}$/.test(statusId))
    throw new Error('a distribute job needs {statusId}');
  return statusId;
}
