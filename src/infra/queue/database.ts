import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from '../../db/database.ts';
import { isId, newId } from '../../db/ids.ts';
import {
  type DeadJob,
  type EnqueueOptions,
  type EnqueueResult,
  type Job,
  type JobHandler,
  type JobState,
  type JsonValue,
  type PeriodicJob,
  QUEUE_NAMES,
  type QueueBackend,
  type QueueCounts,
  type QueueName,
  type Worker,
  type WorkerOptions,
} from './queue.ts';

export interface DatabaseQueueOptions {
  /** How often an idle worker looks for jobs other processes enqueued (default 1000 ms). */
  pollIntervalMs?: number;
  /** How long a fetched job stays leased to its worker; renewed every third of it while it runs. */
  leaseMs?: number;
  /** Written to `locked_by` (with a per-fetch suffix); default `${hostname}:${pid}:${random}`. */
  workerId?: string;
  /** Errors of the queue machinery itself (not of handlers, which fail their job). */
  onError?: (error: unknown) => void;
}

/** Completed jobs are kept this long, and at most this many per queue (as BullMQ's removeOnComplete). */
const KEEP_COMPLETED_MS = 60 * 60 * 1000;
const KEEP_COMPLETED_COUNT = 1000;
const PRUNE_EVERY_MS = 60 * 1000;
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/** A marker in last_error: a job whose lease expired twice in a row is given up (like BullMQ's maxStalledCount 1). */
const LEASE_EXPIRED = 'lease expired';

/** The queue names as an SQL list; they are fixed identifiers, so the planner can use the (queue, state) index. */
const ALL_QUEUES_SQL = QUEUE_NAMES.map((q) => `'${q}'`).join(', ');

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/** A wake-up that is not lost when it arrives while the loop is busy rather than asleep. */
class Signal {
  private pending = false;
  private wakeUp: (() => void) | undefined;

  wake(): void {
    if (this.wakeUp === undefined) {
      this.pending = true;
      return;
    }
    const fn = this.wakeUp;
    this.wakeUp = undefined;
    fn();
  }

  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/**
 * In-process wake-ups, shared by every DatabaseQueue on the same Database object: a job enqueued in
 * this process starts without waiting for the next poll. Other processes find it by polling.
 */
const listeners = new WeakMap<Database, Map<QueueName, Set<Signal>>>();

function listenersOf(database: Database): Map<QueueName, Set<Signal>> {
  let map = listeners.get(database);
  if (map === undefined) {
    map = new Map();
    listeners.set(database, map);
  }
  return map;
}

interface FetchedRow {
  id: string;
  name: string;
  data: string;
  attempts: number;
  max_attempts: number;
}

interface RunningJob {
  token: string;
  queue: QueueName;
  done: Promise<void>;
}

/**
 * The embedded shape's job queue: jobs are rows of `jobs` (src/db/schema/jobs.ts), so they survive a
 * restart with the rest of the data. The same SQL runs on PGlite (one process) and on PostgreSQL
 * with any number of worker processes:
 *
 * - a worker claims one due job at a time with `FOR UPDATE SKIP LOCKED` and holds it by a lease
 *   (`locked_by` = a token unique to this fetch, `locked_until`), renewed while the handler runs;
 * - a lease that runs out (its process died) is reclaimed back to waiting by any worker; a job whose
 *   lease runs out twice in a row is moved to dead instead, so a job that kills its process cannot
 *   take the workers down forever;
 * - failures go back to waiting after base × 2^(try−1) ms, or to dead when no try is left;
 * - completed jobs are pruned: older than one hour, or beyond the newest 1,000 per queue.
 *
 * Time is the database's clock (`now()`), so processes with skewed clocks agree on what is due.
 */
export class DatabaseQueue implements QueueBackend {
  readonly kind = 'database' as const;
  readonly pollIntervalMs: number;
  readonly leaseMs: number;
  readonly workerId: string;
  private readonly database: Database;
  private readonly onError: (error: unknown) => void;
  private readonly workers = new Set<DatabaseWorker>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private lastReclaim = 0;
  private lastPrune = 0;
  private fetchSeq = 0;
  private closed = false;

  constructor(database: Database, options: DatabaseQueueOptions = {}) {
    this.database = database;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.leaseMs = options.leaseMs ?? 5 * 60 * 1000;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.onError = options.onError ?? ((error) => console.error('[woolly queue]', error));
  }

