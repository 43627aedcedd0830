/**
 * bench/timeline — timeline read throughput and fan-out time (DESIGN.md §7).
 *
 *   node bench/timeline/run.ts [--accounts 10000] [--statuses 1000000] [--following 500]
 *        [--connections 10] [--duration 10] [--fanout-followers 10000] [--fanout-fill 800]
 *
 * Generates a dataset with set-based SQL (local accounts, public statuses spread over them, a
 * confirmed viewer following `--following` of them, its home feed built), serves it in-process, and
 * loads home, public and account timelines (40 statuses a page) with autocannon in a worker thread:
 * requests/s, p50, p99, beside the ceiling — the same page read by one raw SQL query in a loop —
 * and beside the targets. Then fan-out: a status from an account with `--fanout-followers` local
 * followers (each home already `--fanout-fill` entries long, 800 = full) until it is in every home.
 * Embedded shape by default; PostgreSQL + Redis with DATABASE_URL and REDIS_URL (a scratch database
 * is created on that server and dropped).
 */
import autocannon from 'autocannon';
import postgres from 'postgres';
import { THROTTLE_RULES } from '../../src/api/rate-limit.ts';
import type { Database } from '../../src/db/database.ts';
import { newId } from '../../src/db/ids.ts';
import { postgresOptions, wrapPostgres } from '../../src/db/postgres.ts';
import type { Context } from '../../src/domain/context.ts';
import { fanOutStatus } from '../../src/domain/timelines/distribution.ts';
import { rebuildHome } from '../../src/domain/timelines/feeds.ts';
import { buildServer } from '../../src/http/server.ts';
import { FEED_MAX_ITEMS } from '../../src/infra/feeds/feed-store.ts';
import { createTestUser } from '../../test/support/accounts.ts';
import { createTestContext } from '../../test/support/context.ts';

