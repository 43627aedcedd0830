import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import { isBlurhashValid } from 'blurhash';
import sharp from 'sharp';
import { MediaProcessingError } from '../../../src/infra/media/index.ts';
import { animation, assertNothingLeft, gradient, halves, type Workspace, workspace } from './fixtures.ts';

let ws: Workspace;
before(async () => {
  ws = await workspace();
});
after(async () => {
  await ws.close();
});
afterEach(async () => {
  await assertNothingLeft(ws);
});

describe('profile images', () => {
  test('an avatar is a 400×400 centre crop in the input format, without metadata; no static for a still', async () => {
    const path = ws.path('face.jpg');
    // 600×300 with red on the left and blue on the right: the centre crop keeps both halves.
    await halves(600, 300, '#ff0000', '#0000ff')
      .jpeg()
      .withExif({
        IFD0: { Make: 'WoollyTestCam' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' },
      })
      .toFile(path);
    const { original, static: still } = await ws.processor.profileImage(path, 'avatar');
    assert.equal(still, null);
    assert.equal(original.contentType, 'image/jpeg');
    const meta = await sharp(original.path).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 400, 400]);
    assert.equal(meta.exif, undefined);
    assert.equal((await readFile(original.path)).includes('WoollyTestCam'), false);
    const { data, info } = await sharp(original.path).raw().toBuffer({ resolveWithObject: true });
    const red = data[(200 * info.width + 20) * 3]!;
    const blue = data[(200 * info.width + 380) * 3 + 2]!;
    assert.ok(red > 200 && blue > 200, 'the crop is not centred');
    await ws.processor.cleanup(original);
  });

  test('an avatar from a phone photo is upright (EXIF orientation applied before the crop)', async () => {
    const path = ws.path('sideways.jpg');
    // Stored red left, blue right, with orientation 6: displayed red on top, blue below.
    await halves(400, 200, '#ff0000', '#0000ff').jpeg().withMetadata({ orientation: 6 }).toFile(path);
    const { original } = await ws.processor.profileImage(path, 'avatar');
    const { data, info } = await sharp(original.path).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [
      ...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3),
    ];
    assert.ok(pixel(200, 20)[0]! > 200 && pixel(200, 20)[2]! < 60, `top is ${pixel(200, 20)}`);
    assert.ok(pixel(200, 380)[2]! > 200 && pixel(200, 380)[0]! < 60, `bottom is ${pixel(200, 380)}`);
    await ws.processor.cleanup(original);
  });

  test('a header is 1500×500; a small input is enlarged to cover it, as Mastodon does', async () => {
    const path = ws.path('banner.png');
    await gradient(300, 200).png().toFile(path);
    const { original, static: still } = await ws.processor.profileImage(path, 'header');
    assert.equal(still, null);
    assert.equal(original.contentType, 'image/png');
    const meta = await sharp(original.path).metadata();
    assert.deepEqual([meta.width, meta.height], [1500, 500]);
    await ws.processor.cleanup(original);
  });

  for (const format of ['gif', 'webp'] as const) {
    test(`an animated ${format} avatar stays animated, with a still PNG as static`, async () => {
      const path = ws.path(`anim-avatar.${format}`);
      await animation(200, 100, 3)
        [format]({ delay: [100, 100, 100], loop: 0 })
        .toFile(path);
      const { original, static: still } = await ws.processor.profileImage(path, 'avatar');
      assert.equal(original.contentType, `image/${format}`);
      const meta = await sharp(original.path, { animated: true }).metadata();
      assert.equal(meta.pages, 3);
      assert.deepEqual([meta.width, meta.pageHeight ?? meta.height], [400, 400]);
      assert.ok(still);
      assert.equal(still.contentType, 'image/png');
      const stillMeta = await sharp(still.path).metadata();
      assert.deepEqual(
        [stillMeta.format, stillMeta.width, stillMeta.height, stillMeta.pages ?? 1],
        ['png', 400, 400, 1],
      );
      await ws.processor.cleanup(original, still);
    });
  }

  test('AVIF and non-images are refused for avatars (Mastodon accepts JPEG, PNG, GIF, WebP)', async () => {
    const avif = ws.path('avatar.avif');
    await gradient(64, 64).avif().toFile(avif);
    await assert.rejects(ws.processor.profileImage(avif, 'avatar'), (error: unknown) => {
      assert.ok(error instanceof MediaProcessingError);
      assert.equal(error.reason, 'unsupported_type');
      assert.match(error.message, /avatar must be a JPEG, PNG, GIF or WebP/);
      return true;
    });
    const text = ws.path('avatar.txt');
    await import('node:fs/promises').then((fs) => fs.writeFile(text, 'not an image'));
    await assert.rejects(ws.processor.profileImage(text, 'header'), { reason: 'unsupported_type' });
  });

  test('a truncated avatar is corrupt', async () => {
    const whole = await gradient(500, 500).jpeg().toBuffer();
    const path = ws.path('cut-avatar.jpg');
    await import('node:fs/promises').then((fs) => fs.writeFile(path, whole.subarray(0, whole.length / 2)));
    await assert.rejects(ws.processor.profileImage(path, 'avatar'), { reason: 'corrupt' });
  });
});

describe('custom thumbnails', () => {
  test('within the small size, same format, with blurhash, geometry and colours', async () => {
    const path = ws.path('thumb.png');
    await gradient(1280, 720).png().toFile(path);
    const result = await ws.processor.thumbnail(path);
    assert.equal(result.file.contentType, 'image/png');
    assert.deepEqual(result.meta, { width: 640, height: 360, size: '640x360', aspect: 640 / 360 });
    const meta = await sharp(result.file.path).metadata();
    assert.deepEqual([meta.width, meta.height], [640, 360]);
    assert.ok(result.blurhash && isBlurhashValid(result.blurhash).result);
    assert.ok(result.colors);
    assert.match(result.colors.background, /^#[0-9a-f]{6}$/);
    await ws.processor.cleanup(result.file);
  });

  test('an AVIF thumbnail is stored as JPEG; an animated GIF gives its first frame', async () => {
    const avif = ws.path('thumb.avif');
    await gradient(100, 80).avif().toFile(avif);
    const one = await ws.processor.thumbnail(avif);
    assert.equal(one.file.contentType, 'image/jpeg');
    const gif = ws.path('thumb.gif');
    await animation(100, 80, 3).gif().toFile(gif);
    const two = await ws.processor.thumbnail(gif);
    assert.equal((await sharp(two.file.path).metadata()).pages ?? 1, 1);
    await ws.processor.cleanup(one.file, two.file);
  });

  test('a thumbnail must be an image', async () => {
    const path = ws.path('thumb.wav');
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(path, Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVEfmt ', 'latin1'), Buffer.alloc(64)])),
    );
    await assert.rejects(ws.processor.thumbnail(path), { reason: 'unsupported_type' });
  });
});
