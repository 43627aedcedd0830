import type { Logger } from 'pino';
import type { Config, Secrets } from '../config/config.ts';
import type { Database } from '../db/database.ts';
import type { Cache } from '../infra/cache/cache.ts';
import type { FeedStore } from '../infra/feeds/feed-store.ts';
import type { Mailer } from '../infra/mail/mailer.ts';
import type { PubSub } from '../infra/pubsub/pubsub.ts';
import type { QueueBackend } from '../infra/queue/queue.ts';
import type { Storage } from '../infra/storage/storage.ts';
import type { StreamEvents } from './streaming/events.ts';

/**
 * Everything the domain layer needs from below, built once per process by the role that runs
 * (src/cli/roles) and passed down. Domain functions take it as their first argument; nothing in the
 * domain layer opens a connection or reads the environment itself.
 */
export interface Context {
  config: Config;
  secrets: Secrets;
  database: Database;
  queue: QueueBackend;
  pubsub: PubSub;
  cache: Cache;
  storage: Storage;
  mailer: Mailer;
  /** Home feeds: the database in the embedded shape, Redis sorted sets in the scaled one. */
  feeds: FeedStore;
  /** Streaming events (issue 5): what the domain publishes for the streaming API, on `pubsub`. */
  streams: StreamEvents;
  log: Logger;
}