  async enqueue(
    queue: QueueName,
    name: string,
    data: JsonValue,
    options: EnqueueOptions = {},
  ): Promise<EnqueueResult> {
    if (this.closed) throw new Error('the queue is closed');
    const attempts = Math.max(1, Math.floor(options.attempts ?? 1));
    const backoffMs = Math.max(0, Math.floor(options.backoffMs ?? 1000));
    const delayMs = Math.max(0, options.delayMs ?? 0);
    const key = options.jobId ?? null;
    // A job with the same key can vanish between the INSERT and the SELECT (pruned or cleared): then
    // the key is free again and the next INSERT takes it.
    for (let i = 0; i < 3; i++) {
      const inserted = await this.database.query<{ id: string }>(
        `INSERT INTO jobs (id, queue, name, data, key, state, attempts, max_attempts, backoff_ms, run_at)
         VALUES ($1::bigint, $2, $3, $4::text::jsonb, $5, 'waiting', 0, $6::int, $7::int,
                 now() + $8::float8 * interval '1 millisecond')
         ON CONFLICT (queue, key) DO NOTHING
         RETURNING id::text AS id`,
        [newId(), queue, name, JSON.stringify(data), key, attempts, backoffMs, delayMs],
      );
      const row = inserted[0];
      if (row !== undefined) {
        this.notify(queue);
        return { id: row.id, added: true };
      }
      const existing = await this.database.query<{ id: string }>(
        'SELECT id::text AS id FROM jobs WHERE queue = $1 AND key = $2',
        [queue, key],
      );
      if (existing[0] !== undefined) return { id: existing[0].id, added: false };
    }
    throw new Error(`could not enqueue ${queue}/${name}: the job id ${key} kept conflicting`);
  }

  work(queues: readonly QueueName[], handler: JobHandler, options: WorkerOptions): Worker {
    if (this.closed) throw new Error('the queue is closed');
    const worker = new DatabaseWorker(
      this,
      [...new Set(queues)],
      handler,
      Math.max(1, Math.floor(options.concurrency)),
    );
    this.workers.add(worker);
    worker.start();
    return worker;
  }

  /**
   * Every process that declares the job runs a timer aligned to the period's boundaries; each tick
   * enqueues `periodic:<name>:<slot>`, and the key makes the slot's job unique across processes.
   * The current slot is enqueued at once, as BullMQ's job schedulers do.
   */
  async schedule(job: PeriodicJob): Promise<void> {
    if (this.closed) throw new Error('the queue is closed');
    const id = `${job.queue}/${job.name}`;
    const previous = this.timers.get(id);
    if (previous !== undefined) clearTimeout(previous);
    this.timers.delete(id);
    const everyMs = Math.max(1, Math.floor(job.everyMs));
    let lastSlot = -1;
    const tick = async (): Promise<void> => {
      const slot = Math.floor(Date.now() / everyMs);
      if (slot !== lastSlot) {
        lastSlot = slot;
        await this.enqueue(job.queue, job.name, job.data ?? null, { jobId: `periodic:${job.name}:${slot}` });
      }
    };
    const arm = (): void => {
      if (this.closed) return;
      // +1 ms lands inside the next slot; the cap keeps setTimeout from overflowing (~24.8 days),
      // after which the tick finds the same slot and re-arms.
      const delay = Math.min((Math.floor(Date.now() / everyMs) + 1) * everyMs - Date.now() + 1, 2 ** 31 - 1);
      const timer = setTimeout(() => {
        tick()
          .catch((error) => this.onError(error))
          .finally(() => {
            if (this.timers.get(id) === timer) arm();
          });
      }, delay);
      timer.unref();
      this.timers.set(id, timer);
    };
    arm();
    await tick();
  }

  async counts(): Promise<QueueCounts> {
    const counts = Object.fromEntries(
      QUEUE_NAMES.map((q) => [q, { waiting: 0, delayed: 0, active: 0, completed: 0, dead: 0 }]),
    ) as QueueCounts;
    const rows = await this.database.query<{ queue: string; state: string; n: number }>(
      `SELECT queue, CASE WHEN state = 'waiting' AND run_at > now() THEN 'delayed' ELSE state END AS state,
              count(*)::int AS n
       FROM jobs GROUP BY 1, 2`,
    );
    for (const row of rows) {
      const perQueue = counts[row.queue as QueueName] as Record<JobState, number> | undefined;
      if (perQueue !== undefined && row.state in perQueue) perQueue[row.state as JobState] += row.n;
    }
    return counts;
  }

