// Must stay the first import: it may re-execute the process with tuned memory settings.
import './tune-process.ts';
import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { Command, CommanderError, Option } from 'commander';
import { type Config, loadConfig } from '../config/config.ts';
import { ConfigError } from '../config/errors.ts';
import { DataDirLockedError } from '../db/data-dir.ts';
import type { Database } from '../db/database.ts';
import { SchemaError } from '../db/migrate.ts';
import type { QueueBackend } from '../infra/queue/queue.ts';
import { isQueueName, QUEUE_NAMES, type QueueName } from '../infra/queue/queue.ts';
import { registerMediaCommand } from './commands/media.ts';
import { StartupError } from './roles/errors.ts';
import type { RoleOptions } from './roles/run.ts';

// Each command imports what it needs when it runs: `woolly config` should not load Fastify, and the
// server should not load the setup wizard's Redis client (start-up time and memory, DESIGN.md §8).

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
/** Where one run of `woolly` reads its environment and input and writes its output. */
export interface CliIo {
  env: Record<string, string | undefined>;
  /** The directory whose `.env.production` / `.env` are read and that relative paths start from. */
  cwd: string;
  stdin: Readable;
  stdout: CliOutput;
  stderr: CliOutput;
}
type CliOutput = Writable & { isTTY?: boolean };

function processIo(): CliIo {
  return {
    env: process.env,
    cwd: process.cwd(),
    // process.stdin is created on first use: only a command that reads input (setup) creates it.
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
  };
}

/** One run of a command line: its I/O and the exit status its command sets. */
class Run {
  readonly io: CliIo;
  exitCode = 0;
  constructor(io: CliIo) {
    this.io = io;
  }
  readonly out = (line: string) => {
    this.io.stdout.write(`${line}\n`);
  };
  readonly say = (line: string) => {
    this.io.stderr.write(`${line}\n`);
  };
  config(): Config {
    return loadConfig({ env: this.io.env, cwd: this.io.cwd });
  }
}

/** Errors an operator can act on: one line, exit 1, no stack trace. */
function isOperatorError(error: unknown): error is Error {
  return (
    error instanceof ConfigError ||
    error instanceof SchemaError ||
    error instanceof StartupError ||
    error instanceof DataDirLockedError
  );
}

function parseQueues(value: string): QueueName[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!isQueueName(name))
      throw new CommanderError(
        2,
        'woolly.queues',
        `error: unknown queue "${name}" (queues: ${QUEUE_NAMES.join(', ')})`,
      );
  }
  if (names.length === 0)
    throw new CommanderError(2, 'woolly.queues', 'error: --queues needs at least one queue name');
  return names as QueueName[];
}

function parseConcurrency(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 1000) {
    throw new CommanderError(
      2,
      'woolly.concurrency',
      'error: --concurrency expects a whole number from 1 to 1000',
    );
  }
  return n;
}

