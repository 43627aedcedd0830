import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import { isBlurhashValid } from 'blurhash';
import sharp from 'sharp';
import {
  type MediaDimensions,
  MediaProcessingError,
  type MediaProcessingFailure,
  type ProcessedMedia,
} from '../../../src/infra/media/index.ts';
import {
  animation,
  assertNothingLeft,
  ffmpegMany,
  flatAnimation,
  HAVE_FFMPEG,
  lavfi,
  NO_FFMPEG_REASON,
  probe,
  videoPacketsHash,
  type Workspace,
  workspace,
  write,
} from './fixtures.ts';

const skip = HAVE_FFMPEG ? false : NO_FFMPEG_REASON;

let ws: Workspace;
/** The inputs, made by three ffmpeg runs before the suites (process starts are most of the cost). */
const input = {
  camera: '',
  webm: '',
  yuv444: '',
  silentMov: '',
  ogv: '',
  portrait: '',
  hd: '',
  fast: '',
  huge: '',
  long: '',
  whole: '',
  apng: '',
  wav: '',
};

before(async () => {
  if (!HAVE_FFMPEG) return;
  ws = await workspace();
  const names: Record<keyof typeof input, string> = {
    camera: 'camera.mp4',
    webm: 'clip.webm',
    yuv444: '444.mp4',
    silentMov: 'silent.mov',
    ogv: 'clip.ogv',
    portrait: 'portrait.mp4',
    hd: 'hd.mp4',
    fast: 'fast.mp4',
    huge: 'huge.mp4',
    long: 'long.mp4',
    whole: 'whole.mp4',
    apng: 'anim.png',
    wav: 'tone.wav',
  };
  for (const [key, name] of Object.entries(names)) input[key as keyof typeof input] = ws.path(name);
  const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast'];
  const landscape = ws.path('landscape.mp4');
  ffmpegMany(
    [
      lavfi('testsrc=size=320x240:rate=25'), // 0
      lavfi('sine=frequency=440:sample_rate=44100:duration=1'), // 1
      lavfi('testsrc=size=161x121:rate=10'), // 2
      lavfi('testsrc=size=160x120:rate=10'), // 3
      lavfi('testsrc=size=160x96:rate=10'), // 4
      lavfi('testsrc=size=1280x720:rate=5'), // 5
      lavfi('testsrc=size=64x48:rate=240'), // 6
      lavfi('color=size=16x16:rate=120'), // 7
      lavfi('testsrc=size=64x48:rate=10'), // 8
    ],
    [
      {
        path: input.camera,
        args: [
          ...['-map', '0:v', '-map', '1:a', '-t', '1', ...x264, '-pix_fmt', 'yuv420p', '-c:a', 'aac'],
          ...['-metadata', 'title=WoollySecretTitle', '-metadata', 'location=+51.5-000.1/', '-f', 'mp4'],
        ],
      },
      {
        path: input.webm,
        args: ['-map', '2:v', '-map', '1:a', '-t', '1', '-c:v', 'libvpx', '-c:a', 'libvorbis', '-f', 'webm'],
      },
      { path: input.yuv444, args: ['-map', '3:v', '-t', '1', ...x264, '-pix_fmt', 'yuv444p', '-f', 'mp4'] },
      { path: input.silentMov, args: ['-map', '3:v', '-t', '1', '-c:v', 'mpeg4', '-f', 'mov'] },
      {
        path: input.ogv,
        args: [
          '-map',
          '3:v',
          '-map',
          '1:a',
          '-t',
          '1',
          '-c:v',
          'libtheora',
          '-c:a',
          'libvorbis',
          '-f',
          'ogg',
        ],
      },
      {
        path: landscape,
        args: [
          '-map',
          '4:v',
          '-map',
          '1:a',
          '-t',
          '1',
          ...x264,
          '-pix_fmt',
          'yuv420p',
          '-c:a',
          'aac',
          '-f',
          'mp4',
        ],
      },
      { path: input.hd, args: ['-map', '5:v', '-t', '1', ...x264, '-pix_fmt', 'yuv420p', '-f', 'mp4'] },
      { path: input.fast, args: ['-map', '6:v', '-t', '0.5', ...x264, '-pix_fmt', 'yuv420p', '-f', 'mp4'] },
      // 300.01 s at 120 fps: 36,001 frames.
      { path: input.long, args: ['-map', '7:v', '-t', '300.01', ...x264, '-f', 'mp4'] },
      { path: input.whole, args: ['-map', '3:v', '-t', '1', '-c:v', 'mpeg4', '-f', 'mp4'] },
      { path: input.apng, args: ['-map', '8:v', '-t', '0.5', '-plays', '0', '-f', 'apng'] },
      { path: input.wav, args: ['-map', '1:a', '-f', 'wav'] },
    ],
  );
  // A phone's portrait video: landscape frames with a 90° display rotation (set when copying; an
  // encoding run drops it).
  ffmpegMany(
    [['-i', landscape]],
    [{ path: input.portrait, args: ['-c', 'copy', '-metadata:s:v:0', 'rotate=90', '-f', 'mp4'] }],
  );
  // Alone: beside other outputs, ffmpeg keeps generating this source's 4K frames after the one it needs.
  ffmpegMany(
    [lavfi('color=size=4096x2048:rate=1')],
    [{ path: input.huge, args: ['-frames:v', '1', '-c:v', 'mpeg4', '-f', 'mp4'] }],
  );
});
after(async () => {
  await ws?.close();
});

