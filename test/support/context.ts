import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { loadConfig } from '../../src/config/config.ts';
import { generateSecrets } from '../../src/config/secrets.ts';
import type { Context } from '../../src/domain/context.ts';
import { createCache } from '../../src/infra/cache/index.ts';
import { createFeedStore } from '../../src/infra/feeds/feed-store.ts';
import { createMailer } from '../../src/infra/mail/index.ts';
import { createPubSub } from '../../src/infra/pubsub/index.ts';
import { createQueueBackend } from '../../src/infra/queue/index.ts';
import { createStorage } from '../../src/infra/storage/index.ts';
import { withStreams } from '../../src/streaming/publisher.ts';
import { createTestDatabase } from './db.ts';

export interface TestContextOptions {
  /** Environment variables for loadConfig, over the test defaults (LOCAL_DOMAIN=woolly.test, …). */
  env?: Record<string, string>;
  /** A logger to use instead of the silent one (to assert on log lines). */
  log?: Logger;
}

export type TestContext = Context & { close(): Promise<void> };

/**
 * A complete Context for one test file, of the shape under test (DESIGN.md §6): a fresh migrated
 * database (createTestDatabase), a temporary WOOLLY_DATA_DIR for media and mail, fresh secrets, and
 * the adapters from their factories. When REDIS_URL is set, cache, pub/sub and queues run on that
 * Redis under a random key prefix, so test files never see each other's keys.
 */
export async function createTestContext(overrides: TestContextOptions = {}): Promise<TestContext> {
  const dataDir = mkdtempSync(join(tmpdir(), 'woolly-test-'));
  const testDb = await createTestDatabase();
  const redisUrl = process.env.REDIS_URL;
  const env: Record<string, string> = {
    LOCAL_DOMAIN: 'woolly.test',
    WOOLLY_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    ...(testDb.url ? { DATABASE_URL: testDb.url } : {}),
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    ...overrides.env,
  };
  const opened: { close(): Promise<void> }[] = [];
  try {
    const config = loadConfig({ env, readFiles: false });
    const suffix = randomBytes(6).toString('hex');
    const keyPrefix = `woolly-test-${suffix}:`;
    const queue = createQueueBackend(config, testDb.database, { prefix: `woolly-test-${suffix}` });
    opened.push(queue);
    const pubsub = await createPubSub(config.redis, { keyPrefix });
    opened.push(pubsub);
    const cache = await createCache(config.redis, { keyPrefix });
    opened.push(cache);
    const storage = await createStorage(config.storage, config.baseUrl);
    opened.push(storage);
    const mailer = await createMailer(config.mail);
    opened.push(mailer);
    const feeds = await createFeedStore(config.redis, testDb.database, { keyPrefix });
    opened.push(feeds);
    let closed = false;
    return withStreams({
      config,
      secrets: generateSecrets(),
      database: testDb.database,
      queue,
      pubsub,
      cache,
      storage,
      mailer,
      feeds,
      log: overrides.log ?? pino({ level: 'silent' }),
      async close() {
        if (closed) return;
        closed = true;
        await closeAll(opened);
        await testDb.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    });
  } catch (error) {
    await closeAll(opened);
    await testDb.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function closeAll(adapters: { close(): Promise<void> }[]): Promise<void> {
  const results = await Promise.allSettled(adapters.reverse().map((a) => a.close()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
