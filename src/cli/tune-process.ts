/**
 * Server roles run with memory settings that `node` alone does not give them; this module re-executes
 * the process with them before anything else loads (it is main.ts's first import), so `npm start`,
 * `npx woolly start` and `node src/cli/main.ts start` all run the same way.
 *
 * - `--max-semi-space-size=8`: Node 24 lets V8's young generation grow to ~130 MB during start-up
 *   (module loading allocates a lot briefly) and keeps it; 8 MB costs nothing measurable here.
 * - `MALLOC_ARENA_MAX=2`, `MALLOC_TRIM_THRESHOLD_=131072`: glibc otherwise keeps the ~400 MB that
 *   PGlite's initialisation allocates and frees, as per-thread arenas that are never returned.
 *
 * Measured by bench/startup (idle resident memory of the embedded instance): ~360 MB → ~230 MB.
 * An operator's own NODE_OPTIONS / MALLOC_* settings win: we only add what is missing.
 */
const SERVER_COMMANDS = new Set(['start', 'web', 'worker', 'streaming']);
const command = process.argv[2];

if (
  command !== undefined &&
  SERVER_COMMANDS.has(command) &&
  process.env.WOOLLY_PROCESS_TUNED !== '1' &&
  typeof process.execve === 'function'
) {
  const flags = process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))
    ? []
    : ['--max-semi-space-size=8'];
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.MALLOC_ARENA_MAX ??= '2';
  env.MALLOC_TRIM_THRESHOLD_ ??= '131072';
  env.WOOLLY_PROCESS_TUNED = '1';
  process.execve(
    process.execPath,
    [process.execPath, ...process.execArgv, ...flags, ...process.argv.slice(1)],
    env,
  );
}
