/**
 * bench/streaming — WebSocket clients held and events delivered by one streaming process
 * (DESIGN.md §7: 10,000 clients at ≤ 8 KiB each when idle, ≥ 50,000 deliveries/s, p99 ≤ 100 ms).
 *
 *   npm run bench:streaming -- [--clients 10000] [--rate 5] [--duration 10] [--users 100]
 *        [--connect-rate 2000] [--threads 2] [--e2e-clients 500] [--e2e-rate 2] [--e2e-duration 10]
 *        [--database-url postgres://…] [--redis-url redis://…]
 *
 * Scaled shape (both URLs, from the flags or DATABASE_URL/REDIS_URL): a scratch database is created
 * on that server (and dropped), `woolly streaming` runs as its own process, and the delivery run
 * publishes `update` events straight onto Redis `timeline:public` in Mastodon's message format.
 * Embedded shape (neither): `woolly start` in its own process; with no Redis to publish onto, the
 * delivery run's events are statuses posted through the REST API. Then, in both, an end-to-end run:
 * statuses posted through the REST API (web role), fanned out by the worker to the followers' homes,
 * published per follower, delivered on each follower's user stream.
 *
 * Run it on an otherwise quiet machine: the load generator shares the cores with the server.
 * See bench/streaming/README.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import postgres from 'postgres';
import { loadConfig } from '../../src/config/config.ts';
import { generateSecrets } from '../../src/config/secrets.ts';
import type { Database } from '../../src/db/database.ts';
import { openDatabaseForCommand } from '../../src/db/index.ts';
import { migrate } from '../../src/db/migrate.ts';
import { hashSecret, newSecret } from '../../src/domain/auth/secrets.ts';
import { publicChannel } from '../../src/domain/streaming/channels.ts';
import {
  BUCKET_MS,
  BUCKETS,
  type ClientCommand,
  type ClientReport,
  type ClientSetup,
  type StreamStats,
} from './protocol.ts';

const USAGE = `Usage: npm run bench:streaming -- [options]

  --clients N        WebSocket clients on the streaming process, each on user + public (10000)
  --rate N           events per second published on timeline:public (5; deliveries/s = rate × clients)
  --duration S       seconds of publishing (10)
  --users N          accounts the clients are spread over, one token each (100)
  --connect-rate N   new connections per second (2000)
  --threads N        load-generator threads (2)
  --e2e-clients N    clients of the end-to-end run, one account each; 0 skips it (500)
  --e2e-rate N       statuses per second posted through the REST API in that run (2)
  --e2e-duration S   seconds of posting in that run (10)
  --database-url URL PostgreSQL server for the scaled shape (else DATABASE_URL); a scratch database
                     is created there and dropped
  --redis-url URL    Redis for the scaled shape (else REDIS_URL). Use a Redis of its own: the run
                     publishes on Mastodon's unprefixed channels and starts workers on its queues.
  --help             this text

Both URLs: the scaled shape (\`woolly streaming\`, \`woolly web\`, \`woolly worker\` as processes).
Neither: the embedded shape (\`woolly start\`).`;

function parseOptions() {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      users: { type: 'string' },
      'connect-rate': { type: 'string' },
      threads: { type: 'string' },
      'e2e-clients': { type: 'string' },
      'e2e-rate': { type: 'string' },
      'e2e-duration': { type: 'string' },
      'database-url': { type: 'string' },
      'redis-url': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  const number = (name: keyof typeof values, fallback: number, min: number, integer = true): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (typeof raw !== 'string' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)))
      throw new UsageError(`--${name} wants ${integer ? 'a whole number' : 'a number'} ≥ ${min}, got ${raw}`);
    return n;
  };
  const databaseUrl = values['database-url'] ?? (process.env.DATABASE_URL || undefined);
  const redisUrl = values['redis-url'] ?? (process.env.REDIS_URL || undefined);
  if ((databaseUrl === undefined) !== (redisUrl === undefined))
    throw new UsageError(
      'the scaled shape needs both a PostgreSQL URL and a Redis URL (--database-url and --redis-url, or DATABASE_URL and REDIS_URL); give neither for the embedded shape',
    );
  for (const [name, url, protocols] of [
    ['--database-url', databaseUrl, ['postgres:', 'postgresql:']],
    ['--redis-url', redisUrl, ['redis:', 'rediss:']],
  ] as const) {
    if (url === undefined) continue;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`${name} is not a URL: ${url}`);
    }
    if (!(protocols as readonly string[]).includes(parsed.protocol))
      throw new UsageError(`${name} wants a ${protocols.join(' or ')}// URL, got ${parsed.protocol}//`);
  }
  const clients = number('clients', 10_000, 1);
  return {
    help: values.help === true,
    clients,
    rate: number('rate', 5, 0.1, false),
    duration: number('duration', 10, 1, false),
    users: Math.min(number('users', 100, 1), clients),
    connectRate: number('connect-rate', 2000, 1),
    threads: number('threads', 2, 1),
    e2eClients: number('e2e-clients', 500, 0),
    e2eRate: number('e2e-rate', 2, 0.1, false),
    e2eDuration: number('e2e-duration', 10, 1, false),
    databaseUrl,
    redisUrl,
  };
}

class UsageError extends Error {}

let options: ReturnType<typeof parseOptions>;
try {
  options = parseOptions();
} catch (error) {
  if (
    !(error instanceof UsageError) &&
    (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') !== true
  )
    throw error;
  console.error(`bench:streaming: ${(error as Error).message} (--help lists the options)`);
  process.exit(2);
}
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const scaled = options.databaseUrl !== undefined;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (t: number) => (t >= 10_000 ? '> 10 s' : `${t.toFixed(1)} ms`);

// ---- processes --------------------------------------------------------------------------------

interface Role {
  name: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `woolly <args>` and waits until `ready` says it serves (or it exits: then its output). */
