import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { MediaProcessingError, type MediaProcessingFailure } from '../../../src/infra/media/index.ts';
import { sniff } from '../../../src/infra/media/sniff.ts';
import {
  assertNothingLeft,
  gradient,
  heicHead,
  pngHeaderClaiming,
  type Workspace,
  workspace,
  write,
} from './fixtures.ts';

let ws: Workspace;
before(async () => {
  ws = await workspace();
});
after(async () => {
  await ws.close();
});
// Every case here is refused, and a refusal leaves nothing behind.
afterEach(async () => {
  await assertNothingLeft(ws);
});

function refusedWith(reason: MediaProcessingFailure, message?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof MediaProcessingError, `expected a MediaProcessingError, got ${error}`);
    assert.equal(error.reason, reason, error.message);
    if (message) assert.match(error.message, message);
    return true;
  };
}

describe('identify and refuse bad input', () => {
  test('random bytes named .png (as a client claiming image/png would send them): unsupported', async () => {
    const bytes = randomBytes(4096);
    bytes[0] = 0; // no signature starts with a zero byte followed by random data
    const path = await write(ws.path('random.png'), bytes);
    await assert.rejects(ws.processor.identify(path), refusedWith('unsupported_type', /not a supported/));
    await assert.rejects(
      ws.processor.process(path, { kind: 'image', mimetype: 'image/png' }),
      refusedWith('unsupported_type'),
    );
  });

  test('an empty file: unsupported', async () => {
    const path = await write(ws.path('empty'), Buffer.alloc(0));
    await assert.rejects(ws.processor.identify(path), refusedWith('unsupported_type'));
  });

  test('a truncated JPEG: its header reads, its pixels do not, so processing refuses it as corrupt', async () => {
    const whole = await gradient(640, 480).jpeg().toBuffer();
    const path = await write(ws.path('truncated.jpg'), whole.subarray(0, Math.floor(whole.length / 2)));
    const identified = await ws.processor.identify(path);
    assert.deepEqual(identified, { kind: 'image', mimetype: 'image/jpeg' });
    await assert.rejects(
      ws.processor.process(path, identified),
      refusedWith('corrupt', /damaged or incomplete/),
    );
  });

  test('a JPEG cut inside its header: corrupt at once', async () => {
    const whole = await gradient(64, 64).jpeg().toBuffer();
    const path = await write(ws.path('stub.jpg'), whole.subarray(0, 12));
    await assert.rejects(ws.processor.identify(path), refusedWith('corrupt'));
  });

  test('a decompression bomb (a tiny PNG claiming 50000×50000) is refused from its header', async () => {
    const path = await write(ws.path('bomb.png'), pngHeaderClaiming(50_000, 50_000));
    assert.ok((await stat(path)).size < 100);
    await assert.rejects(
      ws.processor.identify(path),
      refusedWith('dimensions_too_large', /Image dimensions exceed 33177600 pixels/),
    );
    // Even when the caller skips identify().
    await assert.rejects(
      ws.processor.process(path, { kind: 'image', mimetype: 'image/png' }),
      refusedWith('dimensions_too_large'),
    );
    await assert.rejects(ws.processor.thumbnail(path), refusedWith('dimensions_too_large'));
    await assert.rejects(ws.processor.profileImage(path, 'avatar'), refusedWith('dimensions_too_large'));
  });

  test('just over the limit is refused, the limit itself is not', async () => {
    const over = await write(ws.path('over.png'), pngHeaderClaiming(33_177_601, 1));
    await assert.rejects(ws.processor.identify(over), refusedWith('dimensions_too_large'));
    const at = ws.path('at.png');
    // 5760×5760 = 33,177,600: at the limit, and identify only reads the header.
    await writeFile(at, pngHeaderClaiming(5760, 5760));
    assert.deepEqual(await ws.processor.identify(at), { kind: 'image', mimetype: 'image/png' });
  });

  test('HEIC is refused with a message that says so (the bundled libvips cannot decode HEVC)', async () => {
    const path = await write(ws.path('photo.heic'), heicHead());
    await assert.rejects(ws.processor.identify(path), refusedWith('unsupported_type', /HEIC/));
    await assert.rejects(ws.processor.thumbnail(path), refusedWith('unsupported_type', /HEIC/));
  });

  test('formats outside Mastodon’s list are unsupported even when sharp or ffmpeg could read them', async () => {
    const tiff = ws.path('image.tiff');
    await gradient(32, 32).tiff().toFile(tiff);
    await assert.rejects(ws.processor.identify(tiff), refusedWith('unsupported_type'));

    const cases: [string, Buffer][] = [
      ['bmp', Buffer.concat([Buffer.from('BM'), randomBytes(62)])],
      ['svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')],
      ['pdf', Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj <<>> endobj\n')],
      [
        'avi',
        Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('AVI LIST'), Buffer.alloc(32)]),
      ],
      // Matroska that is not WebM (its DocType is "matroska").
      [
        'mkv',
        Buffer.concat([
          Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x88]),
          Buffer.from('matroska'),
          Buffer.alloc(32),
        ]),
      ],
      ['text', Buffer.from('hello, this is plain text\n')],
    ];
    for (const [name, bytes] of cases) {
      const path = await write(ws.path(`case.${name}`), bytes);
      await assert.rejects(ws.processor.identify(path), refusedWith('unsupported_type'), name);
    }
  });

  test('process() refuses an Identified that does not match the bytes', async () => {
    const path = ws.path('real.png');
    await gradient(16, 16).png().toFile(path);
    await assert.rejects(ws.processor.process(path, { kind: 'video', mimetype: 'video/mp4' }), /is image/);
  });

  test('a missing file is the caller’s error, not the file’s', async () => {
    await assert.rejects(ws.processor.identify(ws.path('nope')), { code: 'ENOENT' });
  });

  test('the input is never modified', async () => {
    const path = ws.path('keep.jpg');
    await gradient(300, 200).jpeg().withMetadata({ orientation: 3 }).toFile(path);
    const before = await readFile(path);
    const result = await ws.processor.process(path, await ws.processor.identify(path));
    assert.deepEqual(await readFile(path), before);
    await ws.processor.cleanup(result.original, result.small);
  });
});

