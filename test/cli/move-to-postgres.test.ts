import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import postgres from 'postgres';
import { parseEnvText } from '../../src/config/env-files.ts';
import { cleanEnv, freePort, runWoolly, startWoolly, tempDir } from '../support/cli.ts';
import { adminUrl, scaled } from '../support/db.ts';

const hasPsql = spawnSync('psql', ['--version']).status === 0;
const skip = !scaled
  ? 'needs a PostgreSQL server (DATABASE_URL): runs on the scaled shape'
  : !hasPsql
    ? 'psql is not installed'
    : false;

/** docs/moving-to-postgresql.md, performed: embedded instance → `woolly db export` → psql → scaled. */
describe('moving an embedded instance to PostgreSQL', { skip }, () => {
  const name = `woolly_move_${process.pid}`;
  const admin = skip ? undefined : postgres(adminUrl(), { max: 1, onnotice: () => {} });
  after(async () => {
    await admin?.unsafe(`drop database if exists ${name} with (force)`);
    await admin?.end();
  });

  it('keeps the data and runs on PostgreSQL afterwards', async () => {
    const work = tempDir();
    const dataDir = join(work, 'data');
    const embedded = cleanEnv({ WOOLLY_DATA_DIR: dataDir, PORT: String(await freePort()) });

    // 1. An embedded instance with some state of its own.
    const first = await startWoolly(['start'], embedded);
    assert.equal(
      (await runWoolly(['settings', 'set', 'site_title', 'Moved Woolly'], { env: embedded })).code,
      0,
    );
    assert.equal(await first.stop(), 0);

    // 2. Export, and load into an empty PostgreSQL database with psql.
    const dump = await runWoolly(['db', 'export'], { env: embedded });
    assert.equal(dump.code, 0, dump.stderr);
    const file = join(work, 'dump.sql');
    writeFileSync(file, dump.stdout);
    await admin!.unsafe(`create database ${name}`);
    const url = new URL(adminUrl());
    url.pathname = `/${name}`;
    const psql = spawnSync('psql', ['-v', 'ON_ERROR_STOP=1', '-q', '-d', url.toString(), '-f', file], {
      encoding: 'utf8',
    });
    assert.equal(psql.status, 0, psql.stderr);

    // 3. The same instance on the scaled shape: same domain, the secrets it generated, PostgreSQL.
    const secrets = parseEnvText(readFileSync(join(dataDir, 'secrets.env'), 'utf8'));
    const pgEnv = cleanEnv({
      ...secrets,
      DATABASE_URL: url.toString(),
      LOCAL_DOMAIN: 'localhost:3000',
      PORT: String(await freePort()),
    });
    const status = await runWoolly(['db', 'status'], { env: pgEnv });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /state:\s+up to date/);
    const moved = await startWoolly(['start'], pgEnv);
    try {
      const instance = (await (await fetch(`${moved.url}/api/v1/instance`)).json()) as {
        title: string;
        uri: string;
      };
      assert.equal(instance.title, 'Moved Woolly');
      assert.equal(instance.uri, 'localhost:3000');
    } finally {
      assert.equal(await moved.stop(), 0);
    }
  });
});