async function startRole(
  args: string[],
  env: Record<string, string>,
  ready: (output: string) => Promise<boolean>,
) {
  const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const role: Role = {
    name: `woolly ${args.join(' ')}`,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${role.name} exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      await role.stop();
      throw new Error(`${role.name} did not come up within 60 s:\n${output}`);
    }
    if (await ready(output).catch(() => false)) return role;
    await sleep(100);
  }
}

const httpOk = (url: string) => async () => (await fetch(url)).ok;

function freePort(): Promise<number> {
  return import('node:net').then(
    ({ createServer }) =>
      new Promise((resolve) => {
        const s = createServer().listen(0, '127.0.0.1', () => {
          const { port } = s.address() as { port: number };
          s.close(() => resolve(port));
        });
      }),
  );
}

/** Resident memory of a process, in KiB. */
function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
}

/**
 * Resident memory once the garbage the last burst left is collected: the lowest of samples taken
 * over `ms` (one reading lands anywhere in a GC cycle, which at 10,000 clients moves the
 * per-connection figure by KiBs).
 */
async function settledRssKiB(pid: number, ms: number): Promise<number> {
  let low = rssKiB(pid);
  for (const end = Date.now() + ms; Date.now() < end; ) {
    await sleep(250);
    low = Math.min(low, rssKiB(pid));
  }
  return low;
}