function refusedWith(reason: MediaProcessingFailure, message?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof MediaProcessingError, `expected a MediaProcessingError, got ${error}`);
    assert.equal(error.reason, reason, error.message);
    if (message) assert.match(error.message, message);
    return true;
  };
}

/** Whether `moov` comes before `mdat` among the top-level boxes (+faststart). */
async function moovFirst(path: string): Promise<boolean> {
  const bytes = await readFile(path);
  let at = 0;
  while (at + 8 <= bytes.length) {
    const size = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (type === 'moov') return true;
    if (type === 'mdat') return false;
    if (size < 8) break;
    at += size;
  }
  throw new Error(`${path} has neither moov nor mdat`);
}

/** The stored MP4 is H.264 in yuv420p with even sides, with AAC or no sound, and moov first. */
async function assertPlayableMp4(result: ProcessedMedia, audio: boolean): Promise<void> {
  assert.equal(result.original.contentType, 'video/mp4');
  assert.equal(result.original.extension, 'mp4');
  const facts = probe(result.original.path);
  assert.match(facts.format.format_name, /mp4/);
  const video = facts.streams.filter((s) => s.codec_type === 'video');
  assert.equal(video.length, 1);
  assert.equal(video[0]!.codec_name, 'h264');
  assert.match(video[0]!.pix_fmt!, /^yuvj?420p$/);
  assert.equal(video[0]!.width! % 2, 0);
  assert.equal(video[0]!.height! % 2, 0);
  const sound = facts.streams.filter((s) => s.codec_type === 'audio');
  assert.equal(sound.length, audio ? 1 : 0);
  if (audio) assert.equal(sound[0]!.codec_name, 'aac');
  assert.equal(await moovFirst(result.original.path), true, 'moov is not before mdat');
}

/** meta.original of a video, with its values checked against the file. */
function assertVideoMeta(
  meta: MediaDimensions | undefined,
  width: number,
  height: number,
  frameRate: string,
): void {
  assert.ok(meta);
  assert.deepEqual(Object.keys(meta).sort(), ['bitrate', 'duration', 'frame_rate', 'height', 'width']);
  assert.equal(meta.width, width);
  assert.equal(meta.height, height);
  assert.equal(meta.frame_rate, frameRate);
  assert.ok(meta.duration! > 0.5 && meta.duration! < 1.5, `duration ${meta.duration}`);
  assert.ok(Number.isInteger(meta.bitrate) && meta.bitrate! > 0);
}

/** The PNG first frame within 640×640, its geometry and a blurhash. */
async function assertFramePreview(result: ProcessedMedia, width: number, height: number): Promise<void> {
  assert.equal(result.small?.contentType, 'image/png');
  assert.equal(result.small?.extension, 'png');
  const image = await sharp(result.small!.path).metadata();
  assert.equal(image.format, 'png');
  assert.deepEqual([image.width, image.height], [width, height]);
  assert.deepEqual(result.meta.small, { width, height, size: `${width}x${height}`, aspect: width / height });
  assert.ok(result.blurhash && isBlurhashValid(result.blurhash).result);
}