  async dead(queue: QueueName, limit = 50): Promise<DeadJob[]> {
    const rows = await this.database.query<{
      id: string;
      name: string;
      data: string;
      attempts: number;
      last_error: string | null;
      failed_ms: number | null;
    }>(
      `SELECT id::text AS id, name, data::text AS data, attempts, last_error,
              (extract(epoch FROM finished_at) * 1000)::float8 AS failed_ms
       FROM jobs WHERE queue = $1 AND state = 'dead'
       ORDER BY finished_at DESC NULLS LAST, id DESC LIMIT $2::int`,
      [queue, Math.max(0, Math.floor(limit))],
    );
    return rows.map((row) => ({
      id: row.id,
      queue,
      name: row.name,
      data: JSON.parse(row.data) as JsonValue,
      attempts: row.attempts,
      error: row.last_error,
      failedAt: row.failed_ms === null ? null : new Date(row.failed_ms),
    }));
  }

  async retryDead(queue: QueueName, id?: string): Promise<number> {
    if (id !== undefined && !isId(id)) return 0;
    const rows = await this.database.query<{ n: number }>(
      `WITH moved AS (
         UPDATE jobs SET state = 'waiting', attempts = 0, run_at = now(), finished_at = NULL,
                         locked_by = NULL, locked_until = NULL
         WHERE queue = $1 AND state = 'dead' ${id === undefined ? '' : 'AND id = $2::bigint'}
         RETURNING 1)
       SELECT count(*)::int AS n FROM moved`,
      id === undefined ? [queue] : [queue, id],
    );
    const n = rows[0]?.n ?? 0;
    if (n > 0) this.notify(queue);
    return n;
  }

