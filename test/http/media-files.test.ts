import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { StorageConfig } from '../../src/config/config.ts';
import { parseRange } from '../../src/http/media-files.ts';
import { S3Storage } from '../../src/infra/storage/s3.ts';
import { apiHarness, buildTestServer, listen } from '../support/api.ts';

const api = apiHarness();

const KEY = 'media_attachments/files/110/000/000/001/original/0a1b2c3d4e5f6789.png';
const BYTES = randomBytes(1000);

api.before(async () => {
  await api.ctx.storage.put(KEY, BYTES, { contentType: 'image/png' });
});

const get = (url: string, headers: Record<string, string> = {}) =>
  api.inject({ method: 'GET', url, headers });

function assertServedHeaders(res: LightMyRequestResponse, contentType: string) {
  assert.equal(res.headers['content-type'], contentType);
  assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(res.headers['accept-ranges'], 'bytes');
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  assert.match(String(res.headers['content-security-policy']), /default-src 'none'/);
  assert.match(String(res.headers.etag), /^"[0-9a-f]+-[0-9a-f]+"$/);
  assert.ok(!Number.isNaN(Date.parse(String(res.headers['last-modified']))));
}

describe('serving local media', () => {
  test('GET answers the file with its type, length and caching headers', async () => {
    const res = await get(`/system/${KEY}`);
    assert.equal(res.statusCode, 200);
    assertServedHeaders(res, 'image/png');
    assert.equal(res.headers['content-length'], String(BYTES.length));
    assert.ok(res.rawPayload.equals(BYTES));
    // The URL the storage gives for a key is the one served.
    assert.equal(new URL(api.ctx.storage.url(KEY)).pathname, `/system/${KEY}`);
  });

  test('HEAD answers the same headers and no body', async () => {
    const res = await api.inject({ method: 'HEAD', url: `/system/${KEY}` });
    assert.equal(res.statusCode, 200);
    assertServedHeaders(res, 'image/png');
    assert.equal(res.headers['content-length'], String(BYTES.length));
    assert.equal(res.rawPayload.length, 0);
  });

  test('the type follows the extension; names are percent-decoded', async () => {
    const cases: [string, string][] = [
      ['accounts/avatars/000/000/001/original/a.jpg', 'image/jpeg'],
      ['cache/media_attachments/files/1/original/b.mp4', 'video/mp4'],
      ['media_attachments/files/1/original/c.mp3', 'audio/mpeg'],
      ['media_attachments/files/1/original/d.webp', 'image/webp'],
      ['media_attachments/files/1/original/no-extension', 'application/octet-stream'],
      ['media_attachments/files/1/original/with space.gif', 'image/gif'],
    ];
    for (const [key, type] of cases) {
      await api.ctx.storage.put(key, Buffer.from(key), { contentType: type });
      const res = await get(new URL(api.ctx.storage.url(key)).pathname);
      assert.equal(res.statusCode, 200, key);
      assert.equal(res.headers['content-type'], type, key);
      assert.equal(res.body, key);
    }
  });

  test('a validator the client holds gives 304 without a body', async () => {
    const first = await get(`/system/${KEY}`);
    const etag = String(first.headers.etag);
    const lastModified = String(first.headers['last-modified']);
    const fresh: Record<string, string>[] = [
      { 'if-none-match': etag },
      { 'if-none-match': `W/${etag}` },
      { 'if-none-match': `"other", ${etag}` },
      { 'if-none-match': '*' },
      { 'if-modified-since': lastModified },
      { 'if-modified-since': new Date(Date.now() + 86_400_000).toUTCString() },
    ];
    for (const headers of fresh) {
      const res = await get(`/system/${KEY}`, headers);
      assert.equal(res.statusCode, 304, JSON.stringify(headers));
      assert.equal(res.rawPayload.length, 0);
      assert.equal(res.headers.etag, etag);
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
    }
    const stale: Record<string, string>[] = [
      { 'if-none-match': '"other"' },
      // If-None-Match decides when both are sent.
      { 'if-none-match': '"other"', 'if-modified-since': lastModified },
      { 'if-modified-since': new Date(Date.parse(lastModified) - 1000).toUTCString() },
      { 'if-modified-since': 'not a date' },
    ];
    for (const headers of stale) {
      const res = await get(`/system/${KEY}`, headers);
      assert.equal(res.statusCode, 200, JSON.stringify(headers));
      assert.ok(res.rawPayload.equals(BYTES));
    }
  });

  test('a single byte range is answered 206 with its Content-Range', async () => {
    const cases: [string, number, number][] = [
      ['bytes=0-9', 0, 9],
      ['bytes=990-', 990, 999],
      ['bytes=-5', 995, 999],
      ['bytes=500-100000', 500, 999],
      ['bytes=-5000', 0, 999],
      ['BYTES = 10 - 10', 10, 10],
    ];
    for (const [range, start, end] of cases) {
      const res = await get(`/system/${KEY}`, { range });
      assert.equal(res.statusCode, 206, range);
      assert.equal(res.headers['content-range'], `bytes ${start}-${end}/1000`, range);
      assert.equal(res.headers['content-length'], String(end - start + 1), range);
      assert.equal(res.headers['content-type'], 'image/png');
      assert.ok(res.rawPayload.equals(BYTES.subarray(start, end + 1)), range);
    }
    const head = await api.inject({ method: 'HEAD', url: `/system/${KEY}`, headers: { range: 'bytes=0-9' } });
    assert.equal(head.statusCode, 206);
    assert.equal(head.headers['content-length'], '10');
    assert.equal(head.rawPayload.length, 0);
  });

  test('a range past the end is 416; other ranges are answered in full', async () => {
    for (const range of ['bytes=1000-', 'bytes=5000-6000', 'bytes=-0']) {
      const res = await get(`/system/${KEY}`, { range });
      assert.equal(res.statusCode, 416, range);
      assert.equal(res.headers['content-range'], 'bytes */1000', range);
    }
    for (const range of ['bytes=0-1,5-6', 'bytes=9-2', 'items=0-1', 'bytes=abc', 'bytes=-']) {
      const res = await get(`/system/${KEY}`, { range });
      assert.equal(res.statusCode, 200, range);
      assert.ok(res.rawPayload.equals(BYTES), range);
    }
  });

  test('If-Range applies the range only to the same file', async () => {
    const first = await get(`/system/${KEY}`);
    const etag = String(first.headers.etag);
    const lastModified = String(first.headers['last-modified']);
    for (const ifRange of [etag, lastModified]) {
      const res = await get(`/system/${KEY}`, { range: 'bytes=0-1', 'if-range': ifRange });
      assert.equal(res.statusCode, 206, ifRange);
    }
    for (const ifRange of ['"stale"', `W/${etag}`, 'Thu, 01 Jan 1970 00:00:00 GMT']) {
      const res = await get(`/system/${KEY}`, { range: 'bytes=0-1', 'if-range': ifRange });
      assert.equal(res.statusCode, 200, ifRange);
      assert.ok(res.rawPayload.equals(BYTES));
    }
  });

  test('an empty file is served empty, and no range of it exists', async () => {
    const key = 'media_attachments/files/1/original/empty.png';
    await api.ctx.storage.put(key, Buffer.alloc(0), { contentType: 'image/png' });
    const res = await get(`/system/${key}`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-length'], '0');
    assert.equal((await get(`/system/${key}`, { range: 'bytes=0-' })).statusCode, 416);
  });

  test('missing files, directories, hidden files and escapes are 404', async () => {
    const { root } = api.ctx.config.storage as Extract<StorageConfig, { kind: 'local' }>;
    // A file beside the media root, which no URL may reach.
    await writeFile(join(dirname(root), 'secret.txt'), 'secret');
    const temp = join(root, 'media_attachments/files/110/000/000/001/original/.tmp-0011223344556677');
    await mkdir(dirname(temp), { recursive: true });
    await writeFile(temp, 'half written');
    for (const url of [
      '/system/media_attachments/files/110/000/000/001/original/missing.png',
      '/system/media_attachments',
      '/system/media_attachments/',
      '/system/media_attachments/files/110/000/000/001/original/',
      '/system/',
      '/system',
      '/system/media_attachments/files/110/000/000/001/original/.tmp-0011223344556677',
      '/system/..%2fsecret.txt',
      '/system/%2e%2e/secret.txt',
      '/system/a/%2e%2e/%2e%2e/secret.txt',
      '/system/media_attachments//files',
      '/system/%00.png',
      `/system/${KEY.replaceAll('/', '%5c')}`,
    ]) {
      const res = await get(url);
      assert.equal(res.statusCode, 404, url);
      assert.doesNotMatch(res.body, /secret|half written/, url);
    }
    const post = await api.inject({ method: 'POST', url: `/system/${KEY}` });
    assert.equal(post.statusCode, 404);
  });

  test('a large file streams over a real connection, whole and in part', async () => {
    const key = 'media_attachments/files/1/original/large.mp4';
    const data = randomBytes(3 * 1024 * 1024 + 7);
    await api.ctx.storage.put(key, data, { contentType: 'video/mp4' });
    const app = await buildTestServer(api.ctx);
    try {
      const { http } = await listen(app);
      const whole = await fetch(`${http}/system/${key}`);
      assert.equal(whole.status, 200);
      assert.ok(Buffer.from(await whole.arrayBuffer()).equals(data));
      const part = await fetch(`${http}/system/${key}`, { headers: { range: 'bytes=1048576-2097151' } });
      assert.equal(part.status, 206);
      assert.ok(Buffer.from(await part.arrayBuffer()).equals(data.subarray(1048576, 2097152)));
      // A client that goes away mid-file leaves the server serving.
      await new Promise<void>((resolve, reject) => {
        const request = httpGet(`${http}/system/${key}`, (response) => {
          response.once('data', () => {
            request.destroy();
            resolve();
          });
        });
        request.on('error', (error) => {
          if (!request.destroyed) reject(error);
        });
      });
      assert.equal((await fetch(`${http}/system/${KEY}`)).status, 200);
    } finally {
      await app.close();
    }
  });

  test('the route follows PAPERCLIP_ROOT_URL', async () => {
    const config = api.ctx.config;
    const storageConfig = {
      ...(config.storage as Extract<StorageConfig, { kind: 'local' }>),
      urlPath: '/files',
    };
    const app = await buildTestServer({ ...api.ctx, config: { ...config, storage: storageConfig } });
    try {
      const res = await app.inject({ method: 'GET', url: `/files/${KEY}` });
      assert.equal(res.statusCode, 200);
      assert.ok(res.rawPayload.equals(BYTES));
      assert.equal((await app.inject({ method: 'GET', url: `/system/${KEY}` })).statusCode, 404);
    } finally {
      await app.close();
    }
  });

  test('with S3 storage the web role serves no files', async () => {
    const s3: Extract<StorageConfig, { kind: 's3' }> = {
      kind: 's3',
      bucket: 'media',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      hostname: undefined,
      protocol: 'https',
      aliasHost: undefined,
      pathStyle: true,
      keyPrefix: '',
      permission: undefined,
      accessKeyId: undefined,
      secretAccessKey: undefined,
    };
    const storage = new S3Storage(s3);
    const routes: string[] = [];
    const app = await buildTestServer(
      { ...api.ctx, storage, config: { ...api.ctx.config, storage: s3 } },
      { onRoute: (route) => routes.push(route.url) },
    );
    try {
      assert.ok(routes.length > 10, 'the other routes are there');
      assert.deepEqual(
        routes.filter((url) => url.startsWith('/system')),
        [],
      );
      assert.equal((await app.inject({ method: 'GET', url: `/system/${KEY}` })).statusCode, 404);
    } finally {
      await app.close();
      await storage.close();
    }
  });
});

describe('parseRange', () => {
  test('reads one range and refuses or ignores the rest', () => {
    assert.deepEqual(parseRange('bytes=0-0', 1), { start: 0, end: 0 });
    assert.deepEqual(parseRange('bytes=0-', 0), 'unsatisfiable');
    assert.deepEqual(parseRange('bytes=-1', 0), 'unsatisfiable');
    assert.deepEqual(parseRange('bytes=99999999999999999999-', 10), 'unsatisfiable');
    assert.deepEqual(parseRange('bytes=0-99999999999999999999', 10), { start: 0, end: 9 });
    assert.equal(parseRange('bytes=1-2, 4-5', 10), null);
    assert.equal(parseRange('bytes=1.5-2', 10), null);
    assert.equal(parseRange('', 10), null);
  });
});
