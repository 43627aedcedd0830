import type { Job as BullJob, Worker as BullWorker, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisConfig } from '../../config/config.ts';
import {
  type DeadJob,
  type EnqueueOptions,
  type EnqueueResult,
  type JobHandler,
  type JsonValue,
  type PeriodicJob,
  QUEUE_NAMES,
  type QueueBackend,
  type QueueCounts,
  type QueueName,
  type Worker,
  type WorkerOptions,
} from './queue.ts';

export interface BullMqQueueOptions {
  /** Redis key prefix (default `woolly`); tests use a random one so they never meet. */
  prefix?: string;
  /** BullMQ's job lock: renewed every half of it while the job runs (default 30 s). */
  lockDurationMs?: number;
  /** How often workers look for jobs whose lock ran out, to run them again (default 30 s). */
  stalledIntervalMs?: number;
  /** Errors of the queue machinery itself (connection trouble…), not of handlers. */
  onError?: (error: unknown) => void;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
const KEEP_COMPLETED = { age: 3600, count: 1000 };
/** Jobs run through retryDead/clearDead per round trip. */
const BATCH = 100;

/**
 * BullMQ custom job ids may not contain ':' nor be integers (BullMQ's own ids are integers). A
 * caller's id is stored as `k=` + encodeURIComponent(id): reversible, never an integer, and
 * encodeURIComponent escapes ':' (and '=', so the prefix cannot be forged).
 */
export function encodeJobId(jobId: string): string {
  return `k=${encodeURIComponent(jobId)}`;
}

export function decodeJobId(id: string): string | undefined {
  return id.startsWith('k=') ? decodeURIComponent(id.slice(2)) : undefined;
}

/** Rejects a handler's promise when its job is handed back at close. */
class HandedBack extends Error {
  constructor() {
    super('worker closed: job handed back to the queue');
    this.name = 'HandedBack';
  }
}

/** bullmq and ioredis cost ~50 MB and ~200 ms to load: only the scaled shape pays, on first use. */
interface Libraries {
  bull: typeof import('bullmq');
  redis: typeof import('../redis-connection.ts');
  /** Shared by the Queue objects (enqueue, counts, dead jobs). */
  client: Redis;
}

interface RunningJob {
  job: BullJob;
  token: string | undefined;
  abandon: (error: Error) => void;
}

/**
 * The scaled shape's job queue: BullMQ on Redis. One BullMQ Queue per queue name (created on first
 * use, all on one connection); `work()` starts one BullMQ Worker per consumed queue, each on its own
 * connection (BullMQ duplicates it for its blocking reads).
 *
 * States: BullMQ's wait/prioritized/paused are "waiting", its "failed" (after the last attempt, since
 * removeOnFail is off) is "dead". Completed jobs are removed by BullMQ after an hour or beyond the
 * newest 1,000 per queue. A job whose worker died (its lock not renewed) is found by the stalled-job
 * check of any live worker after the lock runs out and is run again (once; stalled twice, it fails).
 */
export class BullMqQueue implements QueueBackend {
  readonly kind = 'bullmq' as const;
  readonly prefix: string;
  private readonly config: RedisConfig;
  private readonly lockDurationMs: number;
  private readonly stalledIntervalMs: number;
  private readonly onError: (error: unknown) => void;
  private readonly libs: Promise<Libraries>;
  private readonly queues = new Map<QueueName, Queue>();
  private readonly workers = new Set<BullMqWorker>();
  private closed = false;

  constructor(config: RedisConfig, options: BullMqQueueOptions = {}) {
    this.config = config;
    this.prefix = options.prefix ?? 'woolly';
    this.lockDurationMs = options.lockDurationMs ?? 30_000;
    this.stalledIntervalMs = options.stalledIntervalMs ?? 30_000;
    this.onError = options.onError ?? ((error) => console.error('[woolly queue]', error));
    this.libs = (async () => {
      const [bull, redis] = await Promise.all([import('bullmq'), import('../redis-connection.ts')]);
      const client = redis.createRedisClient(config, { name: 'woolly:queue' });
      client.on('error', (error: unknown) => this.report(error));
      return { bull, redis, client };
    })();
    this.libs.catch(() => {}); // surfaces from the first call that needs it
  }

  /** @internal */
  report(error: unknown): void {
    try {
      this.onError(error);
    } catch {
      // an error reporter that throws must not take the worker down
    }
  }

