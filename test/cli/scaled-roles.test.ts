import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { generateSecrets } from '../../src/config/secrets.ts';
import { cleanEnv, freePort, runWoolly, type Server, startWoolly } from '../support/cli.ts';
import { adminUrl, scaled } from '../support/db.ts';

const redisUrl =
  process.env.REDIS_URL ??
  (process.env.REDIS_HOST
    ? `redis://${process.env.REDIS_HOST}:${process.env.REDIS_PORT ?? 6379}`
    : undefined);
const skip =
  scaled && redisUrl
    ? false
    : 'needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL): runs on the scaled shape';

/**
 * The roles run with Woolly's real key names (BullMQ's `woolly` prefix, its job schedulers…), so
 * they get a Redis database of their own, emptied afterwards, instead of the suites' shared one.
 */
const REDIS_DB = '14';

/** The scaled shape as an operator runs it: migrate once, then separate web and worker processes. */
describe('separate roles on PostgreSQL + Redis', { skip }, () => {
  const name = `woolly_roles_${process.pid}`;
  let admin: postgres.Sql;
  let env: Record<string, string>;
  const servers: Server[] = [];

  before(async () => {
    admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(adminUrl());
    url.pathname = `/${name}`;
    const { OTP_SECRET: _unused, ...secrets } = generateSecrets();
    env = cleanEnv({
      DATABASE_URL: url.toString(),
      REDIS_URL: redisUrl!,
      REDIS_DB,
      LOCAL_DOMAIN: 'scaled.example',
      ...secrets,
    });
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
    const redis = new Redis(redisUrl!, { db: Number(REDIS_DB), lazyConnect: true });
    await redis.connect();
    await redis.flushdb();
    redis.disconnect();
  });

  it('refuses to start without a secret, naming it', async () => {
    const { SECRET_KEY_BASE: _dropped, ...rest } = env;
    const r = await runWoolly(['web'], { env: { ...rest, PORT: String(await freePort()) } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^woolly: SECRET_KEY_BASE is not set/m);
  });

  it('refuses to serve a schema that is behind, pointing at `woolly db migrate`', async () => {
    const r = await runWoolly(['web'], { env: { ...env, PORT: String(await freePort()) } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /woolly db migrate/);
  });

  it('migrates safely from several processes at once', async () => {
    const results = await Promise.all([
      runWoolly(['db', 'migrate'], { env }),
      runWoolly(['db', 'migrate'], { env }),
      runWoolly(['db', 'migrate'], { env }),
    ]);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.equal(
      results.filter((r) => /Applied/.test(r.stdout)).length,
      1,
      'exactly one process applied the migrations',
    );
    const status = await runWoolly(['db', 'status'], { env });
    assert.match(status.stdout, /state:\s+up to date/);
  });

  it('runs two web processes and a worker against the same PostgreSQL and Redis', async () => {
    const webA = await startWoolly(['web'], { ...env, PORT: String(await freePort()) });
    servers.push(webA);
    const webB = await startWoolly(['web'], { ...env, PORT: String(await freePort()) });
    servers.push(webB);
    const worker = await startWoolly(['worker', '--queues', 'default,scheduler', '--concurrency', '2'], {
      ...env,
      PORT: '1',
    });
    servers.push(worker);
    for (const web of [webA, webB]) {
      const instance = (await (await fetch(`${web.url}/api/v2/instance`)).json()) as { domain: string };
      assert.equal(instance.domain, 'scaled.example');
    }
    const queues = await runWoolly(['queues'], { env });
    assert.equal(queues.code, 0, queues.stderr);
    assert.match(queues.stdout, /scheduler/);
    for (const s of servers.splice(0)) assert.equal(await s.stop(), 0, s.output());
  });
});
