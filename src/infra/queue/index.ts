import type { Config } from '../../config/config.ts';
import type { Database } from '../../db/database.ts';
import { BullMqQueue } from './bullmq.ts';
import { DatabaseQueue } from './database.ts';
import type { QueueBackend } from './queue.ts';

export { BullMqQueue, type BullMqQueueOptions } from './bullmq.ts';
export { DatabaseQueue, type DatabaseQueueOptions } from './database.ts';
export type {
  DeadJob,
  EnqueueOptions,
  EnqueueResult,
  Job,
  JobHandler,
  JobState,
  JsonValue,
  PeriodicJob,
  QueueBackend,
  QueueCounts,
  QueueName,
  Worker,
  WorkerOptions,
} from './queue.ts';
export { isQueueName, QUEUE_NAMES } from './queue.ts';

/**
 * BullMQ on Redis when Redis is configured (the scaled shape), otherwise the durable queue in the
 * database (DESIGN.md §1). BullMqQueue loads bullmq and ioredis on first use, so the embedded shape
 * never pays for them.
 */
export function createQueueBackend(
  config: Config,
  database: Database,
  options: { prefix?: string } = {},
): QueueBackend {
  if (config.redis !== undefined) return new BullMqQueue(config.redis, { prefix: options.prefix });
  return new DatabaseQueue(database);
}
