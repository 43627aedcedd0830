import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseEnvText } from '../../src/config/env-files.ts';
import { cleanEnv, runWoolly, runWoollyInProcess, tempDir } from '../support/cli.ts';

const answers = (...lines: string[]) => `${lines.join('\n')}\n`;

/**
 * `woolly setup` with the embedded database, run in-process (runWoollyInProcess) with its answers
 * on standard input; setup-postgresql.test.ts runs the PostgreSQL answers on the scaled shape.
 */
describe('woolly setup', () => {
  it('writes .env.production from the answers, re-asking what is invalid', async () => {
    const cwd = tempDir();
    const r = await runWoollyInProcess(['setup'], {
      cwd,
      input: answers(
        'https://social.example/', // not a domain: asked again
        'Social.Example',
        '', // web domain: same
        '', // single-user: no
        'embedded',
        '', // Redis: no (the default with the embedded database)
        's3',
        'media-bucket',
        '', // region
        'http://127.0.0.1:9000',
        'AKIDEXAMPLE',
        'secret-key',
        '', // no CDN
        'y', // SMTP
        'smtp.example',
        '', // port 587
        'mailer',
        'mail-password',
        '', // sender
        '', // create the Owner account: yes
        'Bad Name!', // refused: asked again
        'admin', // reserved for sign-ups, not for the operator
        'owner@social.example',
      ),
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /enter a domain name/);
    assert.match(r.stdout, /letters, digits and _ only/);
    assert.match(r.stdout, /Owner account @admin created/);
    const password = /New password: ([0-9a-f]{32})/.exec(r.stdout)?.[1];
    assert.ok(password, r.stdout);
    const file = join(cwd, '.env.production');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const env = parseEnvText(readFileSync(file, 'utf8'));
    assert.equal(env.LOCAL_DOMAIN, 'social.example');
    assert.equal(env.DB_HOST, undefined);
    assert.equal(env.S3_ENABLED, 'true');
    assert.equal(env.S3_BUCKET, 'media-bucket');
    assert.equal(env.S3_ENDPOINT, 'http://127.0.0.1:9000');
    assert.equal(env.SMTP_SERVER, 'smtp.example');
    assert.equal(env.SMTP_LOGIN, 'mailer');
    for (const secret of [
      'SECRET_KEY_BASE',
      'VAPID_PRIVATE_KEY',
      'VAPID_PUBLIC_KEY',
      'ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY',
    ]) {
      assert.ok(env[secret], secret);
    }
    // The server reads what the wizard wrote.
    const config = await runWoollyInProcess(['config'], { cwd, env: cleanEnv() });
    assert.equal(config.code, 0, config.stderr);
    assert.match(config.stdout, /LOCAL_DOMAIN\s+social\.example/);
    assert.match(config.stdout, /S3 bucket media-bucket/);
    assert.doesNotMatch(config.stdout, /mail-password|secret-key/);
    // The Owner exists in the embedded database the wizard opened.
    const token = await runWoollyInProcess(['accounts', 'token', 'admin'], { cwd, env: cleanEnv() });
    assert.equal(token.code, 0, token.stderr);
    assert.match(token.stdout.trim(), /^[A-Za-z0-9_-]{43}$/);
  });

  it('can skip the Owner account, and says how to make it when the input ends there', async () => {
    const cwd = tempDir();
    const base = ['social.example', '', '', 'embedded', '', 'local', 'n'];
    const skipped = await runWoollyInProcess(['setup'], { cwd, input: answers(...base, 'n') });
    assert.equal(skipped.code, 0, skipped.stdout + skipped.stderr);
    assert.doesNotMatch(skipped.stdout, /New password/);
    const cwd2 = tempDir();
    const ended = await runWoollyInProcess(['setup'], { cwd: cwd2, input: answers(...base) });
    assert.equal(ended.code, 1);
    assert.match(
      ended.stdout,
      /configuration was written; create the Owner account later with `woolly accounts create/,
    );
    assert.ok(existsSync(join(cwd2, '.env.production')));
  });

  it('leaves an existing file alone unless told to replace it', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, '.env.production'), 'LOCAL_DOMAIN=kept.example\n');
    // The real process, answering on its standard input.
    const r = await runWoolly(['setup'], { cwd, input: answers('n') });
    assert.equal(r.code, 1);
    assert.equal(readFileSync(join(cwd, '.env.production'), 'utf8'), 'LOCAL_DOMAIN=kept.example\n');
  });

  it('stops without writing when the input ends early', async () => {
    const cwd = tempDir();
    const r = await runWoollyInProcess(['setup'], { cwd, input: answers('social.example') });
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /Setup stopped: the input ended before every question was answered\. Nothing written\./,
    );
    assert.equal(r.stderr, '');
    assert.ok(!existsSync(join(cwd, '.env.production')));
  });
});
