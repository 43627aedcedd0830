import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import { isBlurhashValid } from 'blurhash';
import sharp from 'sharp';
import { MediaProcessingError } from '../../../src/infra/media/index.ts';
import {
  assertNothingLeft,
  ffmpeg,
  ffmpegMany,
  HAVE_FFMPEG,
  halves,
  NO_FFMPEG_REASON,
  probe,
  type Workspace,
  workspace,
} from './fixtures.ts';

const skip = HAVE_FFMPEG ? false : NO_FFMPEG_REASON;

let ws: Workspace;
before(async () => {
  if (HAVE_FFMPEG) ws = await workspace();
});
after(async () => {
  await ws?.close();
});

/** One second of tone (the duration is an option of the source itself, so it bounds only this input). */
const SINE = ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=1'];

describe('audio', { skip }, () => {
  afterEach(async () => {
    await assertNothingLeft(ws);
  });

  test('each accepted container is identified by its bytes', async () => {
    const cases: [string, string[], string][] = [
      ['a.wav', ['-f', 'wav'], 'audio/wav'],
      ['a.mp3', ['-c:a', 'libmp3lame', '-f', 'mp3'], 'audio/mpeg'],
      ['a.ogg', ['-c:a', 'libvorbis', '-f', 'ogg'], 'audio/ogg'],
      ['a.flac', ['-f', 'flac'], 'audio/flac'],
      ['a.m4a', ['-c:a', 'aac', '-f', 'mp4'], 'audio/mp4'],
      ['a.aac', ['-c:a', 'aac', '-f', 'adts'], 'audio/aac'],
      ['a.webm', ['-c:a', 'libopus', '-f', 'webm'], 'audio/webm'],
      ['a.wma', ['-c:a', 'wmav2', '-f', 'asf'], 'video/x-ms-asf'],
    ];
    // One ffmpeg run writes them all.
    ffmpegMany(
      [SINE],
      cases.map(([name, args]) => ({ path: ws.path(name), args: ['-map', '0:a', ...args] })),
    );
    for (const [name, , mimetype] of cases) {
      assert.deepEqual(await ws.processor.identify(ws.path(name)), { kind: 'audio', mimetype }, name);
    }
  });

  test('audio is transcoded to MP3 without tags; meta.original has duration and bitrate', async () => {
    const path = ffmpeg(
      [...SINE, '-metadata', 'title=WoollySecretTitle', '-c:a', 'flac', '-f', 'flac'],
      ws.path('tagged.flac'),
    );
    const identified = await ws.processor.identify(path);
    const result = await ws.processor.process(path, identified);
    assert.equal(result.type, 'audio');
    assert.equal(result.original.contentType, 'audio/mpeg');
    assert.equal(result.original.extension, 'mp3');
    const facts = probe(result.original.path);
    assert.equal(facts.format.format_name, 'mp3');
    assert.deepEqual(
      facts.streams.map((s) => s.codec_name),
      ['mp3'],
    );
    assert.equal((await readFile(result.original.path)).includes('WoollySecretTitle'), false);
    assert.deepEqual(Object.keys(result.meta), ['original']);
    assert.deepEqual(Object.keys(result.meta.original!).sort(), ['bitrate', 'duration']);
    assert.ok(
      Math.abs(result.meta.original!.duration! - 1) < 0.1,
      `duration ${result.meta.original!.duration}`,
    );
    assert.ok(result.meta.original!.bitrate! > 32_000);
    assert.equal(result.small, undefined);
    assert.equal(result.thumbnail, undefined);
    assert.equal(result.blurhash, null);
    await ws.processor.cleanup(result.original);
  });

  test('embedded cover art becomes the thumbnail, with its geometry, blurhash and the player colours', async () => {
    const cover = ws.path('cover.jpg');
    // A dark frame around a bright centre: the edges give the background.
    await sharp({ create: { width: 800, height: 800, channels: 3, background: '#101030' } })
      .composite([
        { input: await halves(400, 400, '#ffdd00', '#ff3300').png().toBuffer(), left: 200, top: 200 },
      ])
      .jpeg()
      .toFile(cover);
    const path = ffmpeg(
      [
        ...SINE,
        '-i',
        cover,
        '-map',
        '0:a',
        '-map',
        '1:v',
        '-c:a',
        'libmp3lame',
        '-c:v',
        'copy',
        '-id3v2_version',
        '3',
        '-disposition:v',
        'attached_pic',
        '-f',
        'mp3',
      ],
      ws.path('with-cover.mp3'),
    );
    const identified = await ws.processor.identify(path);
    assert.deepEqual(identified, { kind: 'audio', mimetype: 'audio/mpeg' });
    const result = await ws.processor.process(path, identified);
    assert.equal(result.type, 'audio');
    // The cover does not travel inside the MP3 as well.
    assert.deepEqual(
      probe(result.original.path).streams.map((s) => s.codec_type),
      ['audio'],
    );
    assert.ok(result.thumbnail);
    assert.equal(result.thumbnail.contentType, 'image/jpeg');
    const image = await sharp(result.thumbnail.path).metadata();
    assert.deepEqual([image.width, image.height], [480, 480]);
    assert.deepEqual(result.meta.small, { width: 480, height: 480, size: '480x480', aspect: 1 });
    assert.ok(result.blurhash && isBlurhashValid(result.blurhash).result);
    const colors = result.meta.colors!;
    assert.match(colors.background, /^#[0-9a-f]{6}$/);
    assert.match(colors.foreground, /^#[0-9a-f]{6}$/);
    assert.match(colors.accent, /^#[0-9a-f]{6}$/);
    // The background is the navy of the edges, as the centre of its histogram bin (#101030 → #0c0c26).
    assert.equal(colors.background, '#0c0c26');
    await ws.processor.cleanup(result.original, result.thumbnail);
  });

  test('a file with neither sound nor picture streams is refused', async () => {
    // An MP4 holding only a subtitle track.
    const srt = ws.path('subs.srt');
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(srt, '1\n00:00:00,000 --> 00:00:01,000\nhello\n'),
    );
    const path = ffmpeg(['-i', srt, '-c:s', 'mov_text', '-f', 'mp4'], ws.path('subs-only.mp4'));
    await assert.rejects(ws.processor.identify(path), (error: unknown) => {
      assert.ok(error instanceof MediaProcessingError);
      assert.equal(error.reason, 'corrupt');
      return true;
    });
  });

  test('random bytes behind an MPEG frame sync are not audio', async () => {
    const bytes = Buffer.alloc(2048, 0x5a);
    bytes[0] = 0xff;
    bytes[1] = 0xfb;
    const path = ws.path('fake.mp3');
    await import('node:fs/promises').then((fs) => fs.writeFile(path, bytes));
    await assert.rejects(ws.processor.identify(path), (error: unknown) => {
      assert.ok(error instanceof MediaProcessingError);
      assert.equal(error.reason, 'unsupported_type');
      return true;
    });
  });
});
