import { Redis } from 'ioredis';
import postgres from 'postgres';
import { generateSecrets } from '../../src/config/secrets.ts';
import { cleanEnv, type Server } from './cli.ts';
import { adminUrl, scaled } from './db.ts';

/**
 * A scaled deployment for tests that run `woolly web|streaming|worker` as separate processes, the
 * way an operator does: a scratch PostgreSQL database of its own and a Redis database of its own
 * (the roles use Woolly's real key names — BullMQ's `woolly` prefix, its job schedulers — so they
 * must not share the suites' database). Both are dropped/emptied by `close()`. Pub/sub channels
 * are global to a Redis server whatever the database: each test file using this owns its channels.
 */
const redisUrl =
  process.env.REDIS_URL ??
  (process.env.REDIS_HOST
    ? `redis://${process.env.REDIS_HOST}:${process.env.REDIS_PORT ?? 6379}`
    : undefined);

/** Why a deployment cannot run here (the embedded test run), or false when it can. */
export const deploymentSkip: string | false =
  scaled && redisUrl
    ? false
    : 'needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL): runs on the scaled shape';

export interface Deployment {
  /** The roles' environment: DATABASE_URL, REDIS_URL, REDIS_DB, LOCAL_DOMAIN, fresh secrets. */
  env: Record<string, string>;
  /** Servers started by the test, stopped by `close()`. */
  servers: Server[];
  close(): Promise<void>;
}

/**
 * Creates the database `name` (unmigrated) and the environment around it; `redisDb` must be
 * distinct per test file so that files running at the same time do not empty each other's.
 */
export async function createDeployment(
  name: string,
  redisDb: number,
  extraEnv: Record<string, string> = {},
): Promise<Deployment> {
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  const { OTP_SECRET: _unused, ...secrets } = generateSecrets();
  const servers: Server[] = [];
  return {
    env: cleanEnv({
      DATABASE_URL: url.toString(),
      REDIS_URL: redisUrl!,
      REDIS_DB: String(redisDb),
      LOCAL_DOMAIN: 'scaled.example',
      ...secrets,
      ...extraEnv,
    }),
    servers,
    async close() {
      await Promise.all(servers.map((s) => s.stop()));
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
      const redis = new Redis(redisUrl!, { db: redisDb, lazyConnect: true });
      await redis.connect();
      await redis.flushdb();
      redis.disconnect();
    },
  };
}
