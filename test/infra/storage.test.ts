import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type EventEmitter, once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import type { StorageConfig } from '../../src/config/config.ts';
import { createStorage, InvalidStorageKeyError, type Storage } from '../../src/infra/storage/index.ts';
import { S3Storage } from '../../src/infra/storage/s3.ts';

const BUCKET = 'woolly-test';

interface Harness {
  storage: Storage;
  /** The URL the implementation must give for `key`. */
  expectedUrl(key: string): string;
  /** Fetches a public URL and returns the body, when the backend serves one in the test. */
  fetchPublic?: (url: string) => Promise<Buffer>;
  /** Files the backend left on disk outside its data (temp files), when it has a directory. */
  strayFiles?: () => Promise<string[]>;
  cleanup(): Promise<void>;
}

let keyCounter = 0;
const uniqueKey = (name: string) =>
  `media_attachments/files/110/${String(++keyCounter).padStart(3, '0')}/${randomBytes(3).toString('hex')}/original/${name}`;

const BAD_KEYS = [
  '',
  '../escape.txt',
  'media/../../escape.txt',
  'media/..',
  '/etc/passwd',
  '//server/share/x',
  'media\\..\\..\\escape.txt',
  'media/a\0b.png',
  'media//double.png',
  './media/x.png',
  'media/./x.png',
  'C:/Windows/x.png',
  'media/line\nbreak.png',
];

function chunks(data: Buffer, size: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
    })(),
  );
}