/** Runs roles until SIGTERM/SIGINT, then drains and exits 0. */
async function serve(run: Run, options: RoleOptions): Promise<void> {
  const { say } = run;
  const config = run.config();
  const { runRoles } = await import('./roles/run.ts');
  const started = Date.now();
  const running = await runRoles(config, { ...options, say });
  say(
    `Woolly ${pkg.version} ${options.role} ready in ${Date.now() - started} ms` +
      (running.url ? ` on ${running.url} (public URL ${config.baseUrl})` : '') +
      ` — ${config.shape} shape${config.shape === 'embedded' ? `, data in ${config.dataDir}` : ''}`,
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal} received: draining…`);
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        say(`shutdown failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function withQueueBackend<T>(
  run: Run,
  fn: (backend: QueueBackend, commands: typeof import('./commands/queues.ts')) => Promise<T>,
): Promise<T> {
  const config = run.config();
  const { openDatabaseForCommand } = await import('../db/index.ts');
  const { createQueueBackend } = await import('../infra/queue/index.ts');
  const commands = await import('./commands/queues.ts');
  const { database } = await openDatabaseForCommand(config);
  const backend = createQueueBackend(config, database);
  try {
    return await fn(backend, commands);
  } finally {
    await backend.close();
    await database.close();
  }
}

function buildProgram(run: Run): Command {
  const { io, out, say } = run;
  const program = new Command('woolly')
    .description('Woolly: a Mastodon-compatible, federated social network server')
    // Before the subcommands are added: they inherit it.
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .version(`${pkg.version}`, '-v, --version')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('start')
    .description(
      'run every role (web, streaming, workers, scheduler) in one process; migrates the database first',
    )
    .action(() =>
      serve(run, {
        role: 'start',
        web: true,
        streaming: true,
        worker: { queues: QUEUE_NAMES, concurrency: run.config().workerConcurrency },
        migrate: true,
      }),
    );

  program
    .command('web')
    .description('run the web role (REST API, OAuth, ActivityPub, pages) alone; needs PostgreSQL and Redis')
    .action(() =>
      serve(run, { role: 'web', web: true, streaming: false, worker: undefined, migrate: false }),
    );

  program
    .command('streaming')
    .description('run the streaming API alone on STREAMING_PORT (default 4000); needs PostgreSQL and Redis')
    .action(() =>
      serve(run, { role: 'streaming', web: false, streaming: true, worker: undefined, migrate: false }),
    );

  program
    .command('worker')
    .description('run a worker on some or all queues; needs PostgreSQL and Redis')
    .addOption(
      new Option('-q, --queues <names>', `comma-separated queues (${QUEUE_NAMES.join(',')})`).argParser(
        parseQueues,
      ),
    )
    .addOption(
      new Option(
        '-c, --concurrency <n>',
        'jobs at once per queue (default SIDEKIQ_CONCURRENCY or 5)',
      ).argParser(parseConcurrency),
    )
    .action((opts: { queues?: QueueName[]; concurrency?: number }) =>
      serve(run, {
        role: 'worker',
        web: false,
        streaming: false,
        worker: {
          queues: opts.queues ?? QUEUE_NAMES,
          concurrency: opts.concurrency ?? run.config().workerConcurrency,
        },
        migrate: false,
      }),
    );

  const db = program.command('db').description('database schema and data');
  db.command('migrate')
    .description('apply pending migrations (takes a lock: safe from several processes at once)')
    .action(async () => {
      const { dbMigrate } = await import('./commands/db.ts');
      run.exitCode = await dbMigrate(run.config(), out);
    });
  db.command('status')
    .description('show the database and its migrations')
    .action(async () => {
      const { dbStatus } = await import('./commands/db.ts');
      run.exitCode = await dbStatus(run.config(), out);
    });
  db.command('export')
    .description('write the embedded database as SQL that psql loads into an empty PostgreSQL')
    .action(async () => {
      const { dbExport } = await import('./commands/db.ts');
      run.exitCode = await dbExport(run.config(), (sql) => io.stdout.write(sql), say);
    });

  program
    .command('config')
    .description('print the effective configuration, secrets masked')
    .action(async () => {
      const { describeConfig } = await import('./commands/config.ts');
      for (const line of describeConfig(run.config())) out(line);
    });

  program
    .command('secrets')
    .description('print a fresh set of every secret in .env form')
    .action(async () => {
      const { generateSecrets, secretsToEnv } = await import('../config/secrets.ts');
      io.stdout.write(secretsToEnv(generateSecrets()));
    });

  program
    .command('setup')
    .description('interactive wizard that writes .env.production')
    .action(async () => {
      const { setupCommand } = await import('./commands/setup.ts');
      run.exitCode = await setupCommand({
        input: io.stdin,
        output: io.stdout,
        cwd: io.cwd,
      });
    });

  const queues = program.command('queues').description('job queues: counts per state, dead jobs');
  // The queue name is checked before anything is opened: a typo changes nothing.
  const queueArg = (value: string): QueueName => {
    if (!isQueueName(value)) {
      throw new CommanderError(
        2,
        'woolly.queues',
        `error: unknown queue "${value}" (queues: ${QUEUE_NAMES.join(', ')})`,
      );
    }
    return value;
  };
  const queueAction = (action: 'status' | 'dead' | 'retry' | 'clear', queue?: QueueName, id?: string) =>
    withQueueBackend(run, async (backend, { queuesCommand }) => {
      run.exitCode = await queuesCommand(backend, { action, queue, id }, out);
    });
  queues
    .command('status', { isDefault: true })
    .description('jobs per queue and state')
    .action(() => queueAction('status'));
  queues
    .command('dead <queue>')
    .description('list the dead jobs of a queue')
    .action((queue: string) => queueAction('dead', queueArg(queue)));
  queues
    .command('retry <queue> [id]')
    .description('move dead jobs (all, or one) back to the queue')
    .action((queue: string, id?: string) => queueAction('retry', queueArg(queue), id));
  queues
    .command('clear <queue> [id]')
    .description('delete dead jobs (all, or one)')
    .action((queue: string, id?: string) => queueAction('clear', queueArg(queue), id));

  const settings = program.command('settings').description('instance settings');
  settings
    .command('registrations <mode>')
    .description('open | approved | close')
    .option('--require-reason', 'with approved: ask applicants why they want to join')
    .action(async (mode: string, opts: { requireReason?: boolean }) => {
      if (!['open', 'approved', 'close'].includes(mode)) {
        throw new CommanderError(
          2,
          'woolly.settings',
          `error: registrations must be open, approved or close (got "${mode}")`,
        );
      }
      run.exitCode = await withSettings(run, (deps, { settingsCommand }) =>
        settingsCommand(
          deps,
          {
            action: 'registrations',
            mode: mode as 'open' | 'approved' | 'close',
            requireReason: opts.requireReason,
          },
          out,
          say,
        ),
      );
    });
  settings
    .command('get')
    .description('print every setting')
    .action(async () => {
      run.exitCode = await withSettings(run, (deps, { settingsCommand }) =>
        settingsCommand(deps, { action: 'get' }, out, say),
      );
    });
  settings
    .command('set <key> <value>')
    .description('change one setting')
    .action(async (key: string, value: string) => {
      run.exitCode = await withSettings(run, (deps, { settingsCommand }) =>
        settingsCommand(deps, { action: 'set', key, value }, out, say),
      );
    });

  accountsCommands(program, run);
  registerMediaCommand(program, run);

  program
    .command('feeds')
    .description('home feeds')
    .command('build [username]')
    .description('rebuild the home feed of one local account, or of all with --all')
    .option('--all', 'every local account')
    .action(async (username: string | undefined, opts: { all?: boolean }) => {
      if ((username === undefined) === (opts.all !== true)) {
        throw new CommanderError(2, 'woolly.feeds', 'error: give either a USERNAME or --all');
      }
      const args: import('./commands/feeds.ts').FeedsArgs =
        username === undefined ? { action: 'build', all: true } : { action: 'build', username };
      run.exitCode = await withFeeds(run, (deps, { feedsCommand }) =>
        feedsCommand(deps, args, {
          out,
          err: say,
          progress: io.stdout.isTTY ? (text) => io.stdout.write(text) : null,
        }),
      );
    });

  return program;
}

const usage = (message: string) => new CommanderError(2, 'woolly.accounts', `error: ${message}`);

/** `woolly accounts …` (tootctl-compatible); every flag is checked before the database is opened. */
function accountsCommands(program: Command, run: Run): void {
  const { out, say } = run;
  const accounts = program
    .command('accounts')
    .description('local accounts: create, modify, delete, approve, tokens');
  const accountsAction = (args: import('./commands/accounts.ts').AccountsArgs) =>
    withAccounts(run, async (deps, { accountsCommand }) => {
      run.exitCode = await accountsCommand(deps, args, out, say);
    });

  accounts
    .command('create <username>')
    .description('create a local account with a random password (printed on the last line)')
    .requiredOption('--email <email>', 'e-mail address')
    .option('--confirmed', 'skip the confirmation e-mail: the account is active straight away')
    .option('--role <role>', 'Owner, Admin, Moderator or another role name')
    .option('--approve', 'approve the account (needed when registrations are not open)')
    .action(
      (username: string, opts: { email: string; confirmed?: boolean; role?: string; approve?: boolean }) =>
        accountsAction({ action: 'create', username, ...opts }),
    );

  accounts
    .command('modify <username>')
    .description("change a local user's role, e-mail, state or password")
    .option('--role <role>', 'give the user this role')
    .option('--remove-role', 'take the role away (a normal user again)')
    .option('--email <email>', 'set the e-mail address')
    .option('--confirm', 'mark the e-mail address confirmed')
    .option('--enable', 'let the user sign in again')
    .option('--disable', 'lock the user out (revokes their tokens and sessions)')
    .option('--approve', 'approve a pending account')
    .option('--disable-2fa', 'turn two-factor authentication off')
    .option('--reset-password', 'set a new random password (printed) and sign the user out everywhere')
    .action((username: string, opts: Record<string, string | boolean | undefined>) => {
      if (opts.enable && opts.disable) throw usage('--enable and --disable cannot be used together');
      if (opts.role !== undefined && opts.removeRole)
        throw usage('--role and --remove-role cannot be used together');
      return accountsAction({
        action: 'modify',
        username,
        role: opts.role as string | undefined,
        removeRole: opts.removeRole === true,
        email: opts.email as string | undefined,
        confirm: opts.confirm === true,
        enable: opts.enable === true,
        disable: opts.disable === true,
        approve: opts.approve === true,
        disable2fa: opts.disable2fa === true,
        resetPassword: opts.resetPassword === true,
      });
    });

  accounts
    .command('delete <username>')
    .description('delete a local account and its user')
    .action((username: string) => accountsAction({ action: 'delete', username }));

  accounts
    .command('approve [username]')
    .description('approve pending accounts: one, the oldest N, or all')
    .option('--all', 'approve every pending account')
    .option('-n, --number <n>', 'approve the N oldest pending accounts')
    .action((username: string | undefined, opts: { all?: boolean; number?: string }) => {
      const chosen = [opts.all === true, opts.number !== undefined, username !== undefined].filter(
        Boolean,
      ).length;
      if (chosen !== 1) throw usage('give exactly one of USERNAME, --number N or --all');
      if (opts.number !== undefined) {
        if (!/^\d+$/.test(opts.number) || Number(opts.number) < 1)
          throw usage('--number expects a whole number of at least 1');
        return accountsAction({ action: 'approve', target: { number: Number(opts.number) } });
      }
      return accountsAction({
        action: 'approve',
        target: opts.all ? { all: true } : { username: username! },
      });
    });

  accounts
    .command('token <username>')
    .description('print a new access token for the user (an app owned by the user holds it)')
    .option('--scopes <scopes>', 'space-separated OAuth scopes', 'read write follow push')
    .option('--app <name>', 'name of the application that holds the token', 'Woolly CLI')
    .action(async (username: string, opts: { scopes: string; app: string }) => {
      const { parseScopes, unknownScopes } = await import('../domain/auth/scopes.ts');
      const scopes = parseScopes(opts.scopes);
      const unknown = unknownScopes(scopes);
      if (unknown.length > 0) throw usage(`unknown scope ${unknown.map((s) => `"${s}"`).join(', ')}`);
      if (opts.app.trim() === '' || opts.app.length > 60)
        throw usage('--app needs a name of 1 to 60 characters');
      return accountsAction({ action: 'token', username, scopes, app: opts.app.trim() });
    });
}

/**
 * Opens what account commands need. An embedded database opened directly (no server running) is
 * migrated first, as `woolly start` would, so accounts can be made before the first start.
 */
async function withAccounts(
  run: Run,
  fn: (
    deps: import('./commands/accounts.ts').AccountsDeps,
    commands: typeof import('./commands/accounts.ts'),
  ) => Promise<void>,
): Promise<void> {
  const config = run.config();
  const { openDatabaseForCommand } = await import('../db/index.ts');
  const { assertSchemaCurrent, migrate } = await import('../db/migrate.ts');
  const { createQueueBackend } = await import('../infra/queue/index.ts');
  const { createPubSub } = await import('../infra/pubsub/index.ts');
  const { createCache } = await import('../infra/cache/index.ts');
  const { createLogger } = await import('../infra/log.ts');
  const { withStreams } = await import('../streaming/publisher.ts');
  const { OwnerRelayPubSub } = await import('./owner-pubsub.ts');
  const commands = await import('./commands/accounts.ts');
  const { database, via } = await openDatabaseForCommand(config);
  try {
    if (via === 'direct') await migrate(database);
    else await assertSchemaCurrent(database);
    const queue = createQueueBackend(config, database);
    // Disabling or deleting an account kills its streams: over Redis when configured, else through
    // the running embedded server's control socket (src/cli/owner-pubsub.ts).
    const [pubsub, cache] = await Promise.all([
      via === 'socket' && config.redis === undefined
        ? new OwnerRelayPubSub(config.dataDir)
        : createPubSub(config.redis),
      createCache(config.redis),
    ]);
    try {
      const log = createLogger(config, 'accounts');
      const { streams } = withStreams({ database, config, pubsub, cache, log });
      await fn({ database, config, queue, streams }, commands);
    } finally {
      await Promise.all([queue.close(), pubsub.close(), cache.close()]);
    }
  } finally {
    await database.close();
  }
}

async function withSettings(
  run: Run,
  fn: (deps: { database: Database }, commands: typeof import('./commands/settings.ts')) => Promise<number>,
): Promise<number> {
  const { openDatabaseForCommand } = await import('../db/index.ts');
  const commands = await import('./commands/settings.ts');
  const { database } = await openDatabaseForCommand(run.config());
  try {
    return await fn({ database }, commands);
  } finally {
    await database.close();
  }
}

async function withFeeds(
  run: Run,
  fn: (
    deps: import('./commands/feeds.ts').FeedsDeps,
    commands: typeof import('./commands/feeds.ts'),
  ) => Promise<number>,
): Promise<number> {
  const config = run.config();
  const { openDatabaseForCommand } = await import('../db/index.ts');
  const { createFeedStore } = await import('../infra/feeds/feed-store.ts');
  const commands = await import('./commands/feeds.ts');
  const { database } = await openDatabaseForCommand(config);
  try {
    const feeds = await createFeedStore(config.redis, database);
    try {
      return await fn({ database, feeds }, commands);
    } finally {
      await feeds.close();
    }
  } finally {
    await database.close();
  }
}

/**
 * Runs one command line (the arguments after `woolly`) with the given I/O and resolves with the exit
 * status the process would end with. `main` runs it on the process itself; tests call it in-process.
 */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  return (await execute(args, io)).code;
}

