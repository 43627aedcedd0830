import type { Logger } from 'pino';
import type { Config, Secrets } from '../../config/config.ts';
import type { Database } from '../../db/database.ts';
import type { Context } from '../../domain/context.ts';
import { createCache } from '../../infra/cache/index.ts';
import { createFeedStore } from '../../infra/feeds/feed-store.ts';
import { createMailer } from '../../infra/mail/index.ts';
import { createPubSub } from '../../infra/pubsub/index.ts';
import { createQueueBackend } from '../../infra/queue/index.ts';
import { createStorage } from '../../infra/storage/index.ts';
import { withStreams } from '../../streaming/publisher.ts';

export interface RunningContext extends Context {
  /** Closes the adapters (not the database, which its opener closes). */
  closeAdapters(): Promise<void>;
}

/** Builds the adapters the configuration selects (DESIGN.md §1) around an open database. */
export async function buildContext(
  config: Config,
  secrets: Secrets,
  database: Database,
  log: Logger,
): Promise<RunningContext> {
  const queue = createQueueBackend(config, database);
  const [pubsub, cache, storage] = await Promise.all([
    createPubSub(config.redis),
    createCache(config.redis),
    createStorage(config.storage, config.baseUrl),
  ]);
  const mailer = await createMailer(config.mail);
  const feeds = await createFeedStore(config.redis, database);
  return withStreams({
    config,
    secrets,
    database,
    queue,
    pubsub,
    cache,
    storage,
    mailer,
    feeds,
    log,
    async closeAdapters() {
      const results = await Promise.allSettled([
        queue.close(),
        pubsub.close(),
        cache.close(),
        storage.close(),
        mailer.close(),
        feeds.close(),
      ]);
      for (const r of results)
        if (r.status === 'rejected') log.warn({ err: r.reason }, 'closing an adapter failed');
    },
  });
}
