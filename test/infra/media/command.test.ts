import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CommandError, runCommand, Semaphore } from '../../../src/infra/media/command.ts';
import { createMediaProcessor } from '../../../src/infra/media/index.ts';
import { type Workspace, workspace } from './fixtures.ts';

/** Node itself stands in for ffmpeg: a binary that is certainly there. */
const NODE = process.execPath;

describe('Semaphore', () => {
  test('never lets more than its limit run at once, and runs everything', async () => {
    const semaphore = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await Promise.all(
      Array.from({ length: 7 }, (_, i) =>
        semaphore.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 5));
          running--;
          done.push(i);
        }),
      ),
    );
    assert.equal(peak, 2);
    assert.equal(done.length, 7);
    assert.equal(semaphore.held, 0);
  });

  test('a failing task frees its slot', async () => {
    const semaphore = new Semaphore(1);
    await assert.rejects(
      semaphore.run(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await semaphore.run(async () => 'next'), 'next');
    assert.equal(semaphore.held, 0);
  });

  test('refuses a limit below one', () => {
    assert.throws(() => new Semaphore(0), RangeError);
  });
});

describe('runCommand', () => {
  test('returns stdout; arguments are passed as they are, never through a shell', async () => {
    const { stdout } = await runCommand(
      NODE,
      ['-e', 'process.stdout.write(process.argv[1])', '$(echo hi); `id`'],
      {
        timeoutMs: 10_000,
      },
    );
    assert.equal(stdout.toString(), '$(echo hi); `id`');
  });

  test('a failure carries the exit code and the tail of stderr', async () => {
    const error = await runCommand(
      NODE,
      ['-e', 'console.error("x".repeat(10000) + "the real reason"); process.exit(3)'],
      {
        timeoutMs: 10_000,
      },
    ).catch((e: unknown) => e);
    assert.ok(error instanceof CommandError);
    assert.equal(error.exitCode, 3);
    assert.match(error.message, /exited with code 3: x+the real reason/);
    assert.ok(error.stderr.length <= 4096);
    assert.equal(error.notFound, false);
  });

  test('a run past its timeout is killed', async () => {
    const error = await runCommand(NODE, ['-e', 'setTimeout(() => {}, 60_000)'], { timeoutMs: 200 }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof CommandError);
    assert.equal(error.timedOut, true);
    assert.match(error.message, /timed out after 200 ms/);
  });

  test('a missing binary is reported as not found', async () => {
    const error = await runCommand('/nonexistent/woolly-ffmpeg', ['-version'], { timeoutMs: 1000 }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof CommandError);
    assert.equal(error.notFound, true);
  });

  test('too much output fails instead of filling memory', async () => {
    const error = await runCommand(NODE, ['-e', 'process.stdout.write("y".repeat(100000))'], {
      timeoutMs: 10_000,
      maxStdoutBytes: 1000,
    }).catch((e: unknown) => e);
    assert.ok(error instanceof CommandError);
    assert.match(error.message, /more than 1000 bytes/);
  });
});

describe('createMediaProcessor', () => {
  let ws: Workspace;
  before(async () => {
    ws = await workspace();
  });
  after(async () => {
    await ws.close();
  });

  test('refuses a process limit that is not a whole number of at least one', async () => {
    for (const maxFfmpegProcesses of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(
        createMediaProcessor({
          ffmpegBinary: 'ffmpeg',
          ffprobeBinary: 'ffprobe',
          maxFfmpegProcesses,
          tempDir: ws.tempDir,
        }),
        RangeError,
      );
    }
  });

  test('a binary that exists but fails -version does not count as video support', async () => {
    const processor = await createMediaProcessor({
      ffmpegBinary: '/bin/false',
      ffprobeBinary: '/bin/false',
      maxFfmpegProcesses: 1,
      tempDir: ws.tempDir,
    });
    assert.equal(processor.videoSupported, false);
    await processor.close();
  });

  test('after close() every call is refused', async () => {
    const processor = await createMediaProcessor({
      ffmpegBinary: 'ffmpeg',
      ffprobeBinary: 'ffprobe',
      maxFfmpegProcesses: 1,
      tempDir: ws.tempDir,
    });
    await processor.close();
    await assert.rejects(processor.identify(ws.path('anything')), /closed/);
  });
});