/** An s3rver in a child process with OpenSSL's legacy provider (see the paging test). */
async function startLegacyS3rver(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'woolly-s3rver-'));
  const script = `
    const S3rver = require('s3rver');
    const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.argv[1],
      configureBuckets: [{ name: '${BUCKET}', configs: [] }] });
    server.run().then((address) => process.stdout.write(address.port + '\\n'));
    process.stdin.on('end', () => server.close().then(() => process.exit(0)));
    process.stdin.resume();`;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', script, dir], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const [line] = (await Promise.race([
    once(child.stdout, 'data'),
    exited.then(() => {
      throw new Error('the s3rver child exited before listening');
    }),
  ])) as [Buffer];
  return {
    endpoint: `http://127.0.0.1:${Number(line.toString().trim())}`,
    async stop() {
      child.stdin.end();
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

async function keysOf(items: AsyncIterable<{ key: string }>): Promise<string[]> {
  return (await collect(items)).map((o) => o.key);
}

function contract(name: string, make: () => Promise<Harness>) {
  describe(name, () => {
    let h: Harness;
    let storage: Storage;
    before(async () => {
      h = await make();
      storage = h.storage;
    });
    after(async () => {
      await storage.close();
      await h.cleanup();
    });

    test('a buffer round trip keeps bytes, type and size', async () => {
      const key = uniqueKey('avatar.png');
      const data = randomBytes(4096);
      assert.equal(await storage.exists(key), false);
      await storage.put(key, data, {
        contentType: 'image/png',
        cacheControl: 'public, max-age=315576000, immutable',
      });
      assert.equal(await storage.exists(key), true);
      const got = await storage.get(key);
      assert.ok(got, 'stored object is found');
      assert.equal(got.contentType, 'image/png');
      assert.equal(got.size, data.length);
      assert.deepEqual(await buffer(got.body), data);
    });

    test('a stream round trip, larger than one S3 part', async () => {
      const key = uniqueKey('video.mp4');
      const data = randomBytes(6 * 1024 * 1024 + 123);
      await storage.put(key, chunks(data, 64 * 1024), { contentType: 'video/mp4' });
      const got = await storage.get(key);
      assert.ok(got);
      assert.equal(got.contentType, 'video/mp4');
      assert.equal(got.size, data.length);
      assert.ok((await buffer(got.body)).equals(data), 'bytes differ');
    });

    test('put replaces an existing object', async () => {
      const key = uniqueKey('header.jpg');
      await storage.put(key, Buffer.from('old'), { contentType: 'image/jpeg' });
      await storage.put(key, Buffer.from('new contents'), { contentType: 'image/jpeg' });
      const got = await storage.get(key);
      assert.ok(got);
      assert.equal((await buffer(got.body)).toString(), 'new contents');
    });

    test('a failing stream leaves the previous object in place', async () => {
      const key = uniqueKey('partial.webp');
      await storage.put(key, Buffer.from('complete'), { contentType: 'image/webp' });
      const failing = Readable.from(
        (async function* () {
          yield Buffer.from('half of the new ');
          throw new Error('upload interrupted');
        })(),
      );
      await assert.rejects(storage.put(key, failing, { contentType: 'image/webp' }), /upload interrupted/);
      const got = await storage.get(key);
      assert.ok(got);
      assert.equal((await buffer(got.body)).toString(), 'complete');
      if (h.strayFiles) assert.deepEqual(await h.strayFiles(), []);
    });

    test('get and exists report a missing object', async () => {
      const key = uniqueKey('missing.png');
      assert.equal(await storage.get(key), null);
      assert.equal(await storage.exists(key), false);
    });

    test('delete removes several objects and ignores missing ones', async () => {
      const a = uniqueKey('a.png');
      const b = uniqueKey('b.png');
      const kept = uniqueKey('kept.png');
      for (const key of [a, b, kept]) await storage.put(key, Buffer.from(key), { contentType: 'image/png' });
      await storage.delete([a, b, uniqueKey('never-stored.png')]);
      await storage.delete([]);
      assert.equal(await storage.exists(a), false);
      assert.equal(await storage.exists(b), false);
      assert.equal(await storage.get(a), null);
      assert.equal(await storage.exists(kept), true);
    });

    test('refuses keys that are not plain relative paths', async () => {
      for (const key of BAD_KEYS) {
        const label = JSON.stringify(key);
        await assert.rejects(
          storage.put(key, Buffer.from('x'), { contentType: 'text/plain' }),
          InvalidStorageKeyError,
          label,
        );
        await assert.rejects(storage.get(key), InvalidStorageKeyError, label);
        await assert.rejects(storage.exists(key), InvalidStorageKeyError, label);
        await assert.rejects(storage.delete([uniqueKey('fine.png'), key]), InvalidStorageKeyError, label);
        assert.throws(() => storage.url(key), InvalidStorageKeyError, label);
      }
    });

    test('list gives the keys under a prefix, with sizes and dates', async () => {
      const base = `listing/${randomBytes(4).toString('hex')}`;
      const started = Date.now();
      const stored: Record<string, number> = {
        [`${base}/a/one.png`]: 1,
        [`${base}/a/deep/er/two.mp4`]: 20,
        [`${base}/ab.png`]: 300,
        [`${base}/b/three.jpg`]: 4000,
      };
      for (const [key, size] of Object.entries(stored)) {
        await storage.put(key, randomBytes(size), { contentType: 'application/octet-stream' });
      }
      const all = await collect(storage.list(`${base}/`));
      assert.deepEqual(
        all.map((o) => [o.key, o.size]).sort(),
        Object.entries(stored).sort(),
        'every object under the prefix, with its size',
      );
      for (const object of all) {
        assert.ok(object.lastModified instanceof Date);
        // Second-granular on S3: a generous window, this is about the value, not speed.
        assert.ok(Math.abs(object.lastModified.getTime() - started) < 10 * 60_000, object.key);
      }
      assert.deepEqual((await keysOf(storage.list(`${base}/a/`))).sort(), [
        `${base}/a/deep/er/two.mp4`,
        `${base}/a/one.png`,
      ]);
      // A plain string prefix, as S3's: `a` matches the directory `a/` and the file `ab.png`.
      assert.deepEqual((await keysOf(storage.list(`${base}/a`))).sort(), [
        `${base}/a/deep/er/two.mp4`,
        `${base}/a/one.png`,
        `${base}/ab.png`,
      ]);
      assert.deepEqual(await keysOf(storage.list(`${base}/b/three`)), [`${base}/b/three.jpg`]);
      assert.deepEqual(await keysOf(storage.list(`${base}/nothing/`)), []);
      assert.deepEqual(await keysOf(storage.list(`${base}/a/one.png/`)), [], 'a file is not a directory');
      const everything = await keysOf(storage.list(''));
      for (const key of Object.keys(stored)) assert.ok(everything.includes(key), `'' lists ${key}`);
      await storage.delete([`${base}/a/one.png`]);
      assert.deepEqual(await keysOf(storage.list(`${base}/a/`)), [`${base}/a/deep/er/two.mp4`]);
    });

    test('list refuses prefixes that are not the start of a key', async () => {
      for (const prefix of ['../', '/etc', 'media/../', 'media//', 'a\\b', 'C:/x', 'x\0y', './a']) {
        await assert.rejects(collect(storage.list(prefix)), InvalidStorageKeyError, JSON.stringify(prefix));
      }
    });

    test('url gives the public address of the object', async () => {
      const key = uniqueKey('original.png');
      assert.equal(storage.url(key), h.expectedUrl(key));
      if (h.fetchPublic) {
        const data = randomBytes(512);
        await storage.put(key, data, { contentType: 'image/png' });
        assert.deepEqual(await h.fetchPublic(storage.url(key)), data);
      }
    });
  });
}

contract('local storage', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'woolly-storage-'));
  const root = join(parent, 'media');
  const storage = await createStorage(
    { kind: 'local', root, urlPath: '/system', cdnHost: undefined },
    'https://example.test',
  );
  return {
    storage,
    expectedUrl: (key) => `https://example.test/system/${key}`,
    strayFiles: async () => {
      const all = await readdir(root, { recursive: true });
      return all.filter((f) => f.split('/').pop()?.startsWith('.tmp-'));
    },
    cleanup: async () => {
      // Nothing may have been written beside the root by the traversal attempts.
      assert.deepEqual(await readdir(parent), ['media']);
      await rm(parent, { recursive: true, force: true });
    },
  };
});

