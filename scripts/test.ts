/**
 * `npm test`: runs every suite under test/ with Node's test runner on the shape the environment
 * describes. With nothing set that is the embedded shape (PGlite, in-process queues and pub/sub).
 * With DATABASE_URL (or DB_HOST) and REDIS_URL set, the same suites run against PostgreSQL + Redis —
 * except those of SHAPE_INDEPENDENT below, which test the same thing whatever the shape and so run on
 * the embedded shape only (CI runs both shapes). Naming files runs them whatever the shape.
 * Extra arguments are passed to `node --test` (e.g. a file list or --test-name-pattern). After the
 * spec output, scripts/file-durations.ts lists how long each file took, slowest first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, globSync, readFileSync } from 'node:fs';

/**
 * Suites whose outcome cannot depend on the shape: pure functions, both implementations of an
 * adapter in one run (mail, storage), and the command-line suites that always run the embedded
 * shape (their commands get an environment without DATABASE_URL/REDIS_URL: cleanEnv of
 * test/support/cli.ts). A suite that opens the test run's database or Redis does not belong here.
 */
const SHAPE_INDEPENDENT = [
  'test/architecture.test.ts',
  'test/config/config.test.ts',
  'test/config/docs.test.ts',
  'test/db/ids.test.ts',
  'test/db/data-dir.test.ts',
  'test/api/params.test.ts',
  'test/api/domain-errors.test.ts',
  'test/domain/statuses/text.test.ts',
  'test/domain/streaming/channels.test.ts',
  'test/domain/streaming/status-facts.test.ts',
  'test/pages/layout.test.ts',
  'test/infra/mail.test.ts',
  'test/infra/storage.test.ts',
  // The media processor: files in, files out (sharp, ffmpeg), no database or Redis.
  'test/infra/media/audio.test.ts',
  'test/infra/media/colors.test.ts',
  'test/infra/media/command.test.ts',
  'test/infra/media/identify.test.ts',
  'test/infra/media/images.test.ts',
  'test/infra/media/limits.test.ts',
  'test/infra/media/profile.test.ts',
  'test/infra/media/video.test.ts',
  'test/cli/cli.test.ts',
  'test/cli/accounts.test.ts',
  'test/cli/embedded-server.test.ts',
  'test/cli/setup.test.ts',
  'test/e2e/mastodon-py.test.ts',
];

/** The test support modules that hand a suite the run's own database or Redis. */
const SHAPE_SUPPORT = /from '[./]*support\/(db|context|api|deployment|redis)\.ts'/;

/** The list must stay true: a listed file that is gone or that uses the shape stops the run. */
function checkShapeIndependent(): void {
  for (const file of SHAPE_INDEPENDENT) {
    if (!existsSync(file)) throw new Error(`${file} is listed as shape-independent but does not exist`);
    const support = SHAPE_SUPPORT.exec(readFileSync(file, 'utf8'));
    if (support) throw new Error(`${file} is listed as shape-independent but imports ${support[0]}`);
  }
}

const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const scaled = Boolean(process.env.DATABASE_URL || process.env.DB_HOST);
const redis = Boolean(process.env.REDIS_URL || process.env.REDIS_HOST);
const shape = scaled
  ? `scaled shape (PostgreSQL${redis ? ' + Redis' : ', no Redis'})`
  : 'embedded shape (PGlite, in-process adapters)';
console.log(`woolly tests on the ${shape}`);

checkShapeIndependent();
let selected = files;
if (files.length === 0) {
  const all = globSync('test/**/*.test.ts').sort();
  selected = scaled ? all.filter((f) => !SHAPE_INDEPENDENT.includes(f)) : all;
  if (scaled) {
    console.log(
      `${all.length - selected.length} shape-independent suites are left to the embedded run (scripts/test.ts)`,
    );
  }
}
const reporters = flags.some((f) => f.startsWith('--test-reporter'))
  ? []
  : [
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=./scripts/file-durations.ts',
      '--test-reporter-destination=stdout',
    ];
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', ...reporters, ...flags, ...selected],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
