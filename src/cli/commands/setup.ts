import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { type Config, loadConfig } from '../../config/config.ts';
import { formatEnv } from '../../config/env-files.ts';
import { ConfigError } from '../../config/errors.ts';
import { generateSecrets } from '../../config/secrets.ts';
import type { Database } from '../../db/database.ts';
import { assertSchemaCurrent, migrate } from '../../db/migrate.ts';
import { openPostgres } from '../../db/postgres.ts';
import { InputEndedError, Prompter } from '../prompt.ts';

const domainOk = (a: string) =>
  /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/i.test(a)
    ? undefined
    : 'enter a domain name such as example.com (no https://)';
const portOk = (a: string) =>
  /^\d+$/.test(a) && Number(a) >= 1 && Number(a) <= 65535 ? undefined : 'enter a port from 1 to 65535';
const required = (a: string) => (a.trim() ? undefined : 'this cannot be empty');

/**
 * `woolly setup`: asks what Mastodon's setup wizard asks and writes `.env.production` in `cwd`.
 * Connections to PostgreSQL and Redis are tried before anything is written; with PostgreSQL the
 * schema can be created right away. Returns the exit code.
 */
export async function setupCommand(io: { input: Readable; output: Writable; cwd: string }): Promise<number> {
  const q = new Prompter(io.input, io.output);
  let written = false;
  try {
    q.say('Woolly setup: answers become .env.production in this directory.\n');
    const target = join(io.cwd, '.env.production');
    if (existsSync(target) && !(await q.confirm(`${target} exists. Replace it?`, false))) {
      q.say('Nothing written.');
      return 1;
    }
    const env: Record<string, string> = {};

    q.say('\n== Identity ==');
    env.LOCAL_DOMAIN = (
      await q.ask('Domain name (permanent: it is part of every account address)', { validate: domainOk })
    ).toLowerCase();
    const webDomain = await q.ask('Domain the web and API are served on, if different', {
      default: env.LOCAL_DOMAIN,
      validate: domainOk,
    });
    if (webDomain !== env.LOCAL_DOMAIN) env.WEB_DOMAIN = webDomain.toLowerCase();
    if (await q.confirm('Single-user mode (the front page is your profile; no sign-ups)?', false))
      env.SINGLE_USER_MODE = 'true';

    q.say('\n== Database ==');
    const embedded =
      (await q.choose('Database', ['embedded', 'postgresql'] as const, 'postgresql')) === 'embedded';
    if (!embedded) {
      for (;;) {
        env.DB_HOST = await q.ask('PostgreSQL host', { default: 'localhost', validate: required });
        env.DB_PORT = await q.ask('PostgreSQL port', { default: '5432', validate: portOk });
        env.DB_NAME = await q.ask('Database name', { default: 'woolly_production', validate: required });
        env.DB_USER = await q.ask('Database user', { default: 'woolly', validate: required });
        const pass = await q.ask('Database password (empty for none)', { default: '' });
        if (pass) env.DB_PASS = pass;
        else delete env.DB_PASS;
        const problem = await tryPostgres(env);
        if (problem === undefined) {
          q.say('  Connected to PostgreSQL.');
          break;
        }
        q.say(`  Could not connect: ${problem}`);
        if (!(await q.confirm('Enter the database settings again?', true))) break;
      }
    } else {
      q.say(
        '  The database will live in ./data (WOOLLY_DATA_DIR). `woolly db export` moves it to PostgreSQL later.',
      );
    }

    q.say('\n== Redis ==');
    if (
      await q.confirm(
        'Use Redis (needed to run web, streaming and workers as separate processes)?',
        !embedded,
      )
    ) {
      for (;;) {
        env.REDIS_HOST = await q.ask('Redis host', { default: 'localhost', validate: required });
        env.REDIS_PORT = await q.ask('Redis port', { default: '6379', validate: portOk });
        const pass = await q.ask('Redis password (empty for none)', { default: '' });
        if (pass) env.REDIS_PASSWORD = pass;
        else delete env.REDIS_PASSWORD;
        const problem = await tryRedis(env);
        if (problem === undefined) {
          q.say('  Connected to Redis.');
          break;
        }
        q.say(`  Could not connect: ${problem}`);
        if (!(await q.confirm('Enter the Redis settings again?', true))) break;
      }
    }

    q.say('\n== Media storage ==');
    const storage = await q.choose('Where should uploaded media go', ['local', 's3'] as const, 'local');
    if (storage === 's3') {
      env.S3_ENABLED = 'true';
      env.S3_BUCKET = await q.ask('Bucket name', { validate: required });
      env.S3_REGION = await q.ask('Region', { default: 'us-east-1' });
      const endpoint = await q.ask('Endpoint URL (empty for AWS)', {
        default: '',
        validate: (a) =>
          a === '' || /^https?:\/\//.test(a) ? undefined : 'enter an http(s):// URL or nothing',
      });
      if (endpoint) env.S3_ENDPOINT = endpoint;
      env.AWS_ACCESS_KEY_ID = await q.ask('Access key', { validate: required });
      env.AWS_SECRET_ACCESS_KEY = await q.ask('Secret key', { validate: required });
      const alias = await q.ask('Public host that serves the bucket (CDN), if any', { default: '' });
      if (alias) env.S3_ALIAS_HOST = alias;
    }

    q.say('\n== E-mail ==');
    if (
      await q.confirm(
        'Send e-mail through an SMTP server (otherwise it is written to files under ./data/mail)?',
        true,
      )
    ) {
      env.SMTP_SERVER = await q.ask('SMTP server', { validate: required });
      env.SMTP_PORT = await q.ask('SMTP port', { default: '587', validate: portOk });
      const login = await q.ask('SMTP user name (empty for none)', { default: '' });
      if (login) {
        env.SMTP_LOGIN = login;
        env.SMTP_PASSWORD = await q.ask('SMTP password', { default: '' });
      } else {
        env.SMTP_AUTH_METHOD = 'none';
      }
      env.SMTP_FROM_ADDRESS = await q.ask('Sender address', {
        default: `Woolly <notifications@${env.LOCAL_DOMAIN.replace(/:\d+$/, '')}>`,
        validate: required,
      });
    }

    Object.assign(env, generateSecrets());
    delete env.OTP_SECRET; // not needed by Woolly; `woolly secrets` prints one for Mastodon ≤ 4.3 files

    // The same validation start-up uses: a bad answer never reaches the file.
    try {
      loadConfig({ env, cwd: io.cwd, readFiles: false });
    } catch (error) {
      if (error instanceof ConfigError) {
        q.say(`\n${error.message}\nNothing written.`);
        return 1;
      }
      throw error;
    }
    writeFileSync(
      target,
      `# Written by \`woolly setup\` on ${new Date().toISOString()}. Keep it private.\n${formatEnv(env)}`,
      { mode: 0o600 },
    );
    q.say(`\nWrote ${target} (mode 0600).`);

    if (!embedded && (await q.confirm('Create the database schema now?', true))) {
      const config = loadConfig({ env, cwd: io.cwd, readFiles: false });
      if (config.database.kind === 'postgres') {
        const database = openPostgres(config.database);
        try {
          const applied = await migrate(database);
          q.say(`  Schema ready (${applied.length} migrations applied).`);
        } finally {
          await database.close();
        }
      }
    }
    written = true;

    q.say('\n== Owner account ==');
    if (await q.confirm('Create the Owner account (the instance administrator) now?', true)) {
      await createOwner(q, loadConfig({ env, cwd: io.cwd, readFiles: false }));
    }
    q.say('\nAll done. Start the server with `woolly start` (or `npm start`).');
    return 0;
  } catch (error) {
    if (error instanceof InputEndedError) {
      q.say(
        written
          ? `\nSetup stopped: the ${error.message}. The configuration was written; create the Owner account later with \`woolly accounts create USERNAME --email E --role Owner --confirmed --approve\`.`
          : `\nSetup stopped: the ${error.message}. Nothing written.`,
      );
      return 1;
    }
    throw error;
  } finally {
    q.close();
  }
}