const KNOWN_FLAGS = [
  'accounts',
  'statuses',
  'following',
  'connections',
  'duration',
  'fanout-followers',
  'fanout-fill',
];
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(
    'usage: node bench/timeline/run.ts [--accounts 10000] [--statuses 1000000] [--following 500]\n' +
      '         [--connections 10] [--duration 10] [--fanout-followers 10000] [--fanout-fill 800]\n' +
      'Embedded shape by default; PostgreSQL + Redis with DATABASE_URL and REDIS_URL. See bench/timeline/README.md.',
  );
  process.exit(0);
}
for (const arg of process.argv.slice(2)) {
  if (arg.startsWith('--') && !KNOWN_FLAGS.includes(arg.slice(2))) {
    console.error(`bench/timeline: unknown flag ${arg} (try --help)`);
    process.exit(2);
  }
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} wants a number`);
  return value;
}

const ACCOUNTS = flag('accounts', 10_000);
const STATUSES = flag('statuses', 1_000_000);
const FOLLOWING = Math.min(flag('following', 500), ACCOUNTS);
const CONNECTIONS = flag('connections', 10);
const DURATION = flag('duration', 10);
const FANOUT_FOLLOWERS = flag('fanout-followers', 10_000);
/** Entries already in each follower's home before the fan-out (full: the worst case for trimming). */
const FANOUT_FILL = Math.min(flag('fanout-fill', FEED_MAX_ITEMS), FEED_MAX_ITEMS);
const LIMIT = 40;

const ms = (t: number) => `${t.toFixed(1)} ms`;
const since = (t: number) => ((performance.now() - t) / 1000).toFixed(1);

const ctx = await createTestContext();
const shape = ctx.database.kind === 'postgres' ? 'scaled (PostgreSQL + Redis)' : 'embedded (PGlite)';
/** SQL statements and cache/feed-store calls the server made, to count them for one request. */
const calls = { sql: 0, cache: 0 };
// The test database's pool is small (5); the server gets the pool a web process would have.
let serverDb: Database | undefined;
if (ctx.config.database.kind === 'postgres') {
  const { url, options } = postgresOptions(ctx.config.database);
  const counted = { ...options, debug: () => void calls.sql++ };
  serverDb = wrapPostgres(url ? postgres(url, counted) : postgres(counted), 'postgres');
} else {
  // PGlite: Drizzle and raw queries both go through the one client under Drizzle's session.
  const client = (ctx.database.db as unknown as { session: { client: Record<string, unknown> } }).session
    .client as Record<'query' | 'exec' | 'transaction', (...args: unknown[]) => unknown>;
  for (const method of ['query', 'exec', 'transaction'] as const) {
    const original = client[method].bind(client);
    client[method] = (...args: unknown[]) => {
      calls.sql++;
      return original(...args);
    };
  }
}
/** Counts every call on an adapter (a call is one Redis round trip at most). */
function countedCalls<T extends object>(target: T): T {
  return new Proxy(target, {
    get(obj, key, receiver) {
      const value = Reflect.get(obj, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.cache++;
        return value.apply(obj, args);
      };
    },
  });
}
const serverCtx: Context = {
  ...ctx,
  ...(serverDb ? { database: serverDb } : {}),
  cache: countedCalls(ctx.cache),
  feeds: countedCalls(ctx.feeds),
};
const app = await buildServer(serverCtx, {
  // Mastodon's throttles would answer 429 after 300 requests: lifted, but still counted.
  rateLimits: {
    overrides: Object.fromEntries(THROTTLE_RULES.map((r) => [r.name, { limit: 1_000_000_000 }])),
  },
});

/** Every feed this run makes, to drop from Redis at the end. */
const feedOwners = new Set<string>();
try {
  console.log(
    `woolly timelines, ${shape} (Node ${process.version}, ${process.platform}/${process.arch})\n` +
      `dataset: ${ACCOUNTS} accounts, ${STATUSES} statuses, viewer following ${FOLLOWING}; ` +
      `autocannon ${CONNECTIONS} connections × ${DURATION} s\n`,
  );

  // ---- dataset -------------------------------------------------------------------------------
  let t = performance.now();
  const db = ctx.database;
  const viewer = await createTestUser(ctx, { username: 'viewer' });
  const domain = ctx.config.localDomain;
  // Account ids: a block above every id minted so far; status ids: one per second back from now.
  const accountBase = BigInt(newId());
  await db.query(
    `insert into accounts (id, username, display_name, uri, url, created_at, updated_at)
     select $1::bigint + g, 'bench' || g, 'Bench ' || g,
            'https://' || $2 || '/users/bench' || g, 'https://' || $2 || '/@bench' || g, now(), now()
     from generate_series(0, $3::int - 1) g`,
    [accountBase.toString(), domain, ACCOUNTS],
  );
  // Local accounts are shown only with a confirmed, approved user behind them.
  await db.query(
    `insert into users (id, account_id, email, encrypted_password, confirmed_at, created_at, updated_at)
     select $1::bigint + g, $1::bigint + g, 'bench' || g || '@' || $2, '!', now(), now(), now()
     from generate_series(0, $3::int - 1) g`,
    [accountBase.toString(), domain, ACCOUNTS],
  );
  const start = Date.now() - STATUSES * 1000;
  const BATCH = 100_000;
  for (let from = 0; from < STATUSES; from += BATCH) {
    await db.query(
      `insert into statuses (id, account_id, uri, url, text, content, visibility, language, local,
                             created_at, updated_at)
       select x.id, x.account_id,
              'https://' || $3 || '/users/bench' || x.n || '/statuses/' || x.id,
              'https://' || $3 || '/@bench' || x.n || '/' || x.id,
              'Status ' || g || ' of the timeline benchmark.',
              '<p>Status ' || g || ' of the timeline benchmark.</p>',
              'public', 'en', true, x.at, x.at
       from generate_series($4::int, $5::int) g,
       lateral (select (($1::bigint + g::bigint * 1000) << 16) | (g & 65535) as id,
                       $2::bigint + g % $6::int as account_id, g % $6::int as n,
                       to_timestamp(($1::bigint + g::bigint * 1000) / 1000.0) as at) x`,
      [start, accountBase.toString(), domain, from, Math.min(from + BATCH, STATUSES) - 1, ACCOUNTS],
    );
  }
  // The viewer follows accounts spread evenly over the range.
  const step = Math.max(1, Math.floor(ACCOUNTS / Math.max(1, FOLLOWING)));
  await db.query(
    `insert into follows (id, account_id, target_account_id)
     select $1::bigint + g, $2::bigint, $3::bigint + g * $4::int from generate_series(0, $5::int - 1) g`,
    [newId(), viewer.account.id, accountBase.toString(), step, FOLLOWING],
  );
  await db.query(
    `insert into account_stats (account_id, statuses_count, followers_count, last_status_at)
     select a.id, coalesce(s.n, 0), case when f.target_account_id is null then 0 else 1 end, s.last
     from accounts a
     left join (select account_id, count(*) as n, max(created_at) as last from statuses group by account_id) s
       on s.account_id = a.id
     left join follows f on f.target_account_id = a.id and f.account_id = $1::bigint
     where a.id >= $2::bigint
     on conflict (account_id) do update set statuses_count = excluded.statuses_count,
       followers_count = excluded.followers_count, last_status_at = excluded.last_status_at`,
    [viewer.account.id, accountBase.toString()],
  );
  await db.query(
    `insert into account_stats (account_id, following_count) values ($1::bigint, $2::int)
     on conflict (account_id) do update set following_count = excluded.following_count`,
    [viewer.account.id, FOLLOWING],
  );
  await db.exec('analyze');
  feedOwners.add(viewer.account.id);
  const homeSize = await rebuildHome(ctx, viewer.account.id);
  console.log(`generated in ${since(t)} s; viewer's home holds ${homeSize} entries\n`);

  // ---- HTTP load -----------------------------------------------------------------------------
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const base = `http://127.0.0.1:${port}`;
  const auth = { authorization: `Bearer ${viewer.token}` };
  const followed = (accountBase + BigInt(step)).toString();
  const pages = {
    home: `/api/v1/timelines/home?limit=${LIMIT}`,
    public: `/api/v1/timelines/public?limit=${LIMIT}`,
    account: `/api/v1/accounts/${followed}/statuses?limit=${LIMIT}`,
  };
  // A wrong page would measure error handling: check each once first (twice: the second request
  // is counted, after the first has warmed what is built once).
  const perRequest: Record<string, string> = {};
  for (const [name, path] of Object.entries(pages)) {
    for (let i = 0; i < 2; i++) {
      calls.sql = 0;
      calls.cache = 0;
      const res = await fetch(base + path, { headers: auth });
      const body = (await res.json()) as unknown[];
      if (!res.ok || !Array.isArray(body) || body.length === 0)
        throw new Error(`${name}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
    }
    perRequest[name] = `${calls.sql} SQL statements, ${calls.cache} cache/feed calls a request`;
  }

  interface Load {
    rps: number;
    p50: number;
    p99: number;
    bad: number;
  }
  async function load(path: string, overallRate?: number): Promise<Load> {
    const result = await autocannon({
      url: base + path,
      headers: auth,
      connections: CONNECTIONS,
      duration: DURATION,
      workers: 1, // the load runs on its own thread, not on the server's event loop
      ...(overallRate ? { overallRate } : {}),
    });
    return {
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      bad: result.non2xx + result.errors,
    };
  }

  // ---- ceiling: the same page by one raw SQL query -------------------------------------------
  const cols = `s.id, s.account_id, s.uri, s.url, s.content, s.spoiler_text, s.visibility, s.sensitive,
    s.language, s.in_reply_to_id, s.reblog_of_id, s.replies_count, s.reblogs_count, s.favourites_count,
    s.created_at, s.edited_at, a.username, a.domain, a.display_name, a.note, a.uri as account_uri,
    a.url as account_url, a.locked, a.bot, a.created_at as account_created_at`;
  const ceilings: Record<keyof typeof pages, [string, unknown[]]> = {
    home: [
      `select ${cols} from statuses s join accounts a on a.id = s.account_id
       where s.account_id = $1::bigint
          or s.account_id in (select target_account_id from follows where account_id = $1::bigint)
       order by s.id desc limit ${LIMIT}`,
      [viewer.account.id],
    ],
    public: [
      `select ${cols} from statuses s join accounts a on a.id = s.account_id
       where s.visibility = 'public' and s.reblog_of_id is null order by s.id desc limit ${LIMIT}`,
      [],
    ],
    account: [
      `select ${cols} from statuses s join accounts a on a.id = s.account_id
       where s.account_id = $1::bigint order by s.id desc limit ${LIMIT}`,
      [followed],
    ],
  };
  async function ceiling([text, params]: [string, unknown[]]): Promise<Load> {
    const sqlDb = serverDb ?? db;
    const latencies: number[] = [];
    const end = performance.now() + DURATION * 1000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < end) {
          const q = performance.now();
          const rows = await sqlDb.query(text, params);
          latencies.push(performance.now() - q);
          if (rows.length === 0) throw new Error('the ceiling query found nothing');
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!;
    return { rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), bad: 0 };
  }

  const row = (label: string, r: Load, target = '') =>
    console.log(
      `${label.padEnd(40)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${ms(r.p50).padStart(9)}   p99 ${ms(r.p99).padStart(9)}` +
        `${r.bad ? `   (${r.bad} errors/non-2xx)` : ''}${target ? `   ${target}` : ''}`,
    );

  const results: Record<string, { http: Load; sql: Load }> = {};
  for (const [name, path] of Object.entries(pages) as [keyof typeof pages, string][]) {
    results[name] = { http: await load(path), sql: await ceiling(ceilings[name]) };
  }
  const paced = await load(pages.home, 1000);

  console.log(`${'page (40 statuses)'.padEnd(40)} throughput      latency\n`);
  for (const [name, { http, sql }] of Object.entries(results)) {
    const target =
      name === 'home' ? `target ≥ 2000 req/s (PostgreSQL)  ${http.rps >= 2000 ? 'ok' : 'UNDER'}` : '';
    row(`${name} timeline, HTTP`, http, target);
    console.log(`${''.padEnd(40)} (${perRequest[name]})`);
    row(
      `${name} page, one raw SQL query (ceiling)`,
      sql,
      `HTTP at ${((http.rps / sql.rps) * 100).toFixed(0)} % of it`,
    );
  }
  row(
    'home timeline, HTTP paced at 1000 req/s',
    paced,
    `target p99 < 50 ms at 1000 req/s (PostgreSQL)  ${paced.p99 >= 50 ? 'OVER' : paced.rps < 950 ? 'rate not reached' : 'ok'}`,
  );
  await app.close();

  // ---- fan-out -------------------------------------------------------------------------------
  // An author with N local followers whose homes hold FANOUT_FILL entries each.
  t = performance.now();
  const N = FANOUT_FOLLOWERS;
  const authorId = BigInt(newId()) + 1_000_000n;
  await db.query(
    `insert into accounts (id, username, uri, created_at, updated_at)
     select $1::bigint + g, 'fan' || g, 'https://' || $3 || '/users/fan' || g, now(), now()
     from generate_series(0, $2::int) g`,
    [authorId.toString(), N, domain],
  );
  await db.query(
    `insert into follows (id, account_id, target_account_id)
     select $1::bigint + g, $2::bigint + g, $2::bigint from generate_series(1, $3::int) g`,
    [newId(), authorId.toString(), N],
  );
  for (let g = 0; g <= N; g++) feedOwners.add((authorId + BigInt(g)).toString());
  const filler = Array.from({ length: FANOUT_FILL }, (_, i) => ({
    statusId: String(i + 1),
    reblogOfId: null,
  }));
  if (ctx.feeds.kind === 'redis') {
    for (let g = 1; g <= N; g += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, N - g + 1) }, (_, k) =>
          ctx.feeds.replace((authorId + BigInt(g + k)).toString(), filler),
        ),
      );
    }
  } else {
    await db.query(
      `insert into home_feed_entries (account_id, status_id)
       select $1::bigint + g, s from generate_series(1, $2::int) g, generate_series(1, $3::int) s`,
      [authorId.toString(), N, FANOUT_FILL],
    );
  }
  await db.exec('analyze');
  console.log(`\nfan-out: ${N} followers with ${FANOUT_FILL} entries in each home, set up in ${since(t)} s`);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const id = newId();
    await db.query(
      `insert into statuses (id, account_id, uri, text, content, visibility, language, local)
       values ($1::bigint, $2::bigint, $3, 'fan-out', '<p>fan-out</p>', 'public', 'en', true)`,
      [id, authorId.toString(), `https://${domain}/users/fan0/statuses/${id}`],
    );
    const f = performance.now();
    const reached = await fanOutStatus(ctx, id);
    const elapsed = performance.now() - f;
    times.push(elapsed);
    // In every home: each follower's newest entry is this status.
    const last = (authorId + BigInt(N)).toString();
    const [newest] = await ctx.feeds.page(last, { limit: 1 });
    console.log(
      `${`status ${i + 1} in ${reached} homes`.padEnd(40)} ${ms(elapsed).padStart(10)}   target ≤ 2000 ms  ${elapsed <= 2000 ? 'ok' : 'OVER'}` +
        `${newest === id ? '' : '   (NOT in the last follower’s home)'}`,
    );
  }
  if (ctx.database.kind !== 'postgres')
    console.log(
      '\n(targets for throughput and latency are set for PostgreSQL; set DATABASE_URL and REDIS_URL for the scaled shape)',
    );
} finally {
  // Redis outlives the run: drop the feeds made here (throttle counters expire by themselves).
  if (ctx.feeds.kind === 'redis') {
    const owners = [...feedOwners];
    for (let i = 0; i < owners.length; i += 500)
      await Promise.all(owners.slice(i, i + 500).map((id) => ctx.feeds.clear(id)));
  }
  await app.close();
  await serverDb?.close();
  await ctx.close();
}