  private async queue(name: QueueName): Promise<Queue> {
    if (this.closed) throw new Error('the queue is closed');
    const { bull, client } = await this.libs;
    let queue = this.queues.get(name);
    if (queue === undefined) {
      queue = new bull.Queue(name, {
        connection: client,
        prefix: this.prefix,
        defaultJobOptions: { removeOnComplete: KEEP_COMPLETED, removeOnFail: false },
      });
      queue.on('error', (error: unknown) => this.report(error));
      this.queues.set(name, queue);
    }
    return queue;
  }

  async enqueue(
    queue: QueueName,
    name: string,
    data: JsonValue,
    options: EnqueueOptions = {},
  ): Promise<EnqueueResult> {
    const q = await this.queue(queue);
    const jobId = options.jobId === undefined ? undefined : encodeJobId(options.jobId);
    const job = await q.add(name, data, {
      jobId,
      delay: Math.max(0, options.delayMs ?? 0),
      attempts: Math.max(1, Math.floor(options.attempts ?? 1)),
      backoff: { type: 'exponential', delay: Math.max(0, Math.floor(options.backoffMs ?? 1000)) },
    });
    const id = job.id ?? jobId ?? '';
    if (jobId === undefined) return { id, added: true };
    // BullMQ answers a duplicate id with the existing job's id and no other sign; the stored
    // creation time tells whether the job there is the one just built.
    const { client } = await this.libs;
    const stored = await client.hget(q.toKey(id), 'timestamp');
    return { id, added: stored === null || Number(stored) === job.timestamp };
  }

  work(queues: readonly QueueName[], handler: JobHandler, options: WorkerOptions): Worker {
    if (this.closed) throw new Error('the queue is closed');
    const worker = new BullMqWorker(
      this,
      [...new Set(queues)],
      handler,
      Math.max(1, Math.floor(options.concurrency)),
    );
    this.workers.add(worker);
    return worker;
  }

  /** @internal */
  async createWorker(
    queue: QueueName,
    processor: (job: BullJob, token?: string) => Promise<void>,
    concurrency: number,
  ): Promise<{ worker: BullWorker; connection: Redis }> {
    const { bull, redis } = await this.libs;
    const connection = redis.createRedisClient(this.config, {
      name: `woolly:worker:${queue}`,
      maxRetriesPerRequest: null,
    });
    connection.on('error', (error: unknown) => this.report(error));
    const worker = new bull.Worker(queue, processor, {
      connection,
      prefix: this.prefix,
      concurrency,
      lockDuration: this.lockDurationMs,
      stalledInterval: this.stalledIntervalMs,
      removeOnComplete: KEEP_COMPLETED,
    });
    worker.on('error', (error: unknown) => this.report(error));
    return { worker, connection };
  }

  /** @internal */
  forget(worker: BullMqWorker): void {
    this.workers.delete(worker);
  }

  /**
   * A BullMQ job scheduler keyed by the job's name: upserting it from every process keeps one
   * schedule in Redis, so the job is produced once per period whoever declares it.
   */
  async schedule(job: PeriodicJob): Promise<void> {
    await (await this.queue(job.queue)).upsertJobScheduler(
      job.name,
      { every: Math.max(1, Math.floor(job.everyMs)) },
      {
        name: job.name,
        data: job.data ?? null,
        opts: { removeOnComplete: KEEP_COMPLETED, removeOnFail: false },
      },
    );
  }

  async counts(): Promise<QueueCounts> {
    const entries = await Promise.all(
      QUEUE_NAMES.map(async (name) => {
        // 'paused' is a legacy list, still counted by BullMQ's script when present.
        const c = await (await this.queue(name)).getJobCounts(
          'waiting',
          'prioritized',
          'paused' as 'waiting',
          'delayed',
          'active',
          'completed',
          'failed',
        );
        const n = (key: string): number => Number(c[key] ?? 0);
        return [
          name,
          {
            waiting: n('waiting') + n('prioritized') + n('paused'),
            delayed: n('delayed'),
            active: n('active'),
            completed: n('completed'),
            dead: n('failed'),
          },
        ] as const;
      }),
    );
    return Object.fromEntries(entries) as QueueCounts;
  }

  async dead(queue: QueueName, limit = 50): Promise<DeadJob[]> {
    if (limit <= 0) return [];
    const jobs = await (await this.queue(queue)).getFailed(0, Math.floor(limit) - 1);
    return jobs
      .filter((job): job is BullJob => job !== undefined && job !== null)
      .map((job) => ({
        id: String(job.id),
        queue,
        name: job.name,
        data: (job.data ?? null) as JsonValue,
        attempts: job.attemptsMade,
        error: job.failedReason ?? null,
        failedAt: job.finishedOn === undefined ? null : new Date(job.finishedOn),
      }));
  }

