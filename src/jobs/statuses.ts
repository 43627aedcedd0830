import type { Context } from '../domain/context.ts';
import { notifyPollEnded, POLL_EXPIRATION_JOB } from '../domain/statuses/polls.ts';
import { dueScheduledStatusIds, publishScheduledStatus } from '../domain/statuses/scheduled.ts';
import type { JobRegistry } from './registry.ts';

/** How often the scheduler looks for scheduled statuses that are due. */
export const SCHEDULED_STATUSES_EVERY_MS = 60 * 1000;
export const SCHEDULED_STATUSES_JOB = 'scheduled_statuses';

/**
 * Status jobs: `scheduler`/`scheduled_statuses` (periodic: publishes the scheduled statuses that
 * are due) and `default`/`poll_expiration` {pollId, expiresAt} (notifies a poll's author and voters
 * when it ends). Both need the whole context (posting distributes and notifies).
 */
export function registerStatusJobs(registry: JobRegistry, deps: Partial<Context>): void {
  const full = (): Context => {
    const missing = (['config', 'database', 'queue', 'cache', 'feeds', 'streams', 'log'] as const).filter(
      (k) => deps[k] === undefined,
    );
    if (missing.length > 0) throw new Error(`status jobs need ${missing.join(', ')}`);
    return deps as Context;
  };
  registry.periodic({
    queue: 'scheduler',
    name: SCHEDULED_STATUSES_JOB,
    everyMs: SCHEDULED_STATUSES_EVERY_MS,
    handler: async () => {
      const ctx = full();
      for (;;) {
        const due = await dueScheduledStatusIds(ctx);
        for (const id of due) await publishScheduledStatus(ctx, id);
        if (due.length < 100) break;
      }
    },
  });
  registry.register('default', POLL_EXPIRATION_JOB, async (data) => {
    const d = (data ?? {}) as { pollId?: unknown; expiresAt?: unknown };
    if (typeof d.pollId !== 'string') throw new Error('poll_expiration needs {pollId}');
    await notifyPollEnded(full(), d.pollId, typeof d.expiresAt === 'string' ? d.expiresAt : undefined);
  });
}
