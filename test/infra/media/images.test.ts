import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isBlurhashValid } from 'blurhash';
import sharp, { type Sharp } from 'sharp';
import { fitToPixels } from '../../../src/infra/media/images.ts';
import {
  type MediaDimensions,
  MediaProcessingError,
  type ProcessedMedia,
} from '../../../src/infra/media/index.ts';
import { animation, flatAnimation, gradient, halves, type Workspace, workspace } from './fixtures.ts';

let ws: Workspace;
before(async () => {
  ws = await workspace();
});
after(async () => {
  await ws.close();
});

async function processFile(path: string): Promise<ProcessedMedia> {
  const identified = await ws.processor.identify(path);
  return ws.processor.process(path, identified);
}

function assertGeometry(meta: unknown, width: number, height: number): void {
  assert.deepEqual(meta, { width, height, size: `${width}x${height}`, aspect: width / height });
}

/** Within 230,400 px, barely (a pixel off on each side at most), with the input's aspect. */
function assertPreview(meta: MediaDimensions | undefined, aspect: number): void {
  assert.ok(meta?.width && meta.height);
  assertGeometry(meta, meta.width, meta.height);
  const area = meta.width * meta.height;
  assert.ok(area <= 230_400, `${meta.size} is over 230,400 px`);
  assert.ok((meta.width + 1) * (meta.height + 1) > 230_400, `${meta.size} was shrunk more than needed`);
  assert.ok(Math.abs(meta.width / meta.height - aspect) < 0.01, `${meta.size} lost the aspect ${aspect}`);
}

describe('still images', () => {
  const formats = [
    { name: 'JPEG', mimetype: 'image/jpeg', make: (s: Sharp) => s.jpeg(), out: 'jpeg', ext: 'jpg' },
    { name: 'PNG', mimetype: 'image/png', make: (s: Sharp) => s.png(), out: 'png', ext: 'png' },
    { name: 'WebP', mimetype: 'image/webp', make: (s: Sharp) => s.webp(), out: 'webp', ext: 'webp' },
    { name: 'still GIF', mimetype: 'image/gif', make: (s: Sharp) => s.gif(), out: 'gif', ext: 'gif' },
    // Mastodon stores AVIF (and HEIC) as JPEG.
    { name: 'AVIF', mimetype: 'image/avif', make: (s: Sharp) => s.avif(), out: 'jpeg', ext: 'jpg' },
  ] as const;

  for (const format of formats) {
    test(`${format.name}: identified from its bytes, stored as ${format.out} with a small preview and meta`, async () => {
      // Named .bin: the name and the client's claim play no part.
      const path = ws.path(`input-${format.name}.bin`);
      await format.make(gradient(800, 600)).toFile(path);

      const identified = await ws.processor.identify(path);
      assert.deepEqual(identified, {
        kind: format.mimetype === 'image/gif' ? 'gif' : 'image',
        mimetype: format.mimetype,
      });

      const result = await ws.processor.process(path, identified);
      assert.equal(result.type, 'image');
      assert.equal(result.original.contentType, `image/${format.out}`);
      assert.equal(result.original.extension, format.ext);
      assert.equal(result.small?.contentType, `image/${format.out}`);
      assert.equal((await sharp(result.original.path).metadata()).format, format.out);
      assert.equal((await sharp(result.small!.path).metadata()).format, format.out);
      assert.equal(result.original.size, (await readFile(result.original.path)).length);

      // 800×600 fits the stored limit; the preview fits 230,400 px (553×415).
      assertGeometry(result.meta.original, 800, 600);
      assertPreview(result.meta.small, 800 / 600);
      const small = await sharp(result.small!.path).metadata();
      assert.deepEqual([small.width, small.height], [result.meta.small!.width, result.meta.small!.height]);
      assert.equal(result.meta.focus, undefined);

      assert.ok(result.blurhash);
      assert.equal(isBlurhashValid(result.blurhash).result, true);
      await ws.processor.cleanup(result.original, result.small, result.thumbnail);
    });
  }

  test('an image smaller than the preview size keeps its size in both renditions', async () => {
    const path = ws.path('tiny.png');
    await gradient(40, 30).png().toFile(path);
    const result = await processFile(path);
    assertGeometry(result.meta.original, 40, 30);
    assertGeometry(result.meta.small, 40, 30);
    await ws.processor.cleanup(result.original, result.small);
  });

  test('an original above 3840×2160 in area is downscaled, keeping its aspect', async () => {
    const path = ws.path('large.jpg');
    await gradient(4200, 2100).jpeg({ quality: 50 }).toFile(path);
    const result = await processFile(path);
    const { width, height } = result.meta.original!;
    assert.ok(width! * height! <= 8_294_400, `${width}x${height} is over the limit`);
    assert.ok(width! * height! > 8_200_000, `${width}x${height} was shrunk more than needed`);
    assert.ok(Math.abs(width! / height! - 2) < 0.01);
    assertPreview(result.meta.small, 2);
    await ws.processor.cleanup(result.original, result.small);
  });

  test('fitToPixels: the largest same-aspect size within the limit, null when it already fits', () => {
    assert.equal(fitToPixels(640, 360, 230_400), null);
    assert.deepEqual(fitToPixels(1280, 720, 230_400), { width: 640, height: 360 });
    const odd = fitToPixels(1001, 997, 230_400)!;
    assert.ok(odd.width * odd.height <= 230_400);
    // A sliver keeps the limit rather than its aspect.
    assert.deepEqual(fitToPixels(100_000, 1, 50), { width: 50, height: 1 });
    assert.deepEqual(fitToPixels(1, 100_000, 50), { width: 1, height: 50 });
  });

  test('EXIF orientation is applied, and no EXIF (GPS included) survives in either rendition', async () => {
    const path = ws.path('phone.jpg');
    // Stored sideways (red left, blue right) with orientation 6: displayed rotated 90° clockwise.
    await halves(400, 200, '#ff0000', '#0000ff')
      .jpeg()
      .withExif({
        IFD0: { Make: 'WoollyTestCam', Model: 'GPS-9000' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '51/1 30/1 1234/100',
          GPSLongitudeRef: 'W',
          GPSLongitude: '0/1 7/1 3900/100',
        },
      })
      .withMetadata({ orientation: 6 })
      .toFile(path);
    const input = await sharp(path).metadata();
    assert.equal(input.orientation, 6);
    assert.ok(input.exif?.includes('WoollyTestCam'));

    const result = await processFile(path);
    assertGeometry(result.meta.original, 200, 400);
    for (const file of [result.original, result.small!]) {
      const meta = await sharp(file.path).metadata();
      assert.equal(meta.exif, undefined, `${file.path} kept EXIF`);
      assert.equal(meta.orientation, undefined);
      assert.equal(meta.xmp, undefined);
      const bytes = await readFile(file.path);
      assert.equal(bytes.includes('WoollyTestCam'), false);
      assert.equal(bytes.includes('GPS-9000'), false);
      assert.equal(bytes.includes('Exif\0\0'), false);
    }
    // Rotated: the stored left half (red) is now on top.
    const { data, info } = await sharp(result.original.path).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [
      ...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3),
    ];
    assert.ok(pixel(100, 20)[0]! > 200 && pixel(100, 20)[2]! < 50, `top is ${pixel(100, 20)}`);
    assert.ok(pixel(100, 380)[2]! > 200 && pixel(100, 380)[0]! < 50, `bottom is ${pixel(100, 380)}`);
    await ws.processor.cleanup(result.original, result.small);
  });

  test('PNG text chunks and WebP XMP are stripped too', async () => {
    const path = ws.path('meta.webp');
    await gradient(100, 100)
      .webp()
      .withXmp('<x:xmpmeta xmlns:x="adobe:ns:meta/">WoollySecret</x:xmpmeta>')
      .toFile(path);
    assert.ok((await readFile(path)).includes('WoollySecret'));
    const result = await processFile(path);
    assert.equal((await readFile(result.original.path)).includes('WoollySecret'), false);
    await ws.processor.cleanup(result.original, result.small);
  });

  test('the blurhash describes the image: different images, different hashes', async () => {
    const red = ws.path('red.png');
    const blue = ws.path('blue.png');
    await halves(64, 64, '#ff0000', '#ff0000').png().toFile(red);
    await halves(64, 64, '#0000ff', '#00ff00').png().toFile(blue);
    const one = await processFile(red);
    const two = await processFile(blue);
    assert.notEqual(one.blurhash, two.blurhash);
    await ws.processor.cleanup(one.original, one.small, two.original, two.small);
  });

  test('cleanup() removes the outputs and their directory; refuses paths it did not write', async () => {
    const path = ws.path('clean.png');
    await gradient(50, 50).png().toFile(path);
    const result = await processFile(path);
    assert.ok(existsSync(result.original.path));
    await ws.processor.cleanup(result.original, null, undefined, result.small);
    assert.equal(existsSync(result.original.path), false);
    assert.equal(existsSync(dirname(result.original.path)), false);
    // Twice is harmless.
    await ws.processor.cleanup(result.original);
    await assert.rejects(
      ws.processor.cleanup({ path, contentType: 'image/png', extension: 'png', size: 1 }),
      /not under/,
    );
    assert.ok(existsSync(path));
  });
});