describe('local storage specifics', () => {
  let parent: string;
  before(async () => {
    parent = await mkdtemp(join(tmpdir(), 'woolly-storage-'));
  });
  after(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  test('a CDN host replaces the base URL', async () => {
    const storage = await createStorage(
      { kind: 'local', root: join(parent, 'cdn'), urlPath: '/system', cdnHost: 'https://cdn.example.test' },
      'https://example.test',
    );
    assert.equal(
      storage.url('accounts/avatars/1/original/a b.png'),
      'https://cdn.example.test/system/accounts/avatars/1/original/a%20b.png',
    );
  });

  test('list skips temporary files, symbolic links and names no key could have', async () => {
    const root = join(parent, 'walk');
    const storage = await createStorage(
      { kind: 'local', root, urlPath: '/system', cdnHost: undefined },
      'https://x.test',
    );
    await storage.put('accounts/avatars/1/original/a.png', Buffer.from('avatar'), {
      contentType: 'image/png',
    });
    const dir = join(root, 'accounts', 'avatars', '1', 'original');
    await writeFile(join(dir, '.tmp-0123456789abcdef'), 'half written');
    await writeFile(join(dir, 'back\\slash.png'), 'not a key');
    const outside = join(parent, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'secret.txt'), 'not ours');
    await symlink(outside, join(root, 'accounts', 'linked-dir'));
    await symlink(join(outside, 'secret.txt'), join(dir, 'linked.png'));
    assert.deepEqual(await keysOf(storage.list('')), ['accounts/avatars/1/original/a.png']);
    assert.deepEqual(await keysOf(storage.list('accounts/linked-dir/')), []);
  });

  test('list of a missing root is empty', async () => {
    const storage = await createStorage(
      { kind: 'local', root: join(parent, 'never-made'), urlPath: '/system', cdnHost: undefined },
      'https://x.test',
    );
    assert.deepEqual(await keysOf(storage.list('')), []);
    assert.deepEqual(await keysOf(storage.list('media_attachments/')), []);
  });

  test('delete prunes directories it left empty, but not the root or non-empty ones', async () => {
    const root = join(parent, 'prune');
    const storage = await createStorage(
      { kind: 'local', root, urlPath: '/system', cdnHost: undefined },
      'https://x.test',
    );
    await storage.put('a/b/c/one.png', Buffer.from('1'), { contentType: 'image/png' });
    await storage.put('a/keep.png', Buffer.from('2'), { contentType: 'image/png' });
    await storage.delete(['a/b/c/one.png']);
    assert.equal(existsSync(join(root, 'a', 'b')), false);
    assert.equal(existsSync(join(root, 'a', 'keep.png')), true);
    await storage.delete(['a/keep.png']);
    assert.equal(existsSync(root), true);
    assert.deepEqual(await readdir(root), []);
  });
});