describe('video', { skip }, () => {
  afterEach(async () => {
    // Refusals leave nothing; successes are cleaned up by each test.
    await assertNothingLeft(ws);
  });

  test('videoSupported is true with ffmpeg and ffprobe present', () => {
    assert.equal(ws.processor.videoSupported, true);
  });

  test('H.264 + AAC in yuv420p is copied, not re-encoded, and gets faststart and no metadata', async () => {
    const identified = await ws.processor.identify(input.camera);
    assert.deepEqual(identified, { kind: 'video', mimetype: 'video/mp4' });
    const result = await ws.processor.process(input.camera, identified);
    assert.equal(result.type, 'video');
    await assertPlayableMp4(result, true);
    assert.equal(videoPacketsHash(result.original.path), videoPacketsHash(input.camera));
    const bytes = await readFile(result.original.path);
    assert.equal(bytes.includes('WoollySecretTitle'), false);
    assert.equal(bytes.includes('+51.5-000.1'), false);
    assertVideoMeta(result.meta.original, 320, 240, '25/1');
    await assertFramePreview(result, 320, 240);
    assert.equal(result.thumbnail, undefined);
    // Mastodon 4.5 writes only original and small (and focus/colors); no top-level video fields.
    assert.deepEqual(Object.keys(result.meta).sort(), ['original', 'small']);
    await ws.processor.cleanup(result.original, result.small);
  });

  test('WebM (VP8 + Vorbis) with odd sides is re-encoded to H.264/AAC, cropped to even sides', async () => {
    const identified = await ws.processor.identify(input.webm);
    assert.deepEqual(identified, { kind: 'video', mimetype: 'video/webm' });
    const result = await ws.processor.process(input.webm, identified);
    assert.equal(result.type, 'video');
    await assertPlayableMp4(result, true);
    assertVideoMeta(result.meta.original, 160, 120, '10/1');
    // The preview frame goes through the same crop.
    await assertFramePreview(result, 160, 120);
    await ws.processor.cleanup(result.original, result.small);
  });

  test('H.264 in yuv444p is re-encoded to yuv420p', async () => {
    const result = await ws.processor.process(input.yuv444, await ws.processor.identify(input.yuv444));
    await assertPlayableMp4(result, false);
    assert.notEqual(videoPacketsHash(result.original.path), videoPacketsHash(input.yuv444));
    await ws.processor.cleanup(result.original, result.small);
  });

  test('a video without sound becomes gifv (QuickTime, MPEG-4 Part 2)', async () => {
    const identified = await ws.processor.identify(input.silentMov);
    assert.deepEqual(identified, { kind: 'video', mimetype: 'video/quicktime' });
    const result = await ws.processor.process(input.silentMov, identified);
    assert.equal(result.type, 'gifv');
    await assertPlayableMp4(result, false);
    await ws.processor.cleanup(result.original, result.small);
  });

  test('Ogg Theora is a video/ogg', async () => {
    const identified = await ws.processor.identify(input.ogv);
    assert.deepEqual(identified, { kind: 'video', mimetype: 'video/ogg' });
    const result = await ws.processor.process(input.ogv, identified);
    assert.equal(result.type, 'video');
    await assertPlayableMp4(result, true);
    await ws.processor.cleanup(result.original, result.small);
  });

  test('a rotated phone video reports its displayed size and its preview is upright', async () => {
    const result = await ws.processor.process(input.portrait, await ws.processor.identify(input.portrait));
    assert.equal(result.meta.original?.width, 96);
    assert.equal(result.meta.original?.height, 160);
    await assertFramePreview(result, 96, 160);
    await ws.processor.cleanup(result.original, result.small);
  });

  test('a large video gets a preview within 640×640', async () => {
    const result = await ws.processor.process(input.hd, await ws.processor.identify(input.hd));
    await assertFramePreview(result, 640, 360);
    await ws.processor.cleanup(result.original, result.small);
  });

  test('over 120 frames per second is refused at identify and at process', async () => {
    const reason = refusedWith('frame_rate_too_high', /exceeds 120 frames per second \(this one has 240\)/);
    await assert.rejects(ws.processor.identify(input.fast), reason);
    await assert.rejects(ws.processor.process(input.fast, { kind: 'video', mimetype: 'video/mp4' }), reason);
  });

  test('more than 3840×2160 pixels is refused', async () => {
    await assert.rejects(ws.processor.identify(input.huge), refusedWith('dimensions_too_large', /4096x2048/));
  });

  test('more than 36,000 frames is refused as too long', async () => {
    await assert.rejects(ws.processor.identify(input.long), refusedWith('too_long', /36000 frames/));
  });

  test('a truncated MP4 is corrupt', async () => {
    const whole = await readFile(input.whole);
    const path = await write(ws.path('cut.mp4'), whole.subarray(0, 200));
    await assert.rejects(ws.processor.identify(path), refusedWith('corrupt'));
  });
});

