import type { Job, JsonValue, PeriodicJob, QueueName } from '../infra/queue/queue.ts';

/** Runs one job: its data, and the job itself (id, attempt…) for handlers that need them. */
export type JobRunner = (data: JsonValue, job: Job) => Promise<void>;

export interface PeriodicDefinition extends PeriodicJob {
  handler: JobRunner;
}

/**
 * Which code runs a job: one handler per queue and job name. A worker dispatches every job it takes
 * through the registry; a job nobody handles fails (and goes dead after its attempts), so it stays
 * visible in `woolly queues dead` instead of vanishing.
 */
export class JobRegistry {
  private readonly handlers = new Map<string, JobRunner>();
  private readonly periodics: PeriodicJob[] = [];

  /** Registers the handler of a job type (one of src/domain/jobs.ts's JOBS). */
  register(type: { readonly queue: QueueName; readonly name: string }, handler: JobRunner): this {
    const key = `${type.queue}/${type.name}`;
    if (this.handlers.has(key)) throw new Error(`a handler for ${key} is already registered`);
    this.handlers.set(key, handler);
    return this;
  }

  /** Registers the handler and declares the job periodic (the worker schedules it at start). */
  periodic(job: PeriodicDefinition): this {
    this.register(job, job.handler);
    const declared: PeriodicJob = { queue: job.queue, name: job.name, everyMs: job.everyMs };
    if (job.data !== undefined) declared.data = job.data;
    this.periodics.push(declared);
    return this;
  }

  has(queue: QueueName, name: string): boolean {
    return this.handlers.has(`${queue}/${name}`);
  }

  handlerFor(job: Pick<Job, 'queue' | 'name'>): JobRunner {
    const handler = this.handlers.get(`${job.queue}/${job.name}`);
    if (handler === undefined) throw new Error(`no handler for ${job.queue}/${job.name}`);
    return handler;
  }

  /** The JobHandler a worker is given: `queue.work(queues, (job) => registry.dispatch(job), …)`. */
  async dispatch(job: Job): Promise<void> {
    await this.handlerFor(job)(job.data, job);
  }

  /** The periodic jobs to declare with `QueueBackend.schedule` when a worker starts. */
  periodicJobs(): PeriodicJob[] {
    return this.periodics.map((p) => ({ ...p }));
  }
}
