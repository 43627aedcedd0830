import type { Context } from '../domain/context.ts';
import { JOBS } from '../domain/jobs.ts';
import { notifyPollEnded } from '../domain/statuses/polls.ts';
import { dueScheduledStatusIds, publishScheduledStatus } from '../domain/statuses/scheduled.ts';
import type { JobRegistry } from './registry.ts';

/** How often the scheduler looks for scheduled statuses that are due. */
export const SCHEDULED_STATUSES_EVERY_MS = 60 * 1000;

/**
 * Status jobs: `scheduler`/`scheduled_statuses` (periodic: publishes the scheduled statuses that
 * are due) and `default`/`poll_expiration` {pollId, expiresAt} (notifies a poll's author and voters
 * when it ends).
 */
export function registerStatusJobs(registry: JobRegistry, ctx: Context): void {
  registry.periodic({
    ...JOBS.scheduledStatuses,
    everyMs: SCHEDULED_STATUSES_EVERY_MS,
    handler: async () => {
      for (;;) {
        const due = await dueScheduledStatusIds(ctx);
        for (const id of due) await publishScheduledStatus(ctx, id);
        if (due.length < 100) break;
      }
    },
  });
  registry.register(JOBS.pollExpiration, async (data) => {
    const d = (data ?? {}) as { pollId?: unknown; expiresAt?: unknown };
    if (typeof d.pollId !== 'string') throw new Error('poll_expiration needs {pollId}');
    await notifyPollEnded(ctx, d.pollId, typeof d.expiresAt === 'string' ? d.expiresAt : undefined);
  });
}