describe('animated images without ffmpeg', () => {
  let bare: Workspace;
  before(async () => {
    bare = await workspace({ ffmpeg: false });
  });
  after(async () => {
    await bare.close();
  });

  test('videoSupported is false when the binaries are missing', () => {
    assert.equal(bare.processor.videoSupported, false);
  });

  for (const format of ['gif', 'webp'] as const) {
    test(`an animated ${format} stays an animated image, with a still preview`, async () => {
      const path = bare.path(`anim.${format}`);
      await animation(120, 80, 4)
        [format]({ delay: [100, 100, 100, 100], loop: 0 })
        .toFile(path);
      const identified = await bare.processor.identify(path);
      const result = await bare.processor.process(path, identified);
      assert.equal(result.type, 'image');
      assert.equal(result.original.contentType, `image/${format}`);
      assert.equal((await sharp(result.original.path).metadata()).pages, 4);
      assert.equal((await sharp(result.small!.path).metadata()).pages ?? 1, 1);
      assertGeometry(result.meta.original, 120, 80);
      assert.ok(result.blurhash);
      await bare.processor.cleanup(result.original, result.small);
    });
  }

  test('an animation whose frames together exceed the pixel limit is refused, not flattened', async () => {
    // 9 frames of 2000×2000: each within limits, 36 MP in all.
    const path = bare.path('long.gif');
    await flatAnimation(2000, 2000, 9).gif({ effort: 1, colours: 16 }).toFile(path);
    assert.equal((await sharp(path).metadata()).pages, 9);
    const identified = await bare.processor.identify(path);
    await assert.rejects(bare.processor.process(path, identified), (error: unknown) => {
      assert.ok(error instanceof MediaProcessingError);
      assert.equal(error.reason, 'video_unavailable');
      return true;
    });
    assert.deepEqual(await readdir(bare.tempDir), []);
  });
});