async function execute(args: string[], io: CliIo): Promise<{ code: number; exitAtOnce: boolean }> {
  const run = new Run(io);
  const program = buildProgram(run);
  try {
    await program.parseAsync(args, { from: 'user' });
    return { code: run.exitCode, exitAtOnce: false };
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version "fail" with exit code 0. Everything else is a usage error (unknown
      // command or option, bad argument, no command at all): exit 2, after the usage, as shells expect.
      if (error.exitCode === 0) return { code: 0, exitAtOnce: true };
      if (error.code.startsWith('woolly.')) run.say(error.message);
      return { code: 2, exitAtOnce: true };
    }
    if (isOperatorError(error)) {
      run.say(`woolly: ${error.message}`);
      return { code: 1, exitAtOnce: true };
    }
    run.say(`woolly: unexpected error: ${(error as Error).stack ?? String(error)}`);
    return { code: 1, exitAtOnce: true };
  }
}

/** The `woolly` process: bin/woolly.js, or `node src/cli/main.ts`. */
export async function main(argv: string[]): Promise<void> {
  const { code, exitAtOnce } = await execute(argv.slice(2), processIo());
  // A command that threw may have left something open that would keep the process alive.
  if (exitAtOnce) process.exit(code);
  process.exitCode = code;
}

if (import.meta.main) await main(process.argv);
