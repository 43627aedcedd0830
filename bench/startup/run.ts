/**
 * bench/startup — how fast `woolly start` serves its first /health, and how much memory the whole
 * embedded instance (server + PGlite database, one process) holds when idle.
 *
 *   npm run bench:startup            (or: node bench/startup/run.ts [--idle-seconds 20])
 *
 * Runs three starts on one fresh data directory: the first initialises the database (initdb +
 * migrations, once in an instance's life), the next two are ordinary restarts. Targets from
 * DESIGN.md §7: cold start to serving ≤ 2 s, idle resident memory ≤ 256 MB.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const idleSeconds = Number(process.argv[process.argv.indexOf('--idle-seconds') + 1]) || 15;
const root = new URL('../../', import.meta.url).pathname;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

const EMBEDDED_ENV = { DATABASE_URL: '', DB_HOST: '', REDIS_URL: '', REDIS_HOST: '' };

async function startOnce(
  dataDir: string,
  port: number,
  idle: number,
  role = 'start',
  env: Record<string, string> = EMBEDDED_ENV,
) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(root, 'src/cli/main.ts'), role], {
    env: { ...process.env, WOOLLY_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let ms = Number.NaN;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`woolly ${role} exited: ${stderr}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.ok) {
        ms = performance.now() - t0;
        break;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const afterStart = rssMb(child.pid!);
  let idleRss = Number.NaN;
  if (idle > 0) {
    await new Promise((r) => setTimeout(r, idle * 1000));
    idleRss = rssMb(child.pid!);
  }
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { ms, afterStart, idleRss };
}

const dataDir = mkdtempSync(join(tmpdir(), 'woolly-bench-startup-'));
try {
  const port = await freePort();
  const first = await startOnce(dataDir, port, 0);
  const second = await startOnce(dataDir, port, 0);
  const third = await startOnce(dataDir, port, idleSeconds);
  const row = (label: string, value: string, target: string, ok: boolean) =>
    console.log(
      `${label.padEnd(44)} ${value.padStart(10)}   target ${target.padEnd(10)} ${ok ? 'ok' : 'OVER'}`,
    );
  console.log(
    `woolly start, embedded shape (Node ${process.version}, ${process.platform}/${process.arch})\n`,
  );
  row('first start (initdb + migrations) → /health', `${first.ms.toFixed(0)} ms`, '(once)', true);
  row('restart → /health', `${second.ms.toFixed(0)} ms`, '≤ 2000 ms', second.ms <= 2000);
  row('restart → /health (again)', `${third.ms.toFixed(0)} ms`, '≤ 2000 ms', third.ms <= 2000);
  row('resident memory just after start', `${third.afterStart.toFixed(0)} MB`, '', true);
  row(
    `resident memory idle after ${idleSeconds} s`,
    `${third.idleRss.toFixed(0)} MB`,
    '≤ 256 MB',
    third.idleRss <= 256,
  );
  console.log(
    '\nReference (DESIGN.md §8): Hollo idles at ~380 MB; Mastodon needs Puma + Sidekiq + Node + PostgreSQL + Redis running.',
  );
} finally {
  // removed at the very end: the scaled measurement below reuses the directory as its (unused) data dir
}

/**
 * The scaled shape's web role alone against PostgreSQL + Redis (DESIGN.md §7: under 128 MB), measured
 * when DATABASE_URL and REDIS_URL are given: a scratch database is created on that server and dropped.
 */
const adminUrl = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;
if (adminUrl && redisUrl) {
  const { default: postgres } = await import('postgres');
  const { generateSecrets } = await import('../../src/config/secrets.ts');
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const name = `woolly_bench_${process.pid}`;
  await admin.unsafe(`create database ${name}`);
  try {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const { OTP_SECRET: _unused, ...secrets } = generateSecrets();
    const env = {
      ...secrets,
      DATABASE_URL: url.toString(),
      REDIS_URL: redisUrl,
      LOCAL_DOMAIN: 'bench.example',
    };
    const migrate = spawn(process.execPath, [join(root, 'src/cli/main.ts'), 'db', 'migrate'], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    await new Promise((r) => migrate.once('exit', r));
    const web = await startOnce(dataDir, await freePort(), idleSeconds, 'web', env);
    console.log(`\nwoolly web, scaled shape (PostgreSQL + Redis)\n`);
    console.log(
      `${'start → /health'.padEnd(44)} ${`${web.ms.toFixed(0)} ms`.padStart(10)}   target ≤ 2000 ms  ${web.ms <= 2000 ? 'ok' : 'OVER'}`,
    );
    console.log(
      `${`resident memory idle after ${idleSeconds} s`.padEnd(44)} ${`${web.idleRss.toFixed(0)} MB`.padStart(10)}   target ≤ 128 MB   ${web.idleRss <= 128 ? 'ok' : 'OVER'}`,
    );
  } finally {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
} else {
  console.log('\n(set DATABASE_URL and REDIS_URL to also measure `woolly web` on the scaled shape)');
}

rmSync(dataDir, { recursive: true, force: true });