describe('animations to gifv', { skip }, () => {
  afterEach(async () => {
    await assertNothingLeft(ws);
  });

  test('an animated GIF becomes a silent H.264 MP4 (gifv), with even sides', async () => {
    const path = ws.path('anim.gif');
    await animation(121, 81, 5)
      .gif({ delay: [100, 100, 100, 100, 100], loop: 0 })
      .toFile(path);
    const identified = await ws.processor.identify(path);
    assert.deepEqual(identified, { kind: 'gif', mimetype: 'image/gif' });
    const result = await ws.processor.process(path, identified);
    assert.equal(result.type, 'gifv');
    await assertPlayableMp4(result, false);
    const meta = result.meta.original!;
    assert.deepEqual([meta.width, meta.height], [120, 80]);
    assert.ok(meta.duration! > 0.3, `duration ${meta.duration}`);
    assert.ok(meta.frame_rate);
    await assertFramePreview(result, 120, 80);
    await ws.processor.cleanup(result.original, result.small);
  });

  test('a GIF of one frame stays an image', async () => {
    const path = ws.path('still.gif');
    await animation(40, 30, 1).gif().toFile(path);
    const result = await ws.processor.process(path, await ws.processor.identify(path));
    assert.equal(result.type, 'image');
    assert.equal(result.original.contentType, 'image/gif');
    await ws.processor.cleanup(result.original, result.small);
  });

  test('an animated WebP becomes gifv', async () => {
    const path = ws.path('anim.webp');
    await animation(64, 48, 4)
      .webp({ delay: [50, 50, 50, 50], loop: 0 })
      .toFile(path);
    const identified = await ws.processor.identify(path);
    assert.deepEqual(identified, { kind: 'image', mimetype: 'image/webp' });
    const result = await ws.processor.process(path, identified);
    assert.equal(result.type, 'gifv');
    await assertPlayableMp4(result, false);
    await assertFramePreview(result, 64, 48);
    await ws.processor.cleanup(result.original, result.small);
  });

  test('an animated WebP too large to convert (all frames together over the pixel limit) is refused', async () => {
    const path = ws.path('huge-anim.webp');
    // 9 frames of 2000×2000: each within limits, 36 MP in all.
    await flatAnimation(2000, 2000, 9).webp({ effort: 0, lossless: true }).toFile(path);
    const identified = await ws.processor.identify(path);
    await assert.rejects(
      ws.processor.process(path, identified),
      refusedWith('dimensions_too_large', /Animated WebP images may have at most 33177600 pixels/),
    );
  });

  test('an animated PNG (APNG) becomes gifv', async () => {
    const identified = await ws.processor.identify(input.apng);
    assert.deepEqual(identified, { kind: 'image', mimetype: 'image/png' });
    const result = await ws.processor.process(input.apng, identified);
    assert.equal(result.type, 'gifv');
    await assertPlayableMp4(result, false);
    await ws.processor.cleanup(result.original, result.small);
  });
});

describe('without ffmpeg', { skip }, () => {
  let bare: Workspace;
  before(async () => {
    bare = await workspace({ ffmpeg: false });
  });
  after(async () => {
    await bare?.close();
  });

  test('video and audio are refused as unavailable', async () => {
    assert.equal(bare.processor.videoSupported, false);
    const message = /Video processing is not available on this server/;
    await assert.rejects(bare.processor.identify(input.silentMov), refusedWith('video_unavailable', message));
    await assert.rejects(
      bare.processor.process(input.silentMov, { kind: 'video', mimetype: 'video/quicktime' }),
      refusedWith('video_unavailable', message),
    );
    await assert.rejects(bare.processor.identify(input.wav), refusedWith('video_unavailable'));
    await assertNothingLeft(bare);
  });
});