async function tryPostgres(env: Record<string, string>): Promise<string | undefined> {
  try {
    const config = loadConfig({ env, readFiles: false });
    if (config.database.kind !== 'postgres') return 'not a PostgreSQL configuration';
    const database = openPostgres({ ...config.database, pool: 1 });
    try {
      await database.query('select 1');
    } finally {
      await database.close();
    }
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

async function tryRedis(env: Record<string, string>): Promise<string | undefined> {
  const redis = new Redis({
    host: env.REDIS_HOST,
    port: Number(env.REDIS_PORT),
    password: env.REDIS_PASSWORD,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 5000,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    redis.disconnect();
  }
}

const usernameOk = (a: string) =>
  /^[a-z0-9_]{1,30}$/i.test(a) ? undefined : 'letters, digits and _ only, at most 30 characters';
const emailOk = (a: string) => (/^[^\s@]+@[^\s@]+$/.test(a.trim()) ? undefined : 'enter an e-mail address');

/**
 * Makes the Owner account with a random password, printed once. The embedded database is opened
 * (and migrated) right here; PostgreSQL must have its schema (the question before).
 */
async function createOwner(q: Prompter, config: Config): Promise<void> {
  const username = await q.ask('Username', { default: 'owner', validate: usernameOk });
  const email = await q.ask('E-mail address', { validate: emailOk });
  const { openDatabaseForCommand } = await import('../../db/index.ts');
  const { adminCreateAccount } = await import('../../domain/accounts/admin.ts');
  let database: Database | undefined;
  try {
    ({ database } = await openDatabaseForCommand(config));
    if (config.database.kind === 'pglite') await migrate(database);
    else await assertSchemaCurrent(database);
    const { password } = await adminCreateAccount(
      { database, config },
      { username, email, role: 'Owner', confirmed: true, approve: true },
    );
    q.say(`  Owner account @${username} created. Sign in with ${email.trim()} and this password:`);
    q.say(`  New password: ${password}`);
  } catch (error) {
    // Setup has written its file: a failure here is reported, with the command that does it later.
    if (error instanceof Error) {
      q.say(
        `  Could not create the account: ${error.message}\n  Create it later with \`woolly accounts create ${username} --email ${email.trim()} --role Owner --confirmed --approve\`.`,
      );
      return;
    }
    throw error;
  } finally {
    await database?.close();
  }
}