/** CPU seconds a process has used (user + system). */
function cpuSeconds(pid: number): number {
  // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function openFilesLimit(): number {
  const line = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return line?.[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(line?.[1] ?? Number.NaN);
}

/** This process's environment without the variables that pick a shape or a port. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (
      /^(DATABASE_URL|DB_|REDIS_|LOCAL_DOMAIN|WEB_DOMAIN|PORT$|BIND$|STREAMING_|WOOLLY_|S3_|SMTP_|SECRET_KEY_BASE|VAPID_|OTP_SECRET|ACTIVE_RECORD_)/.test(
        k,
      )
    )
      continue;
    env[k] = v;
  }
  return env;
}

// ---- accounts ---------------------------------------------------------------------------------

interface BenchAccount {
  id: string;
  token: string;
}

/**
 * Local accounts with confirmed users and one token each, by set-based SQL: bcrypt for 10,000
 * passwords would take minutes, and the bench never signs in. Ids are snowflakes of an hour ago,
 * below anything the server mints during the run.
 */
async function createAccounts(db: Database, domain: string, count: number): Promise<BenchAccount[]> {
  const base = BigInt(Date.now() - 3_600_000) << 16n;
  const accounts = Array.from({ length: count }, (_, g) => ({
    id: (base + BigInt(g)).toString(),
    token: newSecret(),
  }));
  await db.query(
    `insert into accounts (id, username, display_name, uri, url, created_at, updated_at)
     select $1::bigint + g, 'sb' || g, 'Stream bench ' || g,
            'https://' || $2 || '/users/sb' || g, 'https://' || $2 || '/@sb' || g, now(), now()
     from generate_series(0, $3::int - 1) g`,
    [base.toString(), domain, count],
  );
  await db.query(
    `insert into users (id, account_id, email, encrypted_password, confirmed_at, created_at, updated_at)
     select $1::bigint + g, $1::bigint + g, 'sb' || g || '@bench.invalid', '!', now(), now(), now()
     from generate_series(0, $2::int - 1) g`,
    [base.toString(), count],
  );
  for (let i = 0; i < count; i += 5000) {
    const slice = accounts.slice(i, i + 5000);
    await db.query(
      `insert into oauth_access_tokens (id, token_hash, user_id, scopes)
       select id, hash, id, 'read write follow' from unnest($1::bigint[], $2::text[]) as t(id, hash)`,
      [slice.map((a) => a.id), slice.map((a) => hashSecret(a.token))],
    );
  }
  return accounts;
}

// ---- clients ----------------------------------------------------------------------------------

interface ClientPool {
  open: number;
  failed: number;
  firstError: string | undefined;
  connectSeconds: number;
  reset(): void;
  report(): Promise<Extract<ClientReport, { type: 'report' }>[]>;
  close(): Promise<void>;
}

async function openClients(url: string, tokens: string[], streams: string[]): Promise<ClientPool> {
  const threads = Math.max(1, Math.min(options.threads, tokens.length));
  const workers: Worker[] = [];
  const next = (w: Worker) =>
    new Promise<ClientReport>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      w.once('error', onError);
      w.once('message', (m: ClientReport) => {
        w.off('error', onError);
        resolve(m);
      });
    });
  const t0 = performance.now();
  const connected: Promise<ClientReport>[] = [];
  for (let t = 0; t < threads; t++) {
    const setup: ClientSetup = {
      url,
      tokens: tokens.filter((_, i) => i % threads === t),
      streams,
      connectRate: options.connectRate / threads,
    };
    const w = new Worker(new URL('./clients.ts', import.meta.url), { workerData: setup });
    workers.push(w);
    connected.push(next(w));
  }
  const results = (await Promise.all(connected)) as Extract<ClientReport, { type: 'connected' }>[];
  const send = (command: ClientCommand) => {
    for (const w of workers) w.postMessage(command);
  };
  return {
    open: results.reduce((n, r) => n + r.open, 0),
    failed: results.reduce((n, r) => n + r.failed, 0),
    firstError: results.find((r) => r.firstError)?.firstError,
    connectSeconds: (performance.now() - t0) / 1000,
    reset: () => send({ type: 'reset' }),
    async report() {
      const answers = workers.map(next);
      send({ type: 'report' });
      return (await Promise.all(answers)) as Extract<ClientReport, { type: 'report' }>[];
    },
    async close() {
      const answers = workers.map(next);
      send({ type: 'close' });
      await Promise.all(answers);
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

interface Merged {
  received: number;
  p50: number;
  p99: number;
  max: number;
  firstAt: number;
  lastAt: number;
}

function merge(reports: Extract<ClientReport, { type: 'report' }>[], stream: string): Merged {
  const histogram = new Float64Array(BUCKETS + 1);
  let received = 0;
  let max = 0;
  let firstAt = Number.POSITIVE_INFINITY;
  let lastAt = 0;
  for (const r of reports) {
    const s: StreamStats | undefined = r.streams[stream];
    if (s === undefined || s.received === 0) continue;
    received += s.received;
    max = Math.max(max, s.max);
    firstAt = Math.min(firstAt, s.firstAt);
    lastAt = Math.max(lastAt, s.lastAt);
    for (let i = 0; i <= BUCKETS; i++) histogram[i]! += s.histogram[i]!;
  }
  const at = (p: number) => {
    const rank = Math.ceil(received * p);
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += histogram[i]!;
      if (seen >= rank) return i === BUCKETS ? Number.POSITIVE_INFINITY : (i + 1) * BUCKET_MS;
    }
    return Number.NaN;
  };
  return { received, p50: at(0.5), p99: at(0.99), max, firstAt, lastAt };
}

/** Polls the clients until `expected` frames have arrived or none arrived for 3 s (at most 30 s). */
async function drain(pool: ClientPool, streams: string[], expected: number) {
  const deadline = Date.now() + 30_000;
  let last = -1;
  let still = Date.now();
  for (;;) {
    const reports = await pool.report();
    const total = streams.reduce((n, s) => n + merge(reports, s).received, 0);
    if (total >= expected || Date.now() > deadline || Date.now() - still > 3000) return reports;
    if (total !== last) {
      last = total;
      still = Date.now();
    }
    await sleep(250);
  }
}

function summarise(reports: Extract<ClientReport, { type: 'report' }>[]) {
  const closed: Record<string, number> = {};
  for (const r of reports)
    for (const [code, n] of Object.entries(r.closedByServer)) closed[code] = (closed[code] ?? 0) + n;
  const errors = reports.reduce((n, r) => n + r.errors, 0);
  const other = reports.reduce((n, r) => n + r.other, 0);
  const firstErrorFrame = reports.find((r) => r.firstErrorFrame)?.firstErrorFrame;
  const notes: string[] = [];
  if (Object.keys(closed).length > 0)
    notes.push(
      `server closed ${Object.entries(closed)
        .map(([code, n]) => `${n} (code ${code})`)
        .join(', ')}`,
    );
  if (errors > 0) notes.push(`${errors} error frames, first: ${firstErrorFrame}`);
  if (other > 0) notes.push(`${other} other frames`);
  return notes;
}

/** Calls `send` `rate` times a second for `seconds`, catching up after a slow tick. */
async function paced(rate: number, seconds: number, send: (i: number) => Promise<void>) {
  const total = Math.max(1, Math.round(rate * seconds));
  const t0 = performance.now();
  const inFlight: Promise<void>[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(
      send(i).catch((error: unknown) => {
        failures++;
        firstFailure ??= String(error instanceof Error ? error.message : error);
      }),
    );
  }
  await Promise.all(inFlight);
  return { sent: total - failures, failures, firstFailure, seconds: (performance.now() - t0) / 1000 };
}

// ---- the status events ------------------------------------------------------------------------

/** A Status entity as Mastodon renders it for a public stream, carrying its send time. */
function statusPayload(domain: string, author: string, sentAt: number, seq: number) {
  const id = ((BigInt(Date.now()) << 16n) | BigInt(seq & 0xffff)).toString();
  const created = new Date(sentAt).toISOString();
  const base = `https://${domain}`;
  return {
    id,
    created_at: created,
    in_reply_to_id: null,
    in_reply_to_account_id: null,
    sensitive: false,
    spoiler_text: '',
    visibility: 'public',
    language: 'en',
    uri: `${base}/users/sb0/statuses/${id}`,
    url: `${base}/@sb0/${id}`,
    replies_count: 0,
    reblogs_count: 0,
    favourites_count: 0,
    quotes_count: 0,
    edited_at: null,
    content: `<p>Streaming benchmark status ${seq}: a paragraph of ordinary length, so that the frame is as large as a real one. wbsent=${sentAt.toFixed(3)}</p>`,
    reblog: null,
    quote: null,
    application: { name: 'bench', website: null },
    account: {
      id: author,
      username: 'sb0',
      acct: 'sb0',
      display_name: 'Stream bench 0',
      locked: false,
      bot: false,
      discoverable: null,
      indexable: false,
      group: false,
      created_at: created,
      note: '',
      url: `${base}/@sb0`,
      uri: `${base}/users/sb0`,
      avatar: `${base}/avatars/original/missing.png`,
      avatar_static: `${base}/avatars/original/missing.png`,
      header: `${base}/headers/original/missing.png`,
      header_static: `${base}/headers/original/missing.png`,
      followers_count: 0,
      following_count: 0,
      statuses_count: seq + 1,
      last_status_at: created.slice(0, 10),
      hide_collections: null,
      noindex: false,
      emojis: [],
      roles: [],
      fields: [],
    },
    media_attachments: [],
    mentions: [],
    tags: [],
    emojis: [],
    card: null,
    poll: null,
  };
}

/** Posts a public status through the REST API whose text carries its send time. */
async function postStatus(webUrl: string, token: string, label: string) {
  const sentAt = now();
  const res = await fetch(`${webUrl}/api/v1/statuses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ status: `${label} wbsent=${sentAt.toFixed(3)}`, visibility: 'public' }),
  });
  if (!res.ok) throw new Error(`POST /api/v1/statuses: ${res.status} ${(await res.text()).slice(0, 200)}`);
  await res.arrayBuffer();
}

// ---- the run ----------------------------------------------------------------------------------

const dataDir = mkdtempSync(join(tmpdir(), 'woolly-bench-streaming-'));
const roles: Role[] = [];
let scratch: { admin: postgres.Sql; name: string } | undefined;
let pools: ClientPool[] = [];

try {
  const [webPort, streamingPort] = [await freePort(), await freePort()];
  const env: Record<string, string> = {
    ...baseEnv(),
    WOOLLY_DATA_DIR: dataDir,
    BIND: '127.0.0.1',
    PORT: String(webPort),
    LOG_LEVEL: 'warn',
  };
  if (scaled) {
    const name = `woolly_bench_streaming_${randomBytes(4).toString('hex')}`;
    const admin = postgres(options.databaseUrl!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    scratch = { admin, name };
    const url = new URL(options.databaseUrl!);
    url.pathname = `/${name}`;
    Object.assign(env, generateSecrets(), {
      DATABASE_URL: url.toString(),
      REDIS_URL: options.redisUrl!,
      LOCAL_DOMAIN: 'bench.test',
      STREAMING_PORT: String(streamingPort),
    });
  }
  const config = loadConfig({ env, readFiles: false });
  const domain = config.localDomain;

  // Scaled: migrate the scratch database, then the streaming role alone. Embedded: `woolly start`
  // migrates its own database and serves streaming on its port.
  let streamingRole: Role;
  if (scaled) {
    const { database } = await openDatabaseForCommand(config);
    await migrate(database);
    await database.close();
    streamingRole = await startRole(
      ['streaming'],
      env,
      httpOk(`http://127.0.0.1:${streamingPort}/api/v1/streaming/health`),
    );
  } else {
    streamingRole = await startRole(['start'], env, httpOk(`http://127.0.0.1:${webPort}/health`));
  }
  roles.push(streamingRole);
  const pid = streamingRole.child.pid!;
  const streamingUrl = `ws://127.0.0.1:${scaled ? streamingPort : webPort}/api/v1/streaming`;
  const webUrl = `http://127.0.0.1:${webPort}`;

  // Accounts: the clients', the end-to-end run's followers, and posters for the REST API (each
  // under Mastodon's 300 statuses per token per 5 minutes and per account per 3 hours).
  const restPosts =
    (scaled ? 0 : Math.round(options.rate * options.duration)) +
    (options.e2eClients > 0 ? Math.round(options.e2eRate * options.e2eDuration) : 0);
  const posterCount = Math.ceil(restPosts / 250) + 1;
  const t0 = performance.now();
  const { database } = await openDatabaseForCommand(config);
  let clientAccounts: BenchAccount[];
  let followers: BenchAccount[];
  let posters: BenchAccount[];
  try {
    const all = await createAccounts(database, domain, options.users + options.e2eClients + posterCount);
    clientAccounts = all.slice(0, options.users);
    followers = all.slice(options.users, options.users + options.e2eClients);
    posters = all.slice(options.users + options.e2eClients);
    // Every end-to-end follower follows every poster: each post lands in each of their homes.
    if (followers.length > 0)
      await database.query(
        `insert into follows (id, account_id, target_account_id)
         select $1::bigint + row_number() over (), f.id, p.id
         from unnest($2::bigint[]) as f(id), unnest($3::bigint[]) as p(id)`,
        [
          (BigInt(Date.now() - 3_500_000) << 16n).toString(),
          followers.map((a) => a.id),
          posters.map((a) => a.id),
        ],
      );
  } finally {
    // Embedded: the server's own queries wait while this borrows its database.
    await database.close();
  }
  const setupSeconds = (performance.now() - t0) / 1000;

  const limit = openFilesLimit();
  const shape = scaled
    ? 'scaled (PostgreSQL + Redis): `woolly streaming` in its own process'
    : 'embedded (PGlite): `woolly start` in its own process (web, worker and streaming in one)';
  console.log(
    `woolly streaming, ${shape}\n` +
      `Node ${process.version}, ${process.platform}/${process.arch}, ${availableParallelism()} cores; ` +
      `open files limit ${limit} per process (the server and this load generator each hold one descriptor per client)\n` +
      `${options.users + options.e2eClients + posterCount} accounts and tokens created in ${setupSeconds.toFixed(1)} s\n`,
  );
  if (options.clients + 100 > limit)
    console.log(
      `WARNING: ${options.clients} clients need more than the open files limit (${limit}); Node raises its soft limit to the hard limit by itself, so raise the hard limit (\`ulimit -Hn\`, as root) or run fewer clients.\n`,
    );

  // ---- delivery run --------------------------------------------------------------------------
  const rssBefore = await settledRssKiB(pid, 3000);
  const tokens = Array.from(
    { length: options.clients },
    (_, i) => clientAccounts[i % clientAccounts.length]!.token,
  );
  const pool = await openClients(streamingUrl, tokens, ['user', 'public']);
  pools.push(pool);
  console.log(
    `${fmt(pool.open)} clients open (user + public streams, over ${clientAccounts.length} accounts, ${Math.min(options.threads, tokens.length)} client threads) in ${pool.connectSeconds.toFixed(1)} s` +
      `${pool.failed > 0 ? `; ${pool.failed} FAILED, first: ${pool.firstError}` : ''}`,
  );
  if (pool.open === 0) throw new Error(`no client could connect: ${pool.firstError}`);
  // Idle: let the subscriptions settle and the server's heap with them.
  await sleep(2000);
  const rssIdle = await settledRssKiB(pid, 5000);
  const perConnection = (rssIdle - rssBefore) / pool.open;
  console.log(
    `server RSS ${(rssBefore / 1024).toFixed(1)} MB before, ${(rssIdle / 1024).toFixed(1)} MB with the clients idle: ` +
      (pool.open >= 5000
        ? `${perConnection.toFixed(1)} KiB per idle connection   target ≤ 8 KiB  ${perConnection <= 8 ? 'ok' : 'OVER'}\n`
        : '(too few clients for a per-connection figure: the heap moves more than they cost)\n'),
  );

  pool.reset();
  const offered = options.rate * pool.open;
  const cpu0 = cpuSeconds(pid);
  const loadCpu0 = process.cpuUsage();
  let sendWindow: Awaited<ReturnType<typeof paced>>;
  if (scaled) {
    const { Redis } = await import('ioredis');
    const redis = new Redis(options.redisUrl!, { lazyConnect: false, maxRetriesPerRequest: 1 });
    try {
      const channel = publicChannel('all');
      const author = posters[0]!.id;
      console.log(
        `delivery: ${options.rate} events/s published on Redis ${channel} (Mastodon's message format) for ${options.duration} s, ` +
          `offered ${fmt(offered)} deliveries/s`,
      );
      sendWindow = await paced(options.rate, options.duration, async (i) => {
        const sentAt = now();
        const message = JSON.stringify({
          event: 'update',
          payload: statusPayload(domain, author, sentAt, i),
        });
        await redis.publish(channel, message);
      });
    } finally {
      redis.disconnect();
    }
  } else {
    console.log(
      `delivery: ${options.rate} public statuses/s posted through the REST API for ${options.duration} s (no Redis in the embedded shape), ` +
        `offered ${fmt(offered)} deliveries/s`,
    );
    sendWindow = await paced(options.rate, options.duration, (i) =>
      postStatus(webUrl, posters[i % posters.length]!.token, `Streaming benchmark status ${i}.`),
    );
  }
  const expected = sendWindow.sent * pool.open;
  const reports = await drain(pool, ['public'], expected);
  const cpu = cpuSeconds(pid) - cpu0;
  const loadCpuUsage = process.cpuUsage(loadCpu0);
  const loadCpu = (loadCpuUsage.user + loadCpuUsage.system) / 1e6;
  const pub = merge(reports, 'public');
  const span = (pub.lastAt - pub.firstAt) / 1000;
  const achieved = pub.received / Math.max(span, sendWindow.seconds);
  const dropped = expected - pub.received;
  const rssAfter = rssKiB(pid);
  console.log(
    `  ${fmt(sendWindow.sent)} events sent${sendWindow.failures ? ` (${sendWindow.failures} failed: ${sendWindow.firstFailure})` : ''}; ` +
      `delivered ${fmt(pub.received)} of ${fmt(expected)} (${fmt(Math.max(0, dropped))} dropped, ${((Math.max(0, dropped) / Math.max(1, expected)) * 100).toFixed(2)} %)`,
  );
  console.log(
    `  ${fmt(achieved)} deliveries/s achieved of ${fmt(offered)} offered   target ≥ 50,000  ` +
      (achieved >= 50_000
        ? 'ok'
        : offered >= 50_000 && dropped <= 0 && achieved >= 0.95 * offered
          ? 'ok (kept up with the offered load; the receive span includes the last event’s latency)'
          : offered < 50_000
            ? '(offered below it: raise --rate or --clients)'
            : 'UNDER'),
  );
  console.log(
    `  latency send → receive: p50 ${ms(pub.p50)}, p99 ${ms(pub.p99)}, max ${ms(pub.max)}   target p99 ≤ 100 ms  ${pub.p99 <= 100 ? 'ok' : 'OVER'}`,
  );
  const runSeconds = Math.max(span, sendWindow.seconds);
  console.log(
    `  CPU during the run: server ${(cpu / runSeconds).toFixed(2)} cores, load generator ${(loadCpu / runSeconds).toFixed(2)} cores; ` +
      `server RSS after it ${(rssAfter / 1024).toFixed(1)} MB`,
  );
  // Independent of what else the machine runs: the server's CPU time per delivery.
  if (pub.received > 0) {
    const perDelivery = (cpu / pub.received) * 1e6;
    console.log(
      `  server CPU per delivery ${perDelivery.toFixed(1)} µs: ${fmt(1e6 / perDelivery)} deliveries/s per core it has to itself`,
    );
  }
  for (const note of summarise(reports)) console.log(`  ${note}`);
  await pool.close();
  pools = pools.filter((p) => p !== pool);

  // ---- end-to-end run ------------------------------------------------------------------------
  if (options.e2eClients > 0) {
    if (scaled) {
      roles.push(await startRole(['web'], env, httpOk(`${webUrl}/health`)));
      roles.push(await startRole(['worker'], env, async (output) => /ready/.test(output)));
    }
    const e2ePool = await openClients(
      streamingUrl,
      followers.map((a) => a.token),
      ['user', 'public'],
    );
    pools.push(e2ePool);
    console.log(
      `\nend-to-end: ${fmt(e2ePool.open)} clients (one per follower, user + public streams)` +
        `${e2ePool.failed > 0 ? `; ${e2ePool.failed} FAILED, first: ${e2ePool.firstError}` : ''}; ` +
        `${options.e2eRate} statuses/s posted through POST /api/v1/statuses for ${options.e2eDuration} s by ${posters.length} accounts they all follow`,
    );
    console.log(
      scaled
        ? '  path: `woolly web` → fan-out job (`woolly worker`) → Redis timeline:<follower> → `woolly streaming` → user stream'
        : '  path: `woolly start`: REST → fan-out job → in-process bus timeline:<follower> → user stream',
    );
    // Presence keys are set as the subscriptions start; publishers render per user only after.
    await sleep(2000);
    e2ePool.reset();
    const window = await paced(options.e2eRate, options.e2eDuration, (i) =>
      postStatus(webUrl, posters[i % posters.length]!.token, `End-to-end status ${i}.`),
    );
    const e2eExpected = window.sent * e2ePool.open;
    const e2eReports = await drain(e2ePool, ['user', 'public'], 2 * e2eExpected);
    for (const stream of ['user', 'public']) {
      const m = merge(e2eReports, stream);
      console.log(
        `  ${stream.padEnd(6)} stream: delivered ${fmt(m.received)} of ${fmt(e2eExpected)}; ` +
          `latency POST sent → receive: p50 ${ms(m.p50)}, p99 ${ms(m.p99)}, max ${ms(m.max)}   target p99 ≤ 100 ms  ${m.p99 <= 100 ? 'ok' : 'OVER'}`,
      );
    }
    if (window.failures) console.log(`  ${window.failures} posts failed: ${window.firstFailure}`);
    for (const note of summarise(e2eReports)) console.log(`  ${note}`);
    await e2ePool.close();
    pools = pools.filter((p) => p !== e2ePool);
  }
  console.log(
    '\nThe load generator runs on the same cores as the server; figures from a machine shared with other work are lower bounds.',
  );
} finally {
  for (const pool of pools) await pool.close().catch(() => {});
  for (const role of roles.reverse()) await role.stop();
  if (scratch !== undefined) {
    await scratch.admin.unsafe(`drop database if exists ${scratch.name} with (force)`);
    await scratch.admin.end();
  }
  rmSync(dataDir, { recursive: true, force: true });
}
