/**
 * A test reporter that prints, after the run, how long each test file took (wall clock of its
 * process), slowest first: where CI time goes. scripts/test.ts adds it beside the spec reporter.
 */
import { relative, resolve } from 'node:path';

interface TestEvent {
  type: string;
  data: { name?: string; file?: string; nesting?: number; details?: { duration_ms?: number } };
}

export default async function* fileDurations(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const files = new Map<string, number>();
  for await (const event of source) {
    const { name, file, nesting, details } = event.data ?? {};
    // A file's own event names the file itself; its tests name themselves.
    if (event.type === 'test:complete' && nesting === 0 && file && name && resolve(name) === file)
      files.set(relative(process.cwd(), file), details?.duration_ms ?? 0);
  }
  if (files.size === 0) return;
  const rows = [...files].sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((sum, [, ms]) => sum + ms, 0);
  yield `\nfile durations (slowest first; ${(total / 1000).toFixed(0)} s summed over ${rows.length} files)\n`;
  for (const [file, ms] of rows) yield `${(ms / 1000).toFixed(1).padStart(7)} s  ${file}\n`;
}
