/**
 * `npm test`: runs every suite under test/ with Node's test runner on the shape the environment
 * describes. With nothing set that is the embedded shape (PGlite, in-process queues and pub/sub).
 * With DATABASE_URL (or DB_HOST) and REDIS_URL set, the same suites run against PostgreSQL + Redis.
 * Extra arguments are passed to `node --test` (e.g. a file list or --test-name-pattern).
 */
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const scaled = Boolean(process.env.DATABASE_URL || process.env.DB_HOST);
const redis = Boolean(process.env.REDIS_URL || process.env.REDIS_HOST);
const shape = scaled
  ? `scaled shape (PostgreSQL${redis ? ' + Redis' : ', no Redis'})`
  : 'embedded shape (PGlite, in-process adapters)';
console.log(`woolly tests on the ${shape}`);
const result = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    ...flags,
    ...(files.length ? files : ['test/**/*.test.ts']),
  ],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
