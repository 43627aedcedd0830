import type { Context } from '../domain/context.ts';
import { JOBS } from '../domain/jobs.ts';
import { registerFeedJobs, registerMuteJobs } from './feeds.ts';
import { registerMailJobs } from './mail.ts';
import { registerMediaJobs } from './media.ts';
import { registerMediaHousekeepingJobs } from './media-housekeeping.ts';
import { registerPasswordResetJob } from './password-reset.ts';
import { JobRegistry } from './registry.ts';
import { registerStatusJobs } from './statuses.ts';

export { JobRegistry, type JobRunner, type PeriodicDefinition } from './registry.ts';

export const HOUSEKEEPING_EVERY_MS = 10 * 60 * 1000;

/**
 * The registry of every job Woolly runs (their names: src/domain/jobs.ts), with its built-in
 * periodic jobs. Handlers run against the worker's whole Context.
 */
export function createJobRegistry(ctx: Context): JobRegistry {
  const registry = new JobRegistry();
  registry.periodic({
    ...JOBS.housekeeping,
    everyMs: HOUSEKEEPING_EVERY_MS,
    handler: async () => {
      // Completed jobs of the database queue (BullMQ removes its own: prune() does nothing there).
      const pruned = await ctx.queue.prune();
      if (pruned > 0) ctx.log.debug({ pruned }, 'housekeeping: pruned completed jobs');
    },
  });
  registerMailJobs(registry, ctx);
  registerPasswordResetJob(registry, ctx);
  registerFeedJobs(registry, ctx);
  registerMuteJobs(registry, ctx);
  registerStatusJobs(registry, ctx);
  registerMediaJobs(registry, ctx);
  registerMediaHousekeepingJobs(registry, ctx);
  return registry;
}
