/**
 * Inputs for the media processor's suites, generated at test time: images with sharp, video and
 * audio with ffmpeg's lavfi sources. Everything is small so that the suites stay fast.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { createMediaProcessor, type MediaProcessor } from '../../../src/infra/media/index.ts';

export const FFMPEG = 'ffmpeg';
export const FFPROBE = 'ffprobe';

function answers(binary: string): boolean {
  const result = spawnSync(binary, ['-version'], { stdio: 'ignore' });
  return result.status === 0;
}

/** ffmpeg and ffprobe on PATH: the video and audio suites skip, saying so, without them. */
export const HAVE_FFMPEG = answers(FFMPEG) && answers(FFPROBE);
export const NO_FFMPEG_REASON = 'ffmpeg/ffprobe are not installed on this machine';

export interface Workspace {
  /** Where inputs are written. */
  dir: string;
  /** The processor's temporary directory. */
  tempDir: string;
  processor: MediaProcessor;
  path(name: string): string;
  close(): Promise<void>;
}

export async function workspace(
  options: { ffmpeg?: boolean; maxFfmpegProcesses?: number } = {},
): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'woolly-media-test-'));
  const tempDir = join(dir, 'processing');
  const missing = join(dir, 'no-such-bin', 'ffmpeg');
  const processor = await createMediaProcessor({
    ffmpegBinary: options.ffmpeg === false ? missing : FFMPEG,
    ffprobeBinary: options.ffmpeg === false ? missing : FFPROBE,
    maxFfmpegProcesses: options.maxFfmpegProcesses ?? 2,
    tempDir,
  });
  return {
    dir,
    tempDir,
    processor,
    path: (name) => join(dir, name),
    async close() {
      await processor.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Asserts that the processor's temporary directory is empty, emptying it first so that one failing
 * test does not fail every later one.
 */
export async function assertNothingLeft(ws: Workspace): Promise<void> {
  const left = await readdir(ws.tempDir);
  await Promise.all(left.map((name) => rm(join(ws.tempDir, name), { recursive: true, force: true })));
  assert.deepEqual(left, [], 'files were left in the temporary directory');
}

/** A diagonal gradient (so resizing and blurhash have something to see), RGB. */
export function gradientPixels(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * 3;
      data[at] = Math.floor((x / width) * 255);
      data[at + 1] = Math.floor((y / height) * 255);
      data[at + 2] = 128;
    }
  }
  return data;
}

export function gradient(width: number, height: number): Sharp {
  return sharp(gradientPixels(width, height), { raw: { width, height, channels: 3 } });
}

/** Two colours side by side: `left` on the left half, `right` on the right. */
export function halves(width: number, height: number, left: string, right: string): Sharp {
  const half = Math.floor(width / 2);
  return sharp({ create: { width, height, channels: 3, background: left } }).composite([
    {
      input: { create: { width: width - half, height, channels: 3, background: right } },
      left: half,
      top: 0,
    },
  ]);
}

/** An animated image, `frames` frames of `width`×`height`, each a different colour. */
export function animation(width: number, height: number, frames: number): Sharp {
  const data = Buffer.alloc(width * height * frames * 4);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < width * height; i++) {
      const at = (f * width * height + i) * 4;
      data[at] = (f * 80) % 256;
      data[at + 1] = i % 256;
      data[at + 2] = 200 - f * 20;
      data[at + 3] = 255;
    }
  }
  return sharp(data, { raw: { width, height: height * frames, channels: 4, pageHeight: height } });
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A tiny PNG whose header claims `width`×`height`: a decompression bomb if decoded. */
export function pngHeaderClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A large animation that is cheap to make: each frame one flat colour, so that encoding is quick
 * while every frame still decodes to `width`×`height`.
 */
export function flatAnimation(width: number, height: number, frames: number): Sharp {
  const frameBytes = width * height * 4;
  const data = Buffer.alloc(frameBytes * frames, 255);
  // Each frame differs, or the encoder would merge them; the alpha byte stays opaque.
  for (let f = 0; f < frames; f++) data.fill(f * 20, f * frameBytes, (f + 1) * frameBytes - 1);
  return sharp(data, {
    raw: { width, height: height * frames, channels: 4, pageHeight: height },
    limitInputPixels: false,
  });
}

/** The start of an HEIC file (an `ftyp` box with the `heic` brand). */
export function heicHead(): Buffer {
  const box = Buffer.alloc(24);
  box.writeUInt32BE(24, 0);
  box.write('ftypheic', 4, 'latin1');
  box.writeUInt32BE(0, 12);
  box.write('mif1heic', 16, 'latin1');
  return Buffer.concat([box, Buffer.alloc(64)]);
}

/** Runs ffmpeg to make an input; `args` go between the global options and the output path. */
export function ffmpeg(args: string[], output: string): string {
  const result = spawnSync(
    FFMPEG,
    ['-nostdin', '-hide_banner', '-loglevel', 'error', ...args, '-y', output],
    {
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) throw new Error(`ffmpeg failed making ${output}: ${result.stderr}`);
  return output;
}

/** A lavfi source as ffmpeg input arguments. */
export function lavfi(source: string): string[] {
  return ['-f', 'lavfi', '-i', source];
}

/**
 * Makes several inputs in one ffmpeg run (one process start instead of one per file): `sources`
 * are the inputs, each output maps from them by index and names its own options.
 */
export function ffmpegMany(sources: string[][], outputs: { args: string[]; path: string }[]): void {
  const args = [...sources.flat(), ...outputs.flatMap((output) => [...output.args, '-y', output.path])];
  const result = spawnSync(FFMPEG, ['-nostdin', '-hide_banner', '-loglevel', 'error', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) throw new Error(`ffmpeg failed making test inputs: ${result.stderr}`);
}

/** ffprobe's JSON for a file (streams and format). */
export function probe(path: string): {
  streams: {
    codec_type: string;
    codec_name: string;
    pix_fmt?: string;
    width?: number;
    height?: number;
    disposition?: { attached_pic?: number };
  }[];
  format: { format_name: string; duration?: string };
} {
  const result = spawnSync(
    FFPROBE,
    ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path],
    {
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) throw new Error(`ffprobe failed on ${path}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** The MD5 of a file's video packets: equal when a stream was copied rather than re-encoded. */
export function videoPacketsHash(path: string): string {
  const result = spawnSync(
    FFMPEG,
    ['-nostdin', '-loglevel', 'error', '-i', path, '-map', '0:v:0', '-c', 'copy', '-f', 'md5', '-'],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`ffmpeg failed hashing ${path}: ${result.stderr}`);
  return result.stdout.trim();
}

export async function write(path: string, data: Buffer): Promise<string> {
  await writeFile(path, data);
  return path;
}