describe('sniff', () => {
  const ftyp = (major: string, ...compatible: string[]) => {
    const size = 16 + compatible.length * 4;
    const box = Buffer.alloc(size);
    box.writeUInt32BE(size, 0);
    box.write(`ftyp${major}`, 4, 'latin1');
    for (const [i, brand] of compatible.entries()) box.write(brand, 16 + i * 4, 'latin1');
    return box;
  };

  test('ISO BMFF brands: AVIF before HEIF, QuickTime, 3GPP, MP4', () => {
    assert.deepEqual(sniff(ftyp('avif', 'mif1', 'miaf')), { family: 'image', mimetype: 'image/avif' });
    // An AVIF whose major brand is the generic one.
    assert.deepEqual(sniff(ftyp('mif1', 'avif', 'miaf')), { family: 'image', mimetype: 'image/avif' });
    assert.deepEqual(sniff(ftyp('heic', 'mif1')), { family: 'heic', mimetype: 'image/heic' });
    assert.deepEqual(sniff(ftyp('mif1', 'heix')), { family: 'heic', mimetype: 'image/heic' });
    assert.deepEqual(sniff(ftyp('mif1', 'miaf')), { family: 'heic', mimetype: 'image/heif' });
    assert.equal((sniff(ftyp('qt  ')) as { videoMimetype: string }).videoMimetype, 'video/quicktime');
    assert.equal((sniff(ftyp('3gp4', 'isom')) as { audioMimetype: string }).audioMimetype, 'audio/3gpp');
    assert.deepEqual(sniff(ftyp('isom', 'iso2', 'avc1', 'mp41')), {
      family: 'container',
      container: 'isobmff',
      videoMimetype: 'video/mp4',
      audioMimetype: 'audio/mp4',
    });
  });

  test('audio signatures', () => {
    assert.deepEqual(sniff(Buffer.from('ID3\x04\x00\x00', 'latin1')), {
      family: 'audio',
      mimetype: 'audio/mpeg',
    });
    assert.deepEqual(sniff(Buffer.from([0xff, 0xfb, 0x90, 0x64])), {
      family: 'audio',
      mimetype: 'audio/mpeg',
    });
    assert.deepEqual(sniff(Buffer.from([0xff, 0xf1, 0x50, 0x80])), {
      family: 'audio',
      mimetype: 'audio/aac',
    });
    assert.deepEqual(sniff(Buffer.from('fLaC\0\0\0\x22', 'latin1')), {
      family: 'audio',
      mimetype: 'audio/flac',
    });
    assert.deepEqual(sniff(Buffer.from('RIFF\0\0\0\0WAVEfmt ', 'latin1')), {
      family: 'audio',
      mimetype: 'audio/wav',
    });
    assert.equal(sniff(Buffer.from('OggS\0\x02', 'latin1')).family, 'container');
    // 0xFF followed by a reserved MPEG version: not audio.
    assert.deepEqual(sniff(Buffer.from([0xff, 0xe8, 0, 0])), { family: 'unknown' });
  });

  test('image signatures', async () => {
    assert.deepEqual(sniff(await gradient(4, 4).gif().toBuffer()), { family: 'gif', mimetype: 'image/gif' });
    assert.deepEqual(sniff(await gradient(4, 4).webp().toBuffer()), {
      family: 'image',
      mimetype: 'image/webp',
    });
    assert.deepEqual(sniff(await gradient(4, 4).avif().toBuffer()), {
      family: 'image',
      mimetype: 'image/avif',
    });
    assert.deepEqual(
      sniff(
        await sharp(await gradient(4, 4).png().toBuffer())
          .jpeg()
          .toBuffer(),
      ),
      {
        family: 'image',
        mimetype: 'image/jpeg',
      },
    );
  });
});
