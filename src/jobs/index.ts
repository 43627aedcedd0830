import type { Context } from '../domain/context.ts';
import { registerFeedJobs, registerMuteJobs } from './feeds.ts';
import { registerMailJobs } from './mail.ts';
import { registerPasswordResetJob } from './password-reset.ts';
import { JobRegistry } from './registry.ts';
import { registerStatusJobs } from './statuses.ts';

export { JobRegistry, type JobRunner, type PeriodicDefinition } from './registry.ts';

/** What the built-in jobs need from the running process. */
export type JobDeps = Pick<Context, 'queue'> & Partial<Context>;

export const HOUSEKEEPING_EVERY_MS = 10 * 60 * 1000;

/** The registry of every job Woolly runs, with its built-in periodic jobs. */
export function createJobRegistry(deps: JobDeps): JobRegistry {
  const registry = new JobRegistry();
  registry.periodic({
    queue: 'scheduler',
    name: 'housekeeping',
    everyMs: HOUSEKEEPING_EVERY_MS,
    handler: async () => {
      // Completed jobs of the database queue (BullMQ removes its own: prune() does nothing there).
      const pruned = await deps.queue.prune();
      if (pruned > 0) deps.log?.debug({ pruned }, 'housekeeping: pruned completed jobs');
    },
  });
  // Mail jobs need the database and a mailer; a registry built without them fails those jobs loudly.
  registerMailJobs(registry, deps);
  registerPasswordResetJob(registry, deps);
  registerFeedJobs(registry, deps);
  registerMuteJobs(registry, deps);
  registerStatusJobs(registry, deps);
  return registry;
}
