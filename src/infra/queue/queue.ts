/**
 * Named job queues (DESIGN.md §2). The embedded shape keeps jobs durably in the database; the scaled
 * shape uses BullMQ on Redis. Both implement this interface and pass one contract suite
 * (test/infra/queue.test.ts).
 */
export const QUEUE_NAMES = ['default', 'push', 'pull', 'ingress', 'mailers', 'scheduler'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export function isQueueName(value: string): value is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(value);
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface EnqueueOptions {
  /**
   * De-duplicates: while a job with this id exists in the queue (waiting, delayed, active, kept
   * completed or dead), enqueueing the same id again adds nothing and returns the existing job's id.
   */
  jobId?: string;
  /** Run no earlier than this many milliseconds from now. */
  delayMs?: number;
  /** Total tries including the first (default 1). */
  attempts?: number;
  /** Base of the exponential back-off between tries: base × 2^(try−1) ms (default 1000). */
  backoffMs?: number;
}

export interface EnqueueResult {
  id: string;
  /** False when an existing job with the same jobId was found instead. */
  added: boolean;
}

export interface Job {
  id: string;
  queue: QueueName;
  name: string;
  data: JsonValue;
  /** Which try this is, from 1. */
  attempt: number;
  maxAttempts: number;
}

export type JobHandler = (job: Job) => Promise<void>;

export interface DeadJob {
  id: string;
  queue: QueueName;
  name: string;
  data: JsonValue;
  attempts: number;
  error: string | null;
  failedAt: Date | null;
}

export type JobState = 'waiting' | 'delayed' | 'active' | 'completed' | 'dead';
export type QueueCounts = Record<QueueName, Record<JobState, number>>;

export interface PeriodicJob {
  queue: QueueName;
  name: string;
  everyMs: number;
  data?: JsonValue;
}

export interface WorkerOptions {
  /** Jobs run at once per queue. */
  concurrency: number;
}

export interface Worker {
  /**
   * Stops taking jobs and waits up to `timeoutMs` for running ones to finish; jobs still running then
   * are handed back to the queue (to run again, on this or another worker) instead of being lost.
   */
  close(timeoutMs?: number): Promise<void>;
}

export interface QueueBackend {
  readonly kind: 'database' | 'bullmq';
  enqueue(queue: QueueName, name: string, data: JsonValue, options?: EnqueueOptions): Promise<EnqueueResult>;
  /** Consumes the given queues, calling `handler` for each job; a throw is a failed try. */
  work(queues: readonly QueueName[], handler: JobHandler, options: WorkerOptions): Worker;
  /**
   * Declares a periodic job: it is enqueued once per period however many processes declare it
   * (every worker may call this at start; the period's slot de-duplicates).
   */
  schedule(job: PeriodicJob): Promise<void>;
  counts(): Promise<QueueCounts>;
  dead(queue: QueueName, limit?: number): Promise<DeadJob[]>;
  /** Moves dead jobs (all of the queue's, or one) back to waiting with fresh attempts; returns how many. */
  retryDead(queue: QueueName, id?: string): Promise<number>;
  /** Deletes dead jobs (all of the queue's, or one); returns how many. */
  clearDead(queue: QueueName, id?: string): Promise<number>;
  /**
   * Deletes completed jobs kept longer than an hour or beyond the newest 1,000 per queue; returns how
   * many. The scheduler's housekeeping job calls it; BullMQ does this itself (removeOnComplete), so
   * there it does nothing.
   */
  prune(): Promise<number>;
  /** Closes the workers this backend started (waiting for their running jobs) and its connections. */
  close(): Promise<void>;
}
