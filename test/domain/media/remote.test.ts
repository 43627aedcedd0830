import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { newId } from '../../../src/db/ids.ts';
import { accounts, mediaAttachments } from '../../../src/db/schema/index.ts';
import {
  cacheRemoteAttachment,
  cacheRemoteProfileImages,
  proxiedMediaKey,
  refreshRemoteMedia,
} from '../../../src/domain/media/remote.ts';
import { downloadToFile, isForbiddenAddress, SafeFetchError } from '../../../src/infra/http/safe-fetch.ts';
import { createTestContext, type TestContext } from '../../support/context.ts';
import { testPng } from '../../support/media.ts';

// The remote media cache, fed by a local HTTP server standing in for a remote instance. Loopback
// is allowed for this context only (ALLOWED_PRIVATE_ADDRESSES), as an operator could.
let ctx: TestContext;
let server: Server;
let origin: string;
let hits = 0;
let png: Buffer;

before(async () => {
  png = await testPng(120, 90);
  server = createServer((req, res) => {
    hits++;
    if (req.url === '/photo.png' || req.url === '/avatar.png') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
      res.end(png);
    } else if (req.url === '/redirect') {
      res.writeHead(302, { location: '/photo.png' });
      res.end();
    } else if (req.url === '/garbage.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(Buffer.alloc(4096, 3));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  ctx = await createTestContext({ env: { ALLOWED_PRIVATE_ADDRESSES: '127.0.0.1' } });
});
after(async () => {
  await ctx.close();
  await new Promise((resolve) => server.close(resolve));
});

async function remoteAccount(extra: Partial<typeof accounts.$inferInsert> = {}): Promise<string> {
  const id = newId();
  await ctx.database.db.insert(accounts).values({
    id,
    username: `remote${id.slice(-6)}`,
    domain: 'remote.example',
    uri: `https://remote.example/users/${id}`,
    ...extra,
  });
  return id;
}

async function remoteMedia(accountId: string, url: string): Promise<string> {
  const id = newId();
  await ctx.database.db.insert(mediaAttachments).values({
    id,
    accountId,
    type: 'image',
    remoteUrl: url,
    description: 'from afar',
    fileMeta: { focus: { x: 0.1, y: 0.2 } },
  });
  return id;
}

test('a remote attachment is fetched into the cache, processed like an upload, once', async () => {
  const id = await remoteMedia(await remoteAccount(), `${origin}/redirect`);
  const row = await cacheRemoteAttachment(ctx, id);
  assert.ok(row);
  assert.ok(row.fileKey?.startsWith('cache/media_attachments/files/'), row.fileKey ?? 'no key');
  assert.ok(row?.smallKey);
  assert.equal(row?.remoteUrl, `${origin}/redirect`);
  assert.deepEqual((row.fileMeta as { focus: unknown }).focus, { x: 0.1, y: 0.2 });
  assert.equal((row.fileMeta as { original: { width: number } }).original.width, 120);
  assert.ok(await ctx.storage.exists(row?.fileKey as string));
  const before = hits;
  await cacheRemoteAttachment(ctx, id);
  assert.equal(hits, before, 'a cached file is not fetched again');
});

test('the media proxy fetches on first use and names the cached file', async () => {
  const id = await remoteMedia(await remoteAccount(), `${origin}/photo.png`);
  const key = await proxiedMediaKey(ctx, id, 'original');
  assert.ok(key?.startsWith('cache/'));
  const small = await proxiedMediaKey(ctx, id, 'small');
  assert.ok(small?.includes('/small/'));
  assert.equal(await proxiedMediaKey(ctx, newId(), 'original'), undefined);
});

test('a missing or unreadable remote file leaves the attachment uncached, without throwing', async () => {
  for (const path of ['/nothing.png', '/garbage.png']) {
    const id = await remoteMedia(await remoteAccount(), `${origin}${path}`);
    const row = await cacheRemoteAttachment(ctx, id);
    assert.equal(row?.fileKey, null, path);
  }
});

test('a remote avatar and header are cached, cropped as local ones', async () => {
  const id = await remoteAccount({
    avatarRemoteUrl: `${origin}/avatar.png`,
    headerRemoteUrl: `${origin}/photo.png`,
  });
  await cacheRemoteProfileImages(ctx, id);
  const [account] = await ctx.database.db.select().from(accounts).where(eq(accounts.id, id));
  assert.ok(account?.avatarKey?.startsWith('cache/accounts/avatars/'));
  assert.ok(account?.headerKey?.startsWith('cache/accounts/headers/'));
});

test('outbound fetches refuse internal addresses unless the operator allows them', async () => {
  for (const address of [
    '127.0.0.1',
    '10.1.2.3',
    '192.168.0.1',
    '169.254.169.254',
    '::1',
    'fd00::1',
    '::ffff:127.0.0.1',
  ])
    assert.equal(isForbiddenAddress(address), true, address);
  for (const address of ['93.184.216.34', '2606:4700::1111'])
    assert.equal(isForbiddenAddress(address), false, address);
  assert.equal(isForbiddenAddress('127.0.0.1', ['127.0.0.0/8']), false);
  const options = { maxBytes: 1_000_000, timeoutMs: 5000, allowedPrivateAddresses: [], userAgent: 'test' };
  await assert.rejects(downloadToFile(`${origin}/photo.png`, '/tmp/never', options), (error: unknown) => {
    assert.ok(error instanceof SafeFetchError);
    assert.equal(error.permanent, true);
    return true;
  });
  // A name that resolves to loopback is refused as well (checked on the address used).
  await assert.rejects(
    downloadToFile(`http://localhost:${new URL(origin).port}/photo.png`, '/tmp/never', options),
    SafeFetchError,
  );
  // And a body over the cap is cut off.
  await assert.rejects(
    downloadToFile(`${origin}/photo.png`, '/tmp/woolly-too-big', {
      ...options,
      maxBytes: 100,
      allowedPrivateAddresses: ['127.0.0.1'],
    }),
    /larger than 100 bytes/,
  );
});

test('media refresh fetches what is not cached, or everything with force; a dry run changes nothing', async () => {
  const account = await remoteAccount();
  const first = await remoteMedia(account, `${origin}/photo.png`);
  const broken = await remoteMedia(account, `${origin}/nothing.png`);
  const dry = await refreshRemoteMedia(ctx, { accountId: account }, { dryRun: true });
  assert.deepEqual(dry, { considered: 2, fetched: 2, failed: 0 });
  const [untouched] = await ctx.database.db
    .select()
    .from(mediaAttachments)
    .where(eq(mediaAttachments.id, first));
  assert.equal(untouched?.fileKey, null);

  const progress: number[] = [];
  const done = await refreshRemoteMedia(ctx, { accountId: account }, { onProgress: (n) => progress.push(n) });
  assert.deepEqual(done, { considered: 2, fetched: 1, failed: 1 });
  assert.deepEqual(progress, [1, 2]);
  const [cached] = await ctx.database.db
    .select()
    .from(mediaAttachments)
    .where(eq(mediaAttachments.id, first));
  assert.ok(cached?.fileKey);
  // Without force, what is cached is left alone; with it, it is fetched again under a new key.
  assert.equal((await refreshRemoteMedia(ctx, { accountId: account })).considered, 1);
  const forced = await refreshRemoteMedia(ctx, { accountId: account }, { force: true });
  assert.equal(forced.fetched, 1);
  const [again] = await ctx.database.db.select().from(mediaAttachments).where(eq(mediaAttachments.id, first));
  assert.notEqual(again?.fileKey, cached?.fileKey);
  assert.equal(await ctx.storage.exists(cached?.fileKey as string), false);
  assert.ok(broken);
});