  /** The dead jobs of a queue (one, or all of them batch by batch), each given to `fn`. */
  private async eachDead(
    queue: QueueName,
    id: string | undefined,
    fn: (job: BullJob) => Promise<void>,
  ): Promise<number> {
    const q = await this.queue(queue);
    if (id !== undefined) {
      const job = (await q.getJob(id)) as BullJob | undefined;
      if (job === undefined || (await job.getState()) !== 'failed') return 0;
      try {
        await fn(job);
        return 1;
      } catch {
        return 0; // no longer dead (retried or removed meanwhile)
      }
    }
    let done = 0;
    const seen = new Set<string>();
    for (;;) {
      const batch = ((await q.getFailed(0, BATCH - 1)) as (BullJob | undefined)[]).filter(
        (job): job is BullJob => job !== undefined && job !== null && !seen.has(String(job.id)),
      );
      if (batch.length === 0) return done;
      for (const job of batch) {
        seen.add(String(job.id));
        try {
          await fn(job);
          done++;
        } catch {
          // taken by someone else meanwhile
        }
      }
    }
  }

  async retryDead(queue: QueueName, id?: string): Promise<number> {
    return this.eachDead(queue, id, (job) =>
      job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }),
    );
  }

  async clearDead(queue: QueueName, id?: string): Promise<number> {
    return this.eachDead(queue, id, (job) => job.remove());
  }

  /** BullMQ's removeOnComplete already keeps completed jobs to an hour and 1,000 per queue. */
  async prune(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.workers].map((w) => w.close()));
    this.closed = true;
    await Promise.all([...this.queues.values()].map((q) => q.close().catch((error) => this.report(error))));
    this.queues.clear();
    const libs = await this.libs.catch(() => undefined);
    if (libs !== undefined) await libs.redis.closeRedisClient(libs.client);
  }

  /** @internal */
  async closeConnection(connection: Redis): Promise<void> {
    const { redis } = await this.libs;
    await redis.closeRedisClient(connection);
  }
}

class BullMqWorker implements Worker {
  private readonly owner: BullMqQueue;
  private readonly handler: JobHandler;
  private readonly running = new Map<string, RunningJob>();
  private readonly started: Promise<{ worker: BullWorker; connection: Redis }[]>;
  private closing: Promise<void> | undefined;

  constructor(owner: BullMqQueue, queues: QueueName[], handler: JobHandler, concurrency: number) {
    this.owner = owner;
    this.handler = handler;
    this.started = Promise.all(
      queues.map((queue) =>
        owner.createWorker(queue, (job, token) => this.process(queue, job, token), concurrency),
      ),
    );
    this.started.catch((error: unknown) => owner.report(error));
  }

  private async process(queue: QueueName, job: BullJob, token: string | undefined): Promise<void> {
    const key = `${queue}\n${job.id}`;
    let abandon: (error: Error) => void = () => {};
    const abandoned = new Promise<never>((_, reject) => {
      abandon = reject;
    });
    this.running.set(key, { job, token, abandon });
    const run = (async () => {
      try {
        await this.handler({
          id: String(job.id),
          queue,
          name: job.name,
          data: (job.data ?? null) as JsonValue,
          attempt: job.attemptsMade + 1,
          maxAttempts: job.opts.attempts ?? 1,
        });
      } catch (error) {
        // BullMQ records error.message; whatever was thrown becomes an Error.
        throw error instanceof Error ? error : new Error(String(error));
      }
    })();
    try {
      await Promise.race([run, abandoned]);
    } finally {
      this.running.delete(key);
      run.catch(() => {}); // a handed-back job's handler may still fail later: nobody is listening
    }
  }

  /**
   * Stops taking jobs and waits up to `timeoutMs` for running ones. Jobs still running then are moved
   * back to waiting (their lock released, the try not counted), so another worker can take them at
   * once; if that fails (Redis unreachable), their locks run out and BullMQ's stalled-job check on
   * another worker re-queues them. The handlers themselves cannot be stopped: they run on in the
   * background and their results are discarded.
   */
  close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    this.closing ??= this.shutdown(timeoutMs);
    return this.closing;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    const workers = await this.started.catch(() => []);
    const closed = Promise.all(
      workers.map(({ worker }) => worker.close().catch((error: unknown) => this.owner.report(error))),
    );
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      closed.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!inTime) {
      await Promise.all(
        [...this.running.values()].map(async (r) => {
          try {
            await r.job.moveToWait(r.token);
          } catch (error) {
            this.owner.report(error);
          }
          r.abandon(new HandedBack());
        }),
      );
      await closed;
    }
    await Promise.all(workers.map(({ connection }) => this.owner.closeConnection(connection)));
    this.owner.forget(this);
  }
}