  async clearDead(queue: QueueName, id?: string): Promise<number> {
    if (id !== undefined && !isId(id)) return 0;
    const rows = await this.database.query<{ n: number }>(
      `WITH gone AS (
         DELETE FROM jobs WHERE queue = $1 AND state = 'dead' ${id === undefined ? '' : 'AND id = $2::bigint'}
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      id === undefined ? [queue] : [queue, id],
    );
    return rows[0]?.n ?? 0;
  }

  /** Deletes completed jobs older than an hour or beyond the newest 1,000 per queue; returns how many. */
  async prune(): Promise<number> {
    const rows = await this.database.query<{ n: number }>(
      `WITH gone AS (
         DELETE FROM jobs WHERE id IN (
           SELECT id FROM (
             SELECT id, finished_at,
                    row_number() OVER (PARTITION BY queue ORDER BY finished_at DESC, id DESC) AS rn
             FROM jobs WHERE queue IN (${ALL_QUEUES_SQL}) AND state = 'completed'
           ) c
           WHERE rn > $1::int OR finished_at < now() - $2::float8 * interval '1 millisecond')
         RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [KEEP_COMPLETED_COUNT, KEEP_COMPLETED_MS],
    );
    return rows[0]?.n ?? 0;
  }

  /** Closes the workers (waiting for running jobs up to the default timeout) and the periodic timers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.workers].map((w) => w.close()));
  }

  // --- used by DatabaseWorker -------------------------------------------------------------------

  /** @internal */
  report(error: unknown): void {
    try {
      this.onError(error);
    } catch {
      // an error reporter that throws must not stop the worker
    }
  }

  /** @internal */
  forget(worker: DatabaseWorker): void {
    this.workers.delete(worker);
  }

  /** @internal */
  listen(queue: QueueName, signal: Signal): () => void {
    const map = listenersOf(this.database);
    let set = map.get(queue);
    if (set === undefined) {
      set = new Set();
      map.set(queue, set);
    }
    const current = set;
    current.add(signal);
    return () => {
      current.delete(signal);
    };
  }

  /** @internal */
  notify(queue: QueueName): void {
    for (const signal of listenersOf(this.database).get(queue) ?? []) signal.wake();
  }

  /** @internal Claims the next due job of `queue`, or returns undefined. */
  async fetch(queue: QueueName): Promise<{ job: Job; token: string } | undefined> {
    this.fetchSeq = (this.fetchSeq + 1) % Number.MAX_SAFE_INTEGER;
    const token = `${this.workerId}/${this.fetchSeq}`;
    const rows = await this.database.query<FetchedRow>(
      `UPDATE jobs SET state = 'active', attempts = attempts + 1, locked_by = $2,
                       locked_until = now() + $3::float8 * interval '1 millisecond'
       WHERE id = (
         SELECT id FROM jobs
         WHERE queue = $1 AND state = 'waiting' AND run_at <= now()
         ORDER BY run_at, id
         LIMIT 1
         FOR UPDATE SKIP LOCKED)
       RETURNING id::text AS id, name, data::text AS data, attempts, max_attempts`,
      [queue, token, this.leaseMs],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      token,
      job: {
        id: row.id,
        queue,
        name: row.name,
        data: JSON.parse(row.data) as JsonValue,
        attempt: row.attempts,
        maxAttempts: row.max_attempts,
      },
    };
  }

  /** @internal Milliseconds until the queue's earliest waiting job is due (undefined: none waiting). */
  async nextDueIn(queue: QueueName): Promise<number | undefined> {
    const rows = await this.database.query<{ ms: number | null }>(
      `SELECT (extract(epoch FROM min(run_at) - now()) * 1000)::float8 AS ms
       FROM jobs WHERE queue = $1 AND state = 'waiting'`,
      [queue],
    );
    const ms = rows[0]?.ms;
    return ms === null || ms === undefined ? undefined : ms;
  }

  /** @internal */
  async complete(id: string, token: string): Promise<void> {
    await this.database.query(
      `UPDATE jobs SET state = 'completed', finished_at = now(), locked_by = NULL, locked_until = NULL
       WHERE id = $1::bigint AND locked_by = $2 AND state = 'active'`,
      [id, token],
    );
  }

  /** @internal A failed try: back to waiting after the back-off, or dead when it was the last. */
  async fail(id: string, token: string, message: string): Promise<void> {
    await this.database.query(
      `UPDATE jobs SET
         state = CASE WHEN attempts < max_attempts THEN 'waiting' ELSE 'dead' END,
         run_at = CASE WHEN attempts < max_attempts
                       THEN now() + backoff_ms * power(2, greatest(attempts - 1, 0)) * interval '1 millisecond'
                       ELSE run_at END,
         finished_at = CASE WHEN attempts < max_attempts THEN NULL ELSE now() END,
         last_error = $3, locked_by = NULL, locked_until = NULL
       WHERE id = $1::bigint AND locked_by = $2 AND state = 'active'`,
      [id, token, message],
    );
  }

  /** @internal Extends the leases of running jobs. */
  async renew(tokens: readonly string[]): Promise<void> {
    if (tokens.length === 0) return;
    await this.database.query(
      `UPDATE jobs SET locked_until = now() + $2::float8 * interval '1 millisecond'
       WHERE state = 'active' AND locked_by IN (SELECT jsonb_array_elements_text($1::text::jsonb))`,
      [JSON.stringify(tokens), this.leaseMs],
    );
  }

  /** @internal Gives running jobs back to the queue, this try not counted (graceful shutdown). */
  async handBack(tokens: readonly string[], queues: Iterable<QueueName>): Promise<void> {
    if (tokens.length === 0) return;
    await this.database.query(
      `UPDATE jobs SET state = 'waiting', attempts = greatest(attempts - 1, 0), run_at = now(),
                       locked_by = NULL, locked_until = NULL
       WHERE state = 'active' AND locked_by IN (SELECT jsonb_array_elements_text($1::text::jsonb))`,
      [JSON.stringify(tokens)],
    );
    for (const queue of queues) this.notify(queue);
  }

  /**
   * @internal Housekeeping from the worker loops, cheap enough to call every iteration: reclaims
   * expired leases (every half lease, at most every 30 s) and prunes completed jobs (once a minute).
   */
  async maintain(): Promise<void> {
    const now = Date.now();
    if (now - this.lastReclaim >= Math.min(30_000, this.leaseMs / 2)) {
      this.lastReclaim = now;
      const rows = await this.database.query<{ queue: QueueName; state: string }>(
        `UPDATE jobs SET
           state = CASE WHEN last_error LIKE '${LEASE_EXPIRED}%' THEN 'dead' ELSE 'waiting' END,
           attempts = CASE WHEN last_error LIKE '${LEASE_EXPIRED}%' THEN attempts ELSE greatest(attempts - 1, 0) END,
           finished_at = CASE WHEN last_error LIKE '${LEASE_EXPIRED}%' THEN now() ELSE NULL END,
           last_error = '${LEASE_EXPIRED}: ' || coalesce(locked_by, 'a worker') || ' stopped renewing it',
           run_at = now(), locked_by = NULL, locked_until = NULL
         WHERE queue IN (${ALL_QUEUES_SQL}) AND state = 'active' AND locked_until < now()
         RETURNING queue, state`,
      );
      for (const queue of new Set(rows.filter((r) => r.state === 'waiting').map((r) => r.queue)))
        this.notify(queue);
    }
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      await this.prune();
    }
  }
}

class DatabaseWorker implements Worker {
  private readonly owner: DatabaseQueue;
  private readonly queues: QueueName[];
  private readonly handler: JobHandler;
  private readonly concurrency: number;
  private readonly running = new Map<string, RunningJob>();
  private readonly signals = new Map<QueueName, Signal>();
  private readonly unlisten: (() => void)[] = [];
  private loops: Promise<void>[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  private stopping = false;
  private closing: Promise<void> | undefined;

  constructor(owner: DatabaseQueue, queues: QueueName[], handler: JobHandler, concurrency: number) {
    this.owner = owner;
    this.queues = queues;
    this.handler = handler;
    this.concurrency = concurrency;
  }

  start(): void {
    for (const queue of this.queues) {
      const signal = new Signal();
      this.signals.set(queue, signal);
      this.unlisten.push(this.owner.listen(queue, signal));
    }
    this.heartbeat = setInterval(
      () => {
        this.owner.renew([...this.running.keys()]).catch((error) => this.owner.report(error));
      },
      Math.max(10, Math.floor(this.owner.leaseMs / 3)),
    );
    this.heartbeat.unref();
    this.loops = this.queues.map((queue) => this.loop(queue, this.signals.get(queue)!));
  }

  private async loop(queue: QueueName, signal: Signal): Promise<void> {
    let active = 0;
    while (!this.stopping) {
      let waitMs = this.owner.pollIntervalMs;
      try {
        await this.owner.maintain();
        while (!this.stopping && active < this.concurrency) {
          const fetched = await this.owner.fetch(queue);
          if (fetched === undefined) break;
          active++;
          const done = this.run(fetched.job, fetched.token).finally(() => {
            active--;
            this.running.delete(fetched.token);
            signal.wake();
          });
          this.running.set(fetched.token, { token: fetched.token, queue, done });
        }
        if (this.stopping) break;
        if (active >= this.concurrency) {
          // Full: a finishing job wakes the loop; the poll interval still paces maintenance.
        } else {
          const due = await this.owner.nextDueIn(queue);
          if (due !== undefined) waitMs = Math.min(waitMs, Math.max(0, Math.ceil(due)));
        }
      } catch (error) {
        this.owner.report(error);
      }
      if (this.stopping) break;
      await signal.wait(waitMs);
    }
  }

  private async run(job: Job, token: string): Promise<void> {
    let failure: { error: unknown } | undefined;
    try {
      await this.handler(job);
    } catch (error) {
      failure = { error };
    }
    try {
      // Both updates check the lease token: a job handed back or reclaimed meanwhile is left alone.
      if (failure === undefined) await this.owner.complete(job.id, token);
      else await this.owner.fail(job.id, token, errorMessage(failure.error));
    } catch (error) {
      // The lease runs out and the job is reclaimed: it runs again rather than being lost.
      this.owner.report(error);
    }
  }

  close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    this.closing ??= this.shutdown(timeoutMs);
    return this.closing;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.stopping = true;
    for (const signal of this.signals.values()) signal.wake();
    await Promise.all(this.loops);
    for (const off of this.unlisten) off();
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.all([...this.running.values()].map((r) => r.done)).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!finished) {
      const left = [...this.running.values()];
      try {
        await this.owner.handBack(
          left.map((r) => r.token),
          new Set(left.map((r) => r.queue)),
        );
      } catch (error) {
        // Their leases run out and another worker reclaims them.
        this.owner.report(error);
      }
    }
    clearInterval(this.heartbeat);
    this.owner.forget(this);
  }
}
