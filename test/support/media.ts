import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import sharp from 'sharp';

/** Whether ffmpeg can run here (video tests skip, saying so, when it cannot). */
export const ffmpegAvailable = spawnSync('ffmpeg', ['-version']).status === 0;

/** A PNG of the given size with some colour in it (a flat image makes a dull blurhash). */
export async function testPng(width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 60, b: 30 } } })
    .composite([
      {
        input: await sharp({
          create: { width: Math.ceil(width / 2), height, channels: 3, background: { r: 20, g: 90, b: 220 } },
        })
          .png()
          .toBuffer(),
        left: 0,
        top: 0,
      },
    ])
    .png()
    .toBuffer();
}

/** Runs ffmpeg with `args` and the output file last; the file's bytes. */
async function ffmpegOutput(args: string[], extension: string): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'woolly-ffmpeg-'));
  try {
    const out = join(dir, `out.${extension}`);
    const run = spawnSync('ffmpeg', ['-v', 'error', ...args, out]);
    if (run.status !== 0) throw new Error(`ffmpeg failed: ${run.stderr.toString()}`);
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A short H.264/AAC test video (ffmpeg's test pattern and a tone), as MP4 bytes. With sound: a
 * silent video becomes a looping `gifv`, as in Mastodon.
 */
export function testVideo(seconds = 1, size = '160x120'): Promise<Buffer> {
  return ffmpegOutput(
    [
      '-f',
      'lavfi',
      '-i',
      `testsrc=size=${size}:rate=10:duration=${seconds}`,
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:duration=${seconds}`,
      '-shortest',
      '-c:a',
      'aac',
      '-pix_fmt',
      'yuv420p',
      '-c:v',
      'libx264',
    ],
    'mp4',
  );
}

/** A small animated GIF (ffmpeg's test pattern, five frames). */
export function testGif(): Promise<Buffer> {
  return ffmpegOutput(['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5:duration=1'], 'gif');
}

export interface FilePart {
  data: Buffer;
  type: string;
  filename: string;
}

/** A multipart/form-data body as a browser or client library sends it. */
export async function multipart(
  fields: Record<string, string | FilePart>,
): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([new Uint8Array(value.data)], { type: value.type }), value.filename);
  }
  const response = new Response(form);
  return {
    payload: Buffer.from(await response.arrayBuffer()),
    headers: { 'content-type': response.headers.get('content-type') ?? '' },
  };
}

/** A real S3-compatible server on loopback with one bucket, and the env that points Woolly at it. */
export async function startS3(
  bucket = 'woolly-media',
): Promise<{ env: Record<string, string>; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'woolly-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const address = (await server.run()) as AddressInfo;
  return {
    env: {
      S3_ENABLED: 'true',
      S3_BUCKET: bucket,
      S3_ENDPOINT: `http://127.0.0.1:${address.port}`,
      S3_PROTOCOL: 'http',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    },
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
