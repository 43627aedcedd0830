/**
 * bench/media — the media processor's speed and memory (DESIGN.md §7's memory budget).
 *
 *   npm run bench:media   (or: node bench/media/run.ts [--images 10] [--video-seconds 30]
 *                              [--idle-seconds 10] [--no-database])
 *
 * The process runs as `woolly start` does (the same V8 and glibc tuning as src/cli/tune-process.ts)
 * and opens an embedded PGlite database on disk, migrated, so that its resident memory stands for
 * the embedded instance; then it processes, one after another:
 * - a 12-megapixel JPEG (4000×3000, generated), `--images` times: images per second;
 * - a 1080p30 video of `--video-seconds` (generated with lavfi, MPEG-4 Part 2 + PCM in QuickTime, so
 *   that it is re-encoded to H.264/AAC), and the same as H.264/AAC (copied, the passthrough path):
 *   seconds each, beside the video's own length.
 * Peak resident memory is the kernel's high-water mark of this process (VmHWM, reset before each
 * phase), plus the ffmpeg children sampled every 20 ms. Targets: the whole embedded instance under
 * 512 MB while processing, and back under 256 MB when idle.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

const KNOWN_FLAGS = ['images', 'video-seconds', 'idle-seconds', 'no-database'];
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(
    'usage: node bench/media/run.ts [--images 10] [--video-seconds 30] [--idle-seconds 10] [--no-database]\n' +
      'Needs ffmpeg and ffprobe on PATH for the video part (skipped, saying so, without them).',
  );
  process.exit(0);
}
for (const arg of process.argv.slice(2)) {
  if (arg.startsWith('--') && !KNOWN_FLAGS.includes(arg.slice(2))) {
    console.error(`bench/media: unknown flag ${arg} (try --help)`);
    process.exit(2);
  }
}

// Measured as the server runs: re-executed once with the tuning of src/cli/tune-process.ts.
if (process.env.WOOLLY_PROCESS_TUNED !== '1') {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.MALLOC_ARENA_MAX ??= '2';
  env.MALLOC_TRIM_THRESHOLD_ ??= '131072';
  env.WOOLLY_PROCESS_TUNED = '1';
  process.execve!(
    process.execPath,
    [process.execPath, '--max-semi-space-size=8', '--expose-gc', ...process.argv.slice(1)],
    env,
  );
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} wants a positive number`);
  return value;
}
const IMAGES = flag('images', 10);
const VIDEO_SECONDS = flag('video-seconds', 30);
const IDLE_SECONDS = flag('idle-seconds', 10);
const WITH_DATABASE = !process.argv.includes('--no-database');

const MB = 1024 * 1024;
const work = mkdtempSync(join(tmpdir(), 'woolly-bench-media-'));
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function statusKb(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  } catch {
    return 0; // the process has just exited
  }
}

/** Resets this process's VmHWM to its current RSS (Linux: `5` to clear_refs). */
function resetPeak(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // Not permitted here: the peak then covers the whole run, an overestimate.
  }
}

/** Direct children of this process (ffmpeg, ffprobe) and their summed resident memory, in kB. */
function childrenRssKb(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The fourth field, after the parenthesised command name, is the parent's pid.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) total += statusKb(Number(entry), 'VmRSS');
    } catch {
      // gone between readdir and read
    }
  }
  return total;
}

/** Runs `work` while sampling: this process's peak (VmHWM) and the children's peak beside it. */
async function measured<T>(
  task: () => Promise<T>,
): Promise<{ result: T; seconds: number; selfPeakMb: number; childPeakMb: number; totalPeakMb: number }> {
  gc();
  resetPeak();
  let childPeak = 0;
  let totalPeak = 0;
  const timer = setInterval(() => {
    const children = childrenRssKb();
    childPeak = Math.max(childPeak, children);
    totalPeak = Math.max(totalPeak, children + statusKb('self', 'VmRSS'));
  }, 20);
  const started = performance.now();
  try {
    const result = await task();
    const seconds = (performance.now() - started) / 1000;
    const selfPeak = statusKb('self', 'VmHWM');
    return {
      result,
      seconds,
      selfPeakMb: selfPeak / 1024,
      childPeakMb: childPeak / 1024,
      totalPeakMb: Math.max(totalPeak, selfPeak + childPeak) / 1024,
    };
  } finally {
    clearInterval(timer);
  }
}

