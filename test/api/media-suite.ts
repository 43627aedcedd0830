import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { eq } from 'drizzle-orm';
import sharp from 'sharp';
import { accounts, mediaAttachments } from '../../src/db/schema/index.ts';
import { processQueuedMedia } from '../../src/domain/media/attachments.ts';
import { createTestUser, type TestUser } from '../support/accounts.ts';
import { type ApiHarness, apiHarness, type HarnessOptions } from '../support/api.ts';
import { type FilePart, ffmpegAvailable, multipart, testGif, testPng, testVideo } from '../support/media.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely, field by field.
type Json = Record<string, any>;

/**
 * The media API against one storage backend (local files or an S3 bucket): uploads, their
 * processing, attaching them to statuses, avatars and headers, and every refusal.
 */
export function mediaSuite(options: HarnessOptions): ApiHarness {
  const api = apiHarness(options);
  let alice: TestUser;
  let bob: TestUser;
  let png: Buffer;

  api.before(async () => {
    alice = await createTestUser(api.ctx, { username: 'alice' });
    bob = await createTestUser(api.ctx, { username: 'bob' });
    png = await testPng(64, 48);
  });

  const upload = async (
    user: TestUser,
    fields: Record<string, string | FilePart>,
    path = '/api/v2/media',
    method: 'POST' | 'PUT' = 'POST',
  ) => {
    const body = await multipart(fields);
    const res = await api.inject({
      method,
      url: path,
      headers: { ...body.headers, authorization: `Bearer ${user.token}` },
      payload: body.payload,
    });
    return { status: res.statusCode, body: (res.body ? res.json() : {}) as Json };
  };
  const image = (data = png, type = 'image/png', filename = 'photo.png'): FilePart => ({
    data,
    type,
    filename,
  });
  const stored = async (url: string) => {
    const key = [...(await keysOf(api))].find((k) => url.endsWith(k));
    assert.ok(key, `no stored file behind ${url}`);
    const object = await api.ctx.storage.get(key);
    assert.ok(object);
    return buffer(object.body);
  };
  const rowCount = async () => (await api.ctx.database.db.select().from(mediaAttachments)).length;

  test('an image upload is processed at once: 200 with the file, its preview, meta, blurhash', async () => {
    const res = await upload(alice, {
      file: image(),
      description: 'A red and blue square',
      focus: '0.5,-0.25',
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const m = res.body;
    api.schema(m, 'MediaAttachment');
    assert.equal(m.type, 'image');
    assert.match(m.url, /\/media_attachments\/files\/(\d{3}\/){6}original\/[0-9a-f]{16}\.png$/);
    assert.match(m.preview_url, /\/small\//);
    assert.equal(m.remote_url, null);
    assert.equal(m.description, 'A red and blue square');
    assert.deepEqual(m.meta.focus, { x: 0.5, y: -0.25 });
    assert.equal(m.meta.original.width, 64);
    assert.equal(m.meta.original.height, 48);
    assert.equal(typeof m.blurhash, 'string');
    assert.match(m.text_url, /\/media\/[A-Za-z0-9_-]{19}$/);
    const file = await stored(m.url);
    const metadata = await sharp(file).metadata();
    assert.equal(metadata.width, 64);

    const again = await api.call(alice, 'GET', `/api/v1/media/${m.id}`);
    assert.equal(again.status, 200);
    assert.equal(again.body.id, m.id);
    // Someone else's upload does not exist for them.
    assert.equal((await api.call(bob, 'GET', `/api/v1/media/${m.id}`)).status, 404);
  });

  test('the legacy v1 upload answers 200 with the processed file', async () => {
    const res = await upload(alice, { file: image() }, '/api/v1/media');
    assert.equal(res.status, 200);
    assert.ok(res.body.url);
  });

  test('bad uploads are refused with a clear error and nothing is stored', async () => {
    const before = await rowCount();
    const random = await upload(alice, { file: image(randomBytes(2048)) });
    assert.equal(random.status, 422);
    assert.equal(random.body.error, 'File type of uploaded media could not be verified');
    const truncated = await upload(alice, { file: image(png.subarray(0, png.length - 40)) });
    assert.equal(truncated.status, 422, JSON.stringify(truncated.body));
    const missing = await upload(alice, { description: 'no file' });
    assert.equal(missing.status, 422);
    assert.ok(missing.body.details.file);
    const long = await upload(alice, { file: image(), description: 'x'.repeat(1501) });
    assert.equal(long.status, 422);
    assert.equal(long.body.details.description[0].error, 'ERR_TOO_LONG');
    for (const focus of ['2,0', '0.5', 'a,b', '0.1,0.2,0.3']) {
      const bad = await upload(alice, { file: image(), focus });
      assert.equal(bad.status, 422, focus);
      assert.ok(bad.body.details.focus, focus);
    }
    const text = await upload(alice, { file: 'not a file' });
    assert.equal(text.status, 422);
    // A decompression bomb: a valid PNG header claiming 50000×50000 pixels.
    const bomb = await sharp({
      create: { width: 8000, height: 8000, channels: 3, background: { r: 0, g: 0, b: 0 } },
    })
      .png({ compressionLevel: 9 })
      .toBuffer();
    const huge = await upload(alice, { file: image(withPngSize(bomb, 50_000, 50_000)) });
    assert.equal(huge.status, 422, JSON.stringify(huge.body));
    assert.equal(await rowCount(), before);
  });

  test('an oversized upload is refused while it streams (413)', async () => {
    const before = await rowCount();
    const res = await upload(alice, { file: image(Buffer.alloc(17 * 1024 * 1024, 1)) });
    assert.equal(res.status, 413, JSON.stringify(res.body));
    assert.match(res.body.error, /file/i);
    assert.equal(await rowCount(), before);
  });

  test('description and focus change while unattached; failed validation changes nothing', async () => {
    const m = (await upload(alice, { file: image() })).body;
    const ok = await upload(
      alice,
      { description: 'Now described', focus: '-1,1' },
      `/api/v1/media/${m.id}`,
      'PUT',
    );
    assert.equal(ok.status, 200);
    assert.equal(ok.body.description, 'Now described');
    assert.deepEqual(ok.body.meta.focus, { x: -1, y: 1 });
    const bad = await api.call(alice, 'PUT', `/api/v1/media/${m.id}`, { description: 'y'.repeat(1501) });
    assert.equal(bad.status, 422);
    const after = await api.call(alice, 'GET', `/api/v1/media/${m.id}`);
    assert.equal(after.body.description, 'Now described');
    assert.equal((await api.call(bob, 'PUT', `/api/v1/media/${m.id}`, { description: 'mine' })).status, 404);
    // An image takes no thumbnail.
    const thumb = await upload(alice, { thumbnail: image() }, `/api/v1/media/${m.id}`, 'PUT');
    assert.equal(thumb.status, 422);
  });

  test('statuses carry their media in order; the limits and ownership are enforced', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await upload(alice, { file: image(), description: `pic ${i}` })).body.id);
    const theirs = (await upload(bob, { file: image() })).body.id;

    const five = await api.call(alice, 'POST', '/api/v1/statuses', { status: 'five', media_ids: ids });
    assert.equal(five.status, 422);
    assert.equal(five.body.error, 'Cannot attach more than 4 files');
    const foreign = await api.call(alice, 'POST', '/api/v1/statuses', { status: 'x', media_ids: [theirs] });
    assert.equal(foreign.status, 422);
    assert.equal(foreign.body.error, `Media ${theirs} not found or already attached to another post`);

    // No text is needed when media carry the post.
    const order = [ids[2], ids[0], ids[1]] as string[];
    const posted = await api.call(alice, 'POST', '/api/v1/statuses', { status: '', media_ids: order });
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    api.schema(posted.body, 'Status');
    assert.deepEqual(
      posted.body.media_attachments.map((m: Json) => m.id),
      order,
    );
    assert.equal(posted.body.media_attachments[0].description, 'pic 2');

    const reused = await api.call(alice, 'POST', '/api/v1/statuses', {
      status: 'again',
      media_ids: [ids[0]],
    });
    assert.equal(reused.status, 422);
    assert.match(reused.body.error, /already attached/);
    // Attached: no longer an upload to read, change or delete.
    assert.equal((await api.call(alice, 'GET', `/api/v1/media/${ids[0]}`)).status, 404);
    const del = await api.call(alice, 'DELETE', `/api/v1/media/${ids[0]}`);
    assert.equal(del.status, 422);
    assert.equal(del.body.error, 'Media attachment is currently used by a status');

    const shown = await api.call(bob, 'GET', `/api/v1/statuses/${posted.body.id}`);
    assert.equal(shown.body.media_attachments.length, 3);
    const onlyMedia = await api.call(bob, 'GET', '/api/v1/timelines/public?only_media=true');
    assert.ok(onlyMedia.body.some((s: Json) => s.id === posted.body.id));
    assert.ok(onlyMedia.body.every((s: Json) => s.media_attachments.length > 0));
    const accountMedia = await api.call(
      bob,
      'GET',
      `/api/v1/accounts/${alice.account.id}/statuses?only_media=true`,
    );
    assert.deepEqual(
      accountMedia.body.map((s: Json) => s.id),
      [posted.body.id],
    );

    // The stable link redirects to the file once the status is public.
    const link = await api.inject({
      method: 'GET',
      url: new URL(posted.body.media_attachments[0].text_url).pathname,
    });
    assert.equal(link.statusCode, 302);
    assert.equal(link.headers.location, posted.body.media_attachments[0].url);
    // An unknown shortcode, or a proxy request that names no attachment or style, is a plain 404.
    for (const url of [
      '/media/nosuchcode',
      `/media_proxy/${ids[2]}/huge`,
      '/media_proxy/abc/original',
      '/media_proxy/1/small',
    ])
      assert.equal((await api.inject({ method: 'GET', url })).statusCode, 404, url);
    // A local attachment through the proxy redirects to its file, as for a remote one once cached.
    const proxied = await api.inject({ method: 'GET', url: `/media_proxy/${ids[2]}/original` });
    assert.equal(proxied.statusCode, 302);
    assert.equal(proxied.headers.location, posted.body.media_attachments[0].url);
  });

  test('an unattached upload can be deleted, and its files go', async () => {
    const m = (await upload(alice, { file: image() })).body;
    const res = await api.call(alice, 'DELETE', `/api/v1/media/${m.id}`);
    assert.equal(res.status, 200);
    assert.equal((await api.call(alice, 'GET', `/api/v1/media/${m.id}`)).status, 404);
    assert.equal(
      [...(await keysOf(api))].some((k) => m.url.endsWith(k)),
      false,
    );
  });

  test('an edit replaces media and descriptions; the history shows what each version had', async () => {
    const a = (await upload(alice, { file: image(), description: 'first' })).body.id;
    const b = (await upload(alice, { file: image(), description: 'second' })).body.id;
    const status = (await api.call(alice, 'POST', '/api/v1/statuses', { status: 'album', media_ids: [a] }))
      .body;
    const edited = await api.call(alice, 'PUT', `/api/v1/statuses/${status.id}`, {
      status: 'album',
      media_ids: [a, b],
      media_attributes: [{ id: a, description: 'first, described better' }],
    });
    assert.equal(edited.status, 200, JSON.stringify(edited.body));
    assert.deepEqual(
      edited.body.media_attachments.map((m: Json) => [m.id, m.description]),
      [
        [a, 'first, described better'],
        [b, 'second'],
      ],
    );
    const history = await api.call(alice, 'GET', `/api/v1/statuses/${status.id}/history`);
    assert.equal(history.body.length, 2);
    assert.deepEqual(
      history.body[0].media_attachments.map((m: Json) => m.description),
      ['first'],
    );
    assert.equal(history.body[1].media_attachments.length, 2);
    // Bob's upload cannot be slipped in by an edit.
    const theirs = (await upload(bob, { file: image() })).body.id;
    const stolen = await api.call(alice, 'PUT', `/api/v1/statuses/${status.id}`, {
      status: 'album',
      media_ids: [theirs],
    });
    assert.equal(stolen.status, 422);
  });

  test('delete-and-redraft keeps the uploads; delete_media removes them', async () => {
    const a = (await upload(alice, { file: image() })).body.id;
    const first = (
      await api.call(alice, 'POST', '/api/v1/statuses', { status: 'redraft me', media_ids: [a] })
    ).body;
    const deleted = await api.call(alice, 'DELETE', `/api/v1/statuses/${first.id}`);
    assert.equal(deleted.body.media_attachments[0].id, a);
    const again = await api.call(alice, 'POST', '/api/v1/statuses', { status: 'redrafted', media_ids: [a] });
    assert.equal(again.status, 200);
    const gone = await api.call(alice, 'DELETE', `/api/v1/statuses/${again.body.id}?delete_media=true`);
    assert.equal(gone.status, 200);
    const [row] = await api.ctx.database.db.select().from(mediaAttachments).where(eq(mediaAttachments.id, a));
    assert.equal(row, undefined);
  });

  test('avatar and header: set through update_credentials, removed through /api/v1/profile', async () => {
    const body = await multipart({
      avatar: image(await testPng(800, 600)),
      header: image(await testPng(3000, 1000)),
      display_name: 'Alice with a face',
    });
    const res = await api.inject({
      method: 'PATCH',
      url: '/api/v1/accounts/update_credentials',
      headers: { ...body.headers, authorization: `Bearer ${alice.token}` },
      payload: body.payload,
    });
    assert.equal(res.statusCode, 200, res.body);
    const account = res.json() as Json;
    api.schema(account, 'CredentialAccount');
    assert.equal(account.display_name, 'Alice with a face');
    assert.match(account.avatar, /accounts\/avatars\/.*\/original\//);
    assert.equal(account.avatar_static, account.avatar);
    const avatar = await sharp(await stored(account.avatar)).metadata();
    assert.deepEqual([avatar.width, avatar.height], [400, 400]);
    const header = await sharp(await stored(account.header)).metadata();
    assert.deepEqual([header.width, header.height], [1500, 500]);

    const tooBig = await multipart({ avatar: image(Buffer.alloc(9 * 1024 * 1024, 7)) });
    const refused = await api.inject({
      method: 'PATCH',
      url: '/api/v1/accounts/update_credentials',
      headers: { ...tooBig.headers, authorization: `Bearer ${alice.token}` },
      payload: tooBig.payload,
    });
    assert.equal(refused.statusCode, 422);

    const removed = await api.call(alice, 'DELETE', '/api/v1/profile/avatar');
    assert.equal(removed.status, 200);
    api.schema(removed.body, 'CredentialAccount');
    assert.match(removed.body.avatar, /\/avatars\/original\/missing\.png$/);
    assert.match(removed.body.header, /accounts\/headers\//);
  });

  test('a video is processed by a job: 202 with url null, 206 while waiting, then 200', {
    skip: !ffmpegAvailable && 'ffmpeg is not installed',
  }, async () => {
    const video = await testVideo(1);
    const res = await upload(alice, { file: { data: video, type: 'video/mp4', filename: 'clip.mp4' } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.url, null);
    assert.equal(res.body.type, 'video');
    assert.equal((await api.call(alice, 'GET', `/api/v1/media/${res.body.id}`)).status, 206);
    const early = await api.call(alice, 'POST', '/api/v1/statuses', {
      status: 'too soon',
      media_ids: [res.body.id],
    });
    assert.equal(early.status, 422);
    assert.equal(
      early.body.error,
      'Cannot attach files that have not finished processing. Try again in a moment!',
    );
    await processQueuedMedia(api.ctx, res.body.id);
    const done = await api.call(alice, 'GET', `/api/v1/media/${res.body.id}`);
    assert.equal(done.status, 200);
    assert.match(done.body.url, /\.mp4$/);
    assert.ok(done.body.preview_url);
    assert.ok(done.body.meta.original.duration > 0);
    // A video goes alone.
    const pic = (await upload(alice, { file: image() })).body.id;
    const mixed = await api.call(alice, 'POST', '/api/v1/statuses', {
      status: 'mix',
      media_ids: [res.body.id, pic],
    });
    assert.equal(mixed.status, 422);
    assert.equal(mixed.body.error, 'Cannot attach a video to a post that already contains images');
  });

  test('an animated GIF becomes a looping video (gifv), which may go beside images', {
    skip: !ffmpegAvailable && 'ffmpeg is not installed',
  }, async () => {
    const res = await upload(alice, {
      file: { data: await testGif(), type: 'image/gif', filename: 'loop.gif' },
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.type, 'gifv');
    await processQueuedMedia(api.ctx, res.body.id);
    const done = await api.call(alice, 'GET', `/api/v1/media/${res.body.id}`);
    assert.equal(done.status, 200);
    assert.equal(done.body.type, 'gifv');
    assert.match(done.body.url, /\.mp4$/);
    const pic = (await upload(alice, { file: image() })).body.id;
    const both = await api.call(alice, 'POST', '/api/v1/statuses', {
      status: 'loop',
      media_ids: [res.body.id, pic],
    });
    assert.equal(both.status, 200, JSON.stringify(both.body));
  });

  test('a video that cannot be processed marks its upload failed, with the reason, and the job ends', {
    skip: !ffmpegAvailable && 'ffmpeg is not installed',
  }, async () => {
    const res = await upload(alice, {
      file: { data: await testVideo(1), type: 'video/mp4', filename: 'clip.mp4' },
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    // The stored upload is damaged before the worker gets to it.
    const [queued] = await api.ctx.database.db
      .select()
      .from(mediaAttachments)
      .where(eq(mediaAttachments.id, res.body.id));
    assert.ok(queued?.fileKey);
    await api.ctx.storage.put(queued.fileKey, randomBytes(4096), { contentType: 'video/mp4' });
    await processQueuedMedia(api.ctx, res.body.id);
    const [row] = await api.ctx.database.db
      .select()
      .from(mediaAttachments)
      .where(eq(mediaAttachments.id, res.body.id));
    assert.equal(row?.processing, 'failed');
    assert.ok(row?.processingError);
    const shown = await api.call(alice, 'GET', `/api/v1/media/${res.body.id}`);
    assert.equal(shown.status, 422);
    assert.equal(shown.body.error, 'Error processing thumbnail for uploaded media');
  });

  test('the instance tells the real media limits and types', async () => {
    const res = await api.call(null, 'GET', '/api/v2/instance');
    const media = res.body.configuration.media_attachments;
    assert.equal(media.image_size_limit, 16 * 1024 * 1024);
    assert.equal(media.description_limit, 1500);
    assert.equal(media.supported_mime_types.includes('video/mp4'), ffmpegAvailable);
    assert.ok(media.supported_mime_types.includes('image/png'));
    assert.equal(media.supported_mime_types.includes('image/heic'), false, 'no HEIC decoder here');
  });

  return api;
}

/** Every key in storage, walked through the rows that name them. */
async function keysOf(api: ApiHarness): Promise<Set<string>> {
  const rows = await api.ctx.database.db.select().from(mediaAttachments);
  const keys = new Set<string>();
  for (const r of rows) for (const k of [r.fileKey, r.smallKey, r.thumbnailKey]) if (k) keys.add(k);
  for (const a of await api.ctx.database.db.select().from(accounts))
    for (const k of [a.avatarKey, a.avatarStaticKey, a.headerKey, a.headerStaticKey]) if (k) keys.add(k);
  for (const k of [...keys]) if (!(await api.ctx.storage.exists(k))) keys.delete(k);
  return keys;
}

/** Rewrites a PNG's IHDR dimensions (and its CRC), keeping the rest: a small file that claims to be huge. */
function withPngSize(png: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(png);
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}