describe('s3 storage', () => {
  let server: S3rver;
  let dir: string;
  let endpoint: string;
  let config: Extract<StorageConfig, { kind: 's3' }>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'woolly-s3rver-'));
    server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: dir,
      configureBuckets: [{ name: BUCKET, configs: [] }],
    });
    const address = (await server.run()) as AddressInfo;
    endpoint = `http://127.0.0.1:${address.port}`;
    config = {
      kind: 's3',
      bucket: BUCKET,
      region: 'us-east-1',
      endpoint,
      hostname: undefined,
      protocol: 'http',
      aliasHost: undefined,
      pathStyle: true,
      keyPrefix: '',
      permission: 'public-read',
      accessKeyId: 'S3RVER', // s3rver checks signatures against this fixed pair
      secretAccessKey: 'S3RVER',
    };
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  contract('contract', async () => ({
    storage: await createStorage(config, 'https://example.test'),
    expectedUrl: (key) => `${endpoint}/${BUCKET}/${key}`,
    fetchPublic: async (url) => {
      const res = await fetch(url);
      assert.equal(res.status, 200);
      return Buffer.from(await res.arrayBuffer());
    },
    cleanup: async () => {},
  }));

  test('stores cache-control and honours the key prefix', async () => {
    const storage = await createStorage({ ...config, keyPrefix: '/tenant-a/' }, 'https://example.test');
    const raw = new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    try {
      const key = uniqueKey('prefixed.png');
      await storage.put(key, Buffer.from('p'), {
        contentType: 'image/png',
        cacheControl: 'public, max-age=60',
      });
      const head = await raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `tenant-a/${key}` }));
      assert.equal(head.CacheControl, 'public, max-age=60');
      assert.equal(head.ContentType, 'image/png');
      assert.equal(storage.url(key), `${endpoint}/${BUCKET}/tenant-a/${key}`);
      assert.equal(await storage.exists(key), true);
      await storage.delete([key]);
      assert.equal(await storage.exists(key), false);
    } finally {
      raw.destroy();
      await storage.close();
    }
  });

  test('list pages through the bucket and stays inside the key prefix', async () => {
    // s3rver makes its continuation tokens with DES, which OpenSSL 3 only has in its legacy
    // provider: this test's server runs in a child process that loads it.
    const paging = await startLegacyS3rver();
    const base = `paged/${randomBytes(4).toString('hex')}`;
    const raw = new S3Client({
      region: 'us-east-1',
      endpoint: paging.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const tenant = new S3Storage(
      { ...config, endpoint: paging.endpoint, keyPrefix: 'tenant-b' },
      { listPageSize: 2 },
    );
    try {
      const keys = ['1.png', '2.png', '3.png', '4.png', '5.png'].map((name) => `${base}/${name}`);
      for (const key of keys) await tenant.put(key, Buffer.from(key), { contentType: 'image/png' });
      // Objects beside the tenant's prefix, and a "folder" placeholder, are not the tenant's keys.
      await raw.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: `${base}/9.png`, Body: Buffer.from('other') }),
      );
      await raw.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: `tenant-bb/${base}/9.png`, Body: Buffer.from('other') }),
      );
      await raw.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: `tenant-b/${base}-dir/`, Body: Buffer.alloc(0) }),
      );
      const listed = await collect(tenant.list(`${base}/`));
      assert.deepEqual(listed.map((o) => o.key).sort(), keys);
      assert.deepEqual(
        listed.map((o) => o.size),
        keys.map((k) => k.length),
      );
      assert.deepEqual((await keysOf(tenant.list(''))).sort(), keys);
    } finally {
      raw.destroy();
      await tenant.close();
      await paging.stop();
    }
  });

  test('a stream of unknown length goes up as a multipart upload', async () => {
    const storage = await createStorage(config, 'https://example.test');
    const events: { name: string; key: string }[] = [];
    const onEvent = (event: { Records: { eventName: string; s3: { object: { key: string } } }[] }) => {
      for (const record of event.Records) events.push({ name: record.eventName, key: record.s3.object.key });
    };
    (server as unknown as EventEmitter).on('event', onEvent);
    try {
      const large = uniqueKey('large.mp4');
      const small = uniqueKey('small.png');
      await storage.put(large, chunks(randomBytes(5 * 1024 * 1024 + 1), 64 * 1024), {
        contentType: 'video/mp4',
      });
      await storage.put(small, Buffer.from('small'), { contentType: 'image/png' });
      // s3rver announces a completed multipart upload as a POST, a PutObject as a PUT.
      assert.deepEqual(
        events.filter((e) => e.key === large).map((e) => e.name),
        ['ObjectCreated:Post'],
      );
      assert.deepEqual(
        events.filter((e) => e.key === small).map((e) => e.name),
        ['ObjectCreated:Put'],
      );
      assert.equal((await storage.get(large))?.size, 5 * 1024 * 1024 + 1);
    } finally {
      (server as unknown as EventEmitter).off('event', onEvent);
      await storage.close();
    }
  });

  test('public URLs follow alias host, endpoint, hostname, then AWS', async () => {
    const key = 'media_attachments/files/1/original/x y.png';
    const enc = 'media_attachments/files/1/original/x%20y.png';
    const base = { ...config, endpoint: undefined, protocol: 'https' as const };
    const cases: [Partial<typeof config>, string][] = [
      [{ aliasHost: 'files.example.test' }, `https://files.example.test/${enc}`],
      [{ aliasHost: 'files.example.test', keyPrefix: 'pre' }, `https://files.example.test/pre/${enc}`],
      [{ endpoint: 'https://minio.example.test/' }, `https://minio.example.test/${BUCKET}/${enc}`],
      [{ hostname: 's3.example.test' }, `https://s3.example.test/${BUCKET}/${enc}`],
      [{ region: 'eu-west-3', pathStyle: false }, `https://${BUCKET}.s3.eu-west-3.amazonaws.com/${enc}`],
      [{ region: 'eu-west-3', pathStyle: true }, `https://s3.eu-west-3.amazonaws.com/${BUCKET}/${enc}`],
    ];
    for (const [override, expected] of cases) {
      const storage = await createStorage({ ...base, ...override }, 'https://example.test');
      assert.equal(storage.url(key), expected, JSON.stringify(override));
      await storage.close();
    }
  });
});
