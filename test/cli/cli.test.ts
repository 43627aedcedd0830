import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cleanEnv, heldPort, runWoolly, runWoollyInProcess, tempDir } from '../support/cli.ts';

/**
 * The command line: parsing, usage and exit statuses, run in-process (runWoollyInProcess) through the
 * binary's own entry; the first test runs the real binary to prove its wiring.
 */
describe('the woolly command', () => {
  it('is bin/woolly.js: output, and exit status 0, 2 (usage) and 1 (configuration) as a process', async () => {
    const version = await runWoolly(['--version'], { bin: true });
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    const unknown = await runWoolly(['frobnicate'], { bin: true });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const misconfigured = await runWoolly(['config'], { bin: true, env: cleanEnv({ LOCAL_DOMAIN: '' }) });
    assert.equal(misconfigured.code, 1);
    assert.match(misconfigured.stderr, /^woolly: LOCAL_DOMAIN is empty/m);
  });

  it('answers an unknown command with usage and exit status 2', async () => {
    const r = await runWoollyInProcess(['frobnicate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'frobnicate'/);
    assert.match(r.stderr, /Usage: woolly/);
  });

  it('answers no command at all with usage and exit status 2', async () => {
    const r = await runWoollyInProcess([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Usage: woolly/);
  });

  it('refuses a bad queue name before opening anything', async () => {
    const dataDir = join(tempDir(), 'data');
    const r = await runWoollyInProcess(['queues', 'retry', 'nope'], {
      env: cleanEnv({ WOOLLY_DATA_DIR: dataDir }),
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown queue "nope"/);
    assert.ok(!existsSync(dataDir), 'nothing created');
  });

  it('answers an unknown option or bad queue name with exit status 2', async () => {
    const bogus = await runWoollyInProcess(['start', '--bogus'], {
      env: cleanEnv({ PORT: String(await heldPort()) }),
    });
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /unknown option '--bogus'/);
    const r = await runWoollyInProcess(['worker', '--queues', 'default,nope']);
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
        const r = await runWoollyInProcess([command], {
          env: cleanEnv({ ...env, PORT: String(await heldPort()) }),
        });
        assert.equal(r.code, 1, `${command} with ${JSON.stringify(env)}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^woolly: .*${name}`, 'm'));
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      }
    }
  });

  it('prints the effective configuration with secrets masked', async () => {
    const r = await runWoollyInProcess(['config'], {
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
    const a = await runWoollyInProcess(['secrets']);
    const b = await runWoollyInProcess(['secrets']);
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
    const r = await runWoollyInProcess(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
  });
});
