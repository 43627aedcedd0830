import type { Context } from '../domain/context.ts';
import { DISTRIBUTE_JOB, fanOutStatus } from '../domain/timelines/distribution.ts';
import type { JsonValue } from '../infra/queue/queue.ts';
import type { JobRegistry } from './registry.ts';

/** The `default` queue's home-feed job: `distribute` {statusId}, the fan-out of a new status. */
export function registerFeedJobs(registry: JobRegistry, deps: Partial<Context>): void {
  registry.register('default', DISTRIBUTE_JOB, async (data) => {
    if (deps.database === undefined || deps.feeds === undefined) {
      throw new Error('feed jobs need the database and the feed store');
    }
    await fanOutStatus({ database: deps.database, feeds: deps.feeds }, statusIdOf(data));
  });
}

function statusIdOf(data: JsonValue): string {
  const statusId = (data as { statusId?: unknown } | null)?.statusId;
  if (typeof statusId !== 'string' || !/^\d{1,19}$/.test(statusId))
    throw new Error('distribute needs {statusId}');
  return statusId;
}