const row = (label: string, value: string, target: string, verdict = '') =>
  console.log(`${label.padEnd(52)} ${value.padStart(12)}   ${target.padEnd(16)} ${verdict}`);
const within = (value: number, limit: number) => (value <= limit ? 'ok' : 'OVER');

function ffmpegAvailable(): boolean {
  return (
    spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0 &&
    spawnSync('ffprobe', ['-version'], { stdio: 'ignore' }).status === 0
  );
}

function makeVideo(path: string, codecArgs: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'ffmpeg',
      [
        ...['-nostdin', '-hide_banner', '-loglevel', 'error'],
        ...['-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${VIDEO_SECONDS}`],
        ...['-f', 'lavfi', '-i', `sine=frequency=330:sample_rate=48000:duration=${VIDEO_SECONDS}`],
        ...codecArgs,
        '-y',
        path,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg: ${stderr}`))));
  });
}

/** A 12 MP photo stand-in: smooth colour fields with fine grain, so that it compresses like one. */
async function makePhoto(path: string): Promise<void> {
  const width = 4000;
  const height = 3000;
  const pixels = Buffer.alloc(width * height * 3);
  let seed = 42;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const grain = (seed % 24) - 12;
      const at = (y * width + x) * 3;
      pixels[at] = Math.max(0, Math.min(255, 128 + 100 * Math.sin(x / 300) + grain));
      pixels[at + 1] = Math.max(0, Math.min(255, 128 + 100 * Math.cos(y / 200) + grain));
      pixels[at + 2] = Math.max(0, Math.min(255, ((x + y) / 28) % 256));
    }
  }
  await sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .withMetadata({ orientation: 1 })
    .toFile(path);
}

try {
  console.log(`woolly media processing (Node ${process.version}, ${process.platform}/${process.arch})\n`);
  const videoSupported = ffmpegAvailable();

  // Inputs first, so that making them does not count towards the peaks.
  const photo = join(work, 'photo.jpg');
  await makePhoto(photo);
  const transcodeInput = join(work, 'camera.mov');
  const passthroughInput = join(work, 'camera.mp4');
  if (videoSupported) {
    console.log(`generating a ${VIDEO_SECONDS} s 1080p30 video twice (MPEG-4 Part 2, H.264) …`);
    await makeVideo(transcodeInput, ['-c:v', 'mpeg4', '-q:v', '3', '-c:a', 'pcm_s16le', '-f', 'mov']);
    await makeVideo(passthroughInput, [
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'mp4'],
    ]);
  }

  let closeDatabase = async () => {};
  if (WITH_DATABASE) {
    // Created by another process, then opened here: an instance's resident memory is that of a
    // restart, not of initdb, whose allocations glibc keeps (bench/startup measures the same way).
    const dataDir = join(work, 'db');
    const src = new URL('../../src/', import.meta.url).href;
    const created = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { openPGlite, wrapPGlite } = await import('${src}db/pglite.ts');
         const { migrate } = await import('${src}db/migrate.ts');
         const db = wrapPGlite(await openPGlite({ dataDir: ${JSON.stringify(dataDir)} }));
         await migrate(db);
         await db.close();`,
      ],
      { encoding: 'utf8' },
    );
    if (created.status !== 0) throw new Error(`creating the database failed: ${created.stderr}`);
    const { openPGlite, wrapPGlite } = await import('../../src/db/pglite.ts');
    const database = wrapPGlite(await openPGlite({ dataDir }));
    await database.query('select count(*) from accounts');
    closeDatabase = () => database.close();
  }
  const { createMediaProcessor } = await import('../../src/infra/media/index.ts');
  const processor = await createMediaProcessor({
    ffmpegBinary: 'ffmpeg',
    ffprobeBinary: 'ffprobe',
    maxFfmpegProcesses: 1,
    tempDir: join(work, 'processing'),
  });
  // Settled, as an idle instance would be.
  await new Promise((r) => setTimeout(r, 3000));
  gc();
  const baselineMb = statusKb('self', 'VmRSS') / 1024;

  const photoMb = readFileSync(photo).length / MB;
  const images = await measured(async () => {
    for (let i = 0; i < IMAGES; i++) {
      const result = await processor.process(photo, await processor.identify(photo));
      await processor.cleanup(result.original, result.small);
    }
  });

  const transcode = videoSupported
    ? await measured(async () => {
        const result = await processor.process(transcodeInput, await processor.identify(transcodeInput));
        await processor.cleanup(result.original, result.small);
        return result;
      })
    : null;
  const passthrough = videoSupported
    ? await measured(async () => {
        const result = await processor.process(passthroughInput, await processor.identify(passthroughInput));
        await processor.cleanup(result.original, result.small);
        return result;
      })
    : null;

  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  gc();
  await new Promise((r) => setTimeout(r, 500));
  const idleMb = statusKb('self', 'VmRSS') / 1024;

  console.log(
    `\nthis process ${WITH_DATABASE ? 'with an embedded PGlite database open (migrated, on disk)' : 'without a database (--no-database)'}`,
  );
  console.log(
    `sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}; one image at a time, one libvips thread\n`,
  );
  row('', 'measured', 'target');
  row('resident before processing', `${baselineMb.toFixed(0)} MB`, '');
  row(
    `12 MP JPEG (${photoMb.toFixed(1)} MB) → original + small + blurhash`,
    `${(IMAGES / images.seconds).toFixed(2)} img/s`,
    '',
  );
  row('  per image', `${((images.seconds / IMAGES) * 1000).toFixed(0)} ms`, '');
  row(
    '  peak resident while processing',
    `${images.selfPeakMb.toFixed(0)} MB`,
    '≤ 512 MB',
    within(images.selfPeakMb, 512),
  );
  if (transcode && passthrough) {
    row(
      `1080p30 ${VIDEO_SECONDS} s, MPEG-4/PCM → H.264/AAC (re-encode)`,
      `${transcode.seconds.toFixed(1)} s`,
      `(video: ${VIDEO_SECONDS} s)`,
      `${(VIDEO_SECONDS / transcode.seconds).toFixed(2)}× real time`,
    );
    row(
      '  peak resident: this process + ffmpeg',
      `${transcode.totalPeakMb.toFixed(0)} MB`,
      '≤ 512 MB',
      within(transcode.totalPeakMb, 512),
    );
    row('    of which ffmpeg (sampled every 20 ms)', `${transcode.childPeakMb.toFixed(0)} MB`, '');
    row(
      `  output: ${transcode.result.meta.original?.width}x${transcode.result.meta.original?.height}, ${(transcode.result.original.size / MB).toFixed(1)} MB`,
      `${((transcode.result.meta.original?.bitrate ?? 0) / 1000).toFixed(0)} kb/s`,
      '',
    );
    row(
      `1080p30 ${VIDEO_SECONDS} s, H.264/AAC → copied (passthrough)`,
      `${passthrough.seconds.toFixed(1)} s`,
      '',
    );
    row(
      '  peak resident: this process + ffmpeg',
      `${passthrough.totalPeakMb.toFixed(0)} MB`,
      '≤ 512 MB',
      within(passthrough.totalPeakMb, 512),
    );
  } else {
    console.log('(video skipped: ffmpeg/ffprobe are not on PATH)');
  }
  row(
    `resident idle ${IDLE_SECONDS} s after processing`,
    `${idleMb.toFixed(0)} MB`,
    '≤ 256 MB',
    within(idleMb, 256),
  );
  console.log(
    '\nReference: bench/startup measures the idle embedded instance (`woolly start`) at ~215 MB; this' +
      "\nprocess holds the database but not the HTTP server, so the instance's figures are about the" +
      "\nserver's share (tens of MB) higher. Mastodon runs the same work in Sidekiq (libvips, ffmpeg).",
  );
  await processor.close();
  await closeDatabase();
} finally {
  rmSync(work, { recursive: true, force: true });
}
