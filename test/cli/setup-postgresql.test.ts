import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import postgres from 'postgres';
import { parseEnvText } from '../../src/config/env-files.ts';
import { cleanEnv, runWoollyInProcess, tempDir } from '../support/cli.ts';
import { adminUrl, scaled } from '../support/db.ts';

const answers = (...lines: string[]) => `${lines.join('\n')}\n`;

/** `woolly setup` with PostgreSQL answers, against the scaled shape's server (setup.test.ts: embedded). */
describe('woolly setup (PostgreSQL)', () => {
  it('tries the PostgreSQL connection and creates the schema', {
    skip: scaled ? false : 'needs PostgreSQL (DATABASE_URL): runs on the scaled shape',
  }, async () => {
    const url = new URL(adminUrl());
    const name = `woolly_setup_${process.pid}`;
    const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    try {
      const cwd = tempDir();
      const r = await runWoollyInProcess(['setup'], {
        cwd,
        input: answers(
          'pg.example',
          '',
          '',
          'postgresql',
          url.hostname,
          url.port || '5432',
          'no_such_database_here', // refused: asked again
          decodeURIComponent(url.username) || 'postgres',
          decodeURIComponent(url.password),
          'y', // enter again
          url.hostname,
          url.port || '5432',
          name,
          decodeURIComponent(url.username) || 'postgres',
          decodeURIComponent(url.password),
          'n', // no Redis
          'local',
          'n', // no SMTP
          'y', // create the schema
          'y', // create the Owner account
          'pg_owner',
          'owner@pg.example',
        ),
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /Could not connect/);
      assert.match(r.stdout, /Schema ready/);
      assert.match(r.stdout, /Owner account @pg_owner created/);
      const env = parseEnvText(readFileSync(join(cwd, '.env.production'), 'utf8'));
      assert.equal(env.DB_NAME, name);
      const status = await runWoollyInProcess(['db', 'status'], { cwd, env: cleanEnv() });
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /state:\s+up to date/);
    } finally {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
