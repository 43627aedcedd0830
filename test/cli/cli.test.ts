import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanEnv, runWoolly, tempDir } from '../support/cli.ts';

describe('the woolly command', () => {
  it('answers an unknown command with usage and exit status 2', async () => {
    const r = await runWoolly(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
    assert.match(r.stderr, /Usage: woolly/);
  });

  it('answers no command at all with usage and exit status 2', async () => {
    const r = await runWoolly([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Usage: woolly/);
  });

  it('refuses a bad queue name before opening anything', async () => {
    const dataDir = join(tempDir(), 'data');
    const r = await runWoolly(['queues', 'retry', 'nope'], { env: cleanEnv({ WOOLLY_DATA_DIR: dataDir }) });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown queue "nope"/);
    assert.ok(!existsSync(dataDir), 'nothing created');
  });

  it('answers an unknown option or bad queue name with exit status 2', async () => {
    assert.equal((await runWoolly(['start', '--bogus'])).code, 2);
    const r = await runWoolly(['worker', '--queues', 'default,nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown queue "nope"/);
  });

  it('stops with exit status 1 naming the variable when the configuration is wrong', async () => {
    for (const [env, name] of [
      [{ DB_HOST: 'db', LOCAL_DOMAIN: 'x.example', DB_PORT: 'abc' }, 'DB_PORT'],
      [{ LOCAL_DOMAIN: '' }, 'LOCAL_DOMAIN'],
      [{ S3_ENABLED: 'true' }, 'S3_BUCKET'],
    ] as const) {
      for (const command of ['start', 'config']) {
        const r = await runWoolly([command], { env: cleanEnv(env) });
        assert.equal(r.code, 1, `${command} with ${JSON.stringify(env)}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^woolly: .*${name}`, 'm'));
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      }
    }
  });

  it('prints the effective configuration with secrets masked', async () => {
    const r = await runWoolly(['config'], {
      env: cleanEnv({
        LOCAL_DOMAIN: 'social.example',
        DATABASE_URL: 'postgres://woolly:hunter2hunter2@db.example:5432/woolly',
        SECRET_KEY_BASE: 'a'.repeat(128),
        REDIS_URL: 'redis://:redispass@cache.example:6379',
      }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /scaled shape/);
    assert.match(r.stdout, /social\.example/);
    assert.match(r.stdout, /db\.example/);
    assert.doesNotMatch(r.stdout, /hunter2/);
    assert.doesNotMatch(r.stdout, /redispass/);
    assert.doesNotMatch(r.stdout, /a{20}/);
    assert.match(r.stdout, /SECRET_KEY_BASE\s+aa…/);
  });

  it('prints a fresh set of every secret in .env form', async () => {
    const a = await runWoolly(['secrets']);
    const b = await runWoolly(['secrets']);
    assert.equal(a.code, 0);
    const names = [...a.stdout.matchAll(/^([A-Z_]+)=\S+$/gm)].map((m) => m[1]);
    assert.deepEqual(names.sort(), [
      'ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY',
      'ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT',
      'ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY',
      'OTP_SECRET',
      'SECRET_KEY_BASE',
      'VAPID_PRIVATE_KEY',
      'VAPID_PUBLIC_KEY',
    ]);
    assert.notEqual(a.stdout, b.stdout);
  });

  it('prints its version', async () => {
    const r = await runWoolly(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
  });
});
