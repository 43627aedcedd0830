import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { eq, inArray } from 'drizzle-orm';
import { newId } from '../../../src/db/ids.ts';
import {
  accounts,
  bookmarks,
  favourites,
  mediaAttachments,
  scheduledStatuses,
} from '../../../src/db/schema/index.ts';
import { DomainError } from '../../../src/domain/errors.ts';
import {
  keyOfUrl,
  lookupMedia,
  mediaUsage,
  parseMediaKey,
  removeOrphans,
  removeRemoteMediaCache,
  removeUnattachedUploads,
} from '../../../src/domain/media/housekeeping.ts';
import { mediaKey } from '../../../src/domain/media/keys.ts';
import { createTestUser } from '../../support/accounts.ts';
import { createTestContext, type TestContext } from '../../support/context.ts';
import { follow } from '../../support/graph.ts';
import { insertStatus } from '../../support/statuses.ts';
import {
  daysAgo,
  existing,
  insertAttachment,
  insertRemoteAccount,
  storeProfileImages,
} from '../../support/stored-media.ts';

let ctx: TestContext;
let local: string;
let localUsername: string;

before(async () => {
  ctx = await createTestContext();
  const user = await createTestUser(ctx);
  local = user.account.id;
  localUsername = user.account.username;
});

after(async () => {
  await ctx?.close();
});

/** Empties the media tables and storage between tests that count everything. */
async function reset(): Promise<void> {
  await ctx.database.query('delete from media_attachments');
  await ctx.database.query(
    `update accounts set avatar_key = null, avatar_static_key = null, header_key = null, header_static_key = null`,
  );
  const keys: string[] = [];
  for await (const object of ctx.storage.list('')) keys.push(object.key);
  await ctx.storage.delete(keys);
}

async function row(id: string) {
  const [found] = await ctx.database.db.select().from(mediaAttachments).where(eq(mediaAttachments.id, id));
  return found;
}

async function rejectsWith(promise: Promise<unknown>, kind: DomainError['kind'], message: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof DomainError, String(error));
    assert.equal(error.kind, kind);
    assert.match(error.message, message);
    return true;
  });
}

describe('removeUnattachedUploads', () => {
  before(reset);

  test('deletes old local uploads never attached, with their files, and nothing else', async () => {
    const status = await insertStatus(ctx, { accountId: local });
    const [scheduled] = await ctx.database.db
      .insert(scheduledStatuses)
      .values({ id: newId(), accountId: local, scheduledAt: new Date(Date.now() + 3_600_000), params: {} })
      .returning({ id: scheduledStatuses.id });
    const remoteAuthor = await insertRemoteAccount(ctx);
    const old = daysAgo(2);
    const orphan = await insertAttachment(ctx, {
      accountId: local,
      createdAt: old,
      fileSize: 1000,
      thumbnailSize: 50,
    });
    const orphan2 = await insertAttachment(ctx, { accountId: local, createdAt: old, fileSize: 7 });
    const fresh = await insertAttachment(ctx, {
      accountId: local,
      createdAt: new Date(Date.now() - 3_600_000),
    });
    const attached = await insertAttachment(ctx, { accountId: local, statusId: status, createdAt: old });
    const planned = await insertAttachment(ctx, {
      accountId: local,
      scheduledStatusId: scheduled!.id,
      createdAt: old,
    });
    const remote = await insertAttachment(ctx, {
      accountId: remoteAuthor,
      remoteUrl: 'https://remote.example/file.png',
      createdAt: old,
    });
    const progress: [number, number | null][] = [];

    const dry = await removeUnattachedUploads(ctx, { olderThan: daysAgo(1), dryRun: true });
    assert.deepEqual(dry, { files: 5, bytes: 1000 + 50 + 7, records: 2 });
    assert.ok(await row(orphan.id), 'a dry run deletes no row');
    assert.deepEqual(await existing(ctx, orphan.keys), [true, true, true], 'nor any file');

    const counts = await removeUnattachedUploads(ctx, {
      olderThan: daysAgo(1),
      onProgress: (done, total) => progress.push([done, total]),
    });
    assert.deepEqual(counts, { files: 5, bytes: 1057, records: 2 });
    assert.deepEqual(progress.at(-1), [2, 2]);
    for (const gone of [orphan, orphan2]) {
      assert.equal(await row(gone.id), undefined);
      assert.deepEqual(
        await existing(ctx, gone.keys),
        gone.keys.map(() => false),
      );
    }
    for (const kept of [fresh, attached, planned, remote]) {
      assert.ok(await row(kept.id), kept.id);
      assert.deepEqual(
        await existing(ctx, kept.keys),
        kept.keys.map(() => true),
      );
    }
    assert.deepEqual(await removeUnattachedUploads(ctx, { olderThan: daysAgo(1) }), {
      files: 0,
      bytes: 0,
      records: 0,
    });
  });

  test('goes through more rows than one batch', async () => {
    await reset();
    const old = daysAgo(3);
    const ids = Array.from({ length: 1203 }, () => newId());
    await ctx.database.db.insert(mediaAttachments).values(
      ids.map((id) => ({
        id,
        accountId: local,
        type: 'image',
        fileKey: mediaKey('media_attachments/files', id, 'original', 'png'),
        fileSize: 2,
        createdAt: old,
      })),
    );
    const counts = await removeUnattachedUploads(ctx, { olderThan: daysAgo(1) });
    assert.deepEqual(counts, { files: 1203, bytes: 2406, records: 1203 });
    const left = await ctx.database.db
      .select()
      .from(mediaAttachments)
      .where(inArray(mediaAttachments.id, ids));
    assert.equal(left.length, 0);
  });

  test('refuses an invalid date', async () => {
    await rejectsWith(removeUnattachedUploads(ctx, { olderThan: new Date('nope') }), 'unprocessable', /date/);
  });
});

describe('removeRemoteMediaCache: attachments', () => {
  let author: string;
  before(async () => {
    await reset();
    author = await insertRemoteAccount(ctx);
  });

  const remoteFile = (input: {
    statusId?: string;
    createdAt?: Date;
    updatedAt?: Date;
    thumbnailSize?: number;
  }) =>
    insertAttachment(ctx, {
      accountId: author,
      remoteUrl: `https://remote.example/media/${randomBytes(4).toString('hex')}.png`,
      fileSize: 500,
      ...input,
    });

  test('drops the cached files of old remote attachments and keeps the rows', async () => {
    const old = daysAgo(10);
    const cached = await remoteFile({ createdAt: old, thumbnailSize: 20 });
    const recent = await remoteFile({ createdAt: daysAgo(2) });
    const refetched = await remoteFile({ createdAt: old, updatedAt: daysAgo(1) });
    const localUpload = await insertAttachment(ctx, { accountId: local, createdAt: old });

    const dry = await removeRemoteMediaCache(ctx, { olderThan: daysAgo(7), dryRun: true });
    assert.deepEqual(dry, { files: 3, bytes: 520, records: 1 });
    assert.equal((await row(cached.id))?.fileKey, cached.fileKey);

    const counts = await removeRemoteMediaCache(ctx, { olderThan: daysAgo(7) });
    assert.deepEqual(counts, { files: 3, bytes: 520, records: 1 });
    const cleared = await row(cached.id);
    assert.ok(cleared);
    assert.equal(cleared.fileKey, null);
    assert.equal(cleared.smallKey, null);
    assert.equal(cleared.thumbnailKey, null);
    assert.match(
      cleared.remoteUrl,
      /^https:\/\/remote\.example\//,
      'the remote URL stays: it can be fetched again',
    );
    assert.deepEqual(await existing(ctx, cached.keys), [false, false, false]);
    for (const kept of [recent, refetched, localUpload]) {
      assert.equal((await row(kept.id))?.fileKey, kept.fileKey);
      assert.deepEqual(await existing(ctx, kept.keys), [true, true]);
    }
    // Nothing cached is left to remove.
    assert.deepEqual(await removeRemoteMediaCache(ctx, { olderThan: daysAgo(7) }), {
      files: 0,
      bytes: 0,
      records: 0,
    });
  });

  test('keepInteracted keeps the files of statuses local accounts interacted with', async () => {
    const old = daysAgo(30);
    const remoteFan = await insertRemoteAccount(ctx);
    const status = async () => insertStatus(ctx, { accountId: author, local: false });
    const favourited = await status();
    const favouritedRemotely = await status();
    const bookmarked = await status();
    const repliedTo = await status();
    const boosted = await status();
    const untouched = await status();
    await ctx.database.db.insert(favourites).values([
      { id: newId(), accountId: local, statusId: favourited },
      { id: newId(), accountId: remoteFan, statusId: favouritedRemotely },
    ]);
    await ctx.database.db.insert(bookmarks).values({ id: newId(), accountId: local, statusId: bookmarked });
    await insertStatus(ctx, { accountId: local, inReplyToId: repliedTo, inReplyToAccountId: author });
    await insertStatus(ctx, { accountId: local, reblogOfId: boosted });
    // A remote reply and a remote boost are no local interaction.
    await insertStatus(ctx, { accountId: remoteFan, local: false, inReplyToId: untouched });
    await insertStatus(ctx, { accountId: remoteFan, local: false, reblogOfId: untouched });
    const media = new Map<string, Awaited<ReturnType<typeof remoteFile>>>();
    for (const [name, statusId] of Object.entries({
      favourited,
      favouritedRemotely,
      bookmarked,
      repliedTo,
      boosted,
      untouched,
    })) {
      media.set(name, await remoteFile({ statusId, createdAt: old }));
    }
    const counts = await removeRemoteMediaCache(ctx, { olderThan: daysAgo(7), keepInteracted: true });
    assert.equal(counts.records, 2);
    for (const [name, attachment] of media) {
      const removed = name === 'favouritedRemotely' || name === 'untouched';
      assert.equal((await row(attachment.id))?.fileKey === null, removed, name);
      assert.equal(await ctx.storage.exists(attachment.fileKey), !removed, name);
    }
    // Without the option, the rest goes too.
    assert.equal((await removeRemoteMediaCache(ctx, { olderThan: daysAgo(7) })).records, 4);
  });

  test('refuses option combinations tootctl refuses, changing nothing', async () => {
    const cached = await remoteFile({ createdAt: daysAgo(30) });
    await rejectsWith(
      removeRemoteMediaCache(ctx, { olderThan: daysAgo(7), pruneProfiles: true, removeHeaders: true }),
      'unprocessable',
      /cannot be combined/,
    );
    await rejectsWith(
      removeRemoteMediaCache(ctx, { olderThan: daysAgo(7), includeFollows: true }),
      'unprocessable',
      /only with pruneProfiles or removeHeaders/,
    );
    await rejectsWith(
      removeRemoteMediaCache(ctx, { olderThan: new Date(Number.NaN) }),
      'unprocessable',
      /date/,
    );
    assert.equal((await row(cached.id))?.fileKey, cached.fileKey);
    assert.equal(await ctx.storage.exists(cached.fileKey), true);
  });
});

describe('removeRemoteMediaCache: profiles', () => {
  before(reset);

  async function account(updatedAt: Date) {
    const id = await insertRemoteAccount(ctx, { updatedAt });
    return { id, keys: await storeProfileImages(ctx, id, { remote: true, updatedAt }) };
  }

  async function keysOf(id: string) {
    const [found] = await ctx.database.db.select().from(accounts).where(eq(accounts.id, id));
    assert.ok(found);
    return {
      avatarKey: found.avatarKey,
      avatarStaticKey: found.avatarStaticKey,
      headerKey: found.headerKey,
      headerStaticKey: found.headerStaticKey,
    };
  }

  test('removeHeaders drops headers only; pruneProfiles avatars too; follows are kept unless asked', async () => {
    const old = daysAgo(30);
    const stranger = await account(old);
    const followed = await account(old);
    const follower = await account(old);
    const recent = await account(daysAgo(1));
    await follow(ctx, local, followed.id);
    await follow(ctx, follower.id, local);
    const localImages = await storeProfileImages(ctx, local, { remote: false, updatedAt: old });

    const headers = await removeRemoteMediaCache(ctx, { olderThan: daysAgo(7), removeHeaders: true });
    assert.deepEqual(headers, { files: 2, bytes: 300, records: 1 });
    assert.deepEqual(await keysOf(stranger.id), {
      avatarKey: stranger.keys.avatarKey,
      avatarStaticKey: stranger.keys.avatarStaticKey,
      headerKey: null,
      headerStaticKey: null,
    });
    assert.deepEqual(await existing(ctx, Object.values(stranger.keys)), [true, true, false, false]);

    const dry = await removeRemoteMediaCache(ctx, {
      olderThan: daysAgo(7),
      pruneProfiles: true,
      dryRun: true,
    });
    assert.deepEqual(dry, { files: 2, bytes: 40, records: 1 });
    const profiles = await removeRemoteMediaCache(ctx, { olderThan: daysAgo(7), pruneProfiles: true });
    assert.deepEqual(profiles, { files: 2, bytes: 40, records: 1 });
    assert.deepEqual(await existing(ctx, Object.values(stranger.keys)), [false, false, false, false]);

    for (const kept of [followed, follower, recent]) {
      assert.deepEqual(await keysOf(kept.id), kept.keys);
    }
    assert.deepEqual(await keysOf(local), localImages, 'local accounts are never pruned');

    const withFollows = await removeRemoteMediaCache(ctx, {
      olderThan: daysAgo(7),
      pruneProfiles: true,
      includeFollows: true,
    });
    assert.deepEqual(withFollows, { files: 8, bytes: 680, records: 2 });
    assert.deepEqual(await existing(ctx, Object.values(followed.keys)), [false, false, false, false]);
    assert.deepEqual(await keysOf(recent.id), recent.keys);
    assert.deepEqual(await existing(ctx, Object.values(localImages)), [true, true, true, true]);
  });
});

describe('removeOrphans', () => {
  before(reset);
  const later = () => new Date(Date.now() + 60_000);

  test('removes files no row refers to, under the media prefixes, and keeps the rest', async () => {
    const remoteAuthor = await insertRemoteAccount(ctx);
    const used = await insertAttachment(ctx, { accountId: local, fileSize: 64 });
    const usedRemote = await insertAttachment(ctx, {
      accountId: remoteAuthor,
      remoteUrl: 'https://remote.example/x',
    });
    const images = await storeProfileImages(ctx, remoteAuthor, { remote: true });
    // A replaced file of an existing row, a file of a deleted row, an old avatar.
    const replaced = mediaKey('media_attachments/files', used.id, 'original', 'png');
    const deletedRow = mediaKey('media_attachments/files', newId(), 'small', 'webp', { remote: true });
    const oldAvatar = mediaKey('accounts/avatars', remoteAuthor, 'original', 'gif', { remote: true });
    const noAccount = mediaKey('accounts/headers', newId(), 'original', 'jpg');
    const orphans = { [replaced]: 11, [deletedRow]: 22, [oldAvatar]: 33, [noAccount]: 44 };
    for (const [key, size] of Object.entries(orphans)) {
      await ctx.storage.put(key, randomBytes(size), { contentType: 'image/png' });
    }
    // Not laid out as media keys: reported, never removed. Outside the media prefixes: not walked.
    const strange = ['media_attachments/files/readme.txt', 'accounts/avatars/abc/def/ghi/original/x.png'];
    const elsewhere = 'custom_emojis/images/000/000/001/original/blobcat.png';
    for (const key of [...strange, elsewhere])
      await ctx.storage.put(key, Buffer.from('x'), { contentType: 'text/plain' });
    const seen: { key: string; outcome: string }[] = [];

    const dry = await removeOrphans(ctx, {
      dryRun: true,
      modifiedBefore: later(),
      onObject: ({ key, outcome }) => seen.push({ key, outcome }),
    });
    assert.deepEqual(dry, { files: 4, bytes: 110, records: 0, scanned: 14, unrecognized: 2 });
    assert.deepEqual(
      seen
        .filter((s) => s.outcome === 'orphan')
        .map((s) => s.key)
        .sort(),
      Object.keys(orphans).sort(),
    );
    assert.deepEqual(
      seen
        .filter((s) => s.outcome === 'unrecognized')
        .map((s) => s.key)
        .sort(),
      [...strange].sort(),
    );
    assert.deepEqual(
      await existing(ctx, Object.keys(orphans)),
      [true, true, true, true],
      'a dry run deletes nothing',
    );

    const progress: [number, number | null][] = [];
    const counts = await removeOrphans(ctx, {
      modifiedBefore: later(),
      onProgress: (done, total) => progress.push([done, total]),
    });
    assert.deepEqual(counts, { files: 4, bytes: 110, records: 0, scanned: 14, unrecognized: 2 });
    assert.deepEqual(progress.at(-1), [14, null]);
    assert.deepEqual(await existing(ctx, Object.keys(orphans)), [false, false, false, false]);
    assert.deepEqual(
      await existing(ctx, [
        ...used.keys,
        ...usedRemote.keys,
        ...Object.values(images),
        ...strange,
        elsewhere,
      ]),
      Array(11).fill(true),
    );
  });

  test('leaves fresh files alone by default: their row may not be written yet', async () => {
    const fresh = mediaKey('media_attachments/files', newId(), 'original', 'png');
    await ctx.storage.put(fresh, Buffer.from('uploading'), { contentType: 'image/png' });
    const counts = await removeOrphans(ctx);
    assert.equal(counts.files, 0);
    assert.equal(await ctx.storage.exists(fresh), true);
    assert.equal((await removeOrphans(ctx, { modifiedBefore: later() })).files, 1);
    assert.equal(await ctx.storage.exists(fresh), false);
  });

  test('a prefix narrows the walk; a bad prefix is refused', async () => {
    const a = mediaKey('media_attachments/files', newId(), 'original', 'png');
    const b = mediaKey('accounts/avatars', newId(), 'original', 'png');
    for (const key of [a, b]) await ctx.storage.put(key, Buffer.from('1234'), { contentType: 'image/png' });
    const counts = await removeOrphans(ctx, { prefix: 'accounts/', modifiedBefore: later() });
    assert.equal(counts.files, 1);
    assert.deepEqual(await existing(ctx, [a, b]), [true, false]);
    for (const prefix of ['../', '/etc', 'a//b']) {
      await rejectsWith(removeOrphans(ctx, { prefix, modifiedBefore: later() }), 'unprocessable', /prefix/);
    }
    assert.equal(await ctx.storage.exists(a), true);
  });
});

describe('mediaUsage', () => {
  before(reset);

  test('adds up the stored files of each kind from the rows', async () => {
    const remoteAuthor = await insertRemoteAccount(ctx);
    await insertAttachment(ctx, { accountId: local, fileSize: 1000, thumbnailSize: 24 });
    await insertAttachment(ctx, { accountId: local, fileSize: 2000 });
    await insertAttachment(ctx, {
      accountId: remoteAuthor,
      remoteUrl: 'https://remote.example/a',
      fileSize: 300,
    });
    const uncached = await insertAttachment(ctx, {
      accountId: remoteAuthor,
      remoteUrl: 'https://remote.example/b',
      fileSize: 999,
    });
    await ctx.database.db
      .update(mediaAttachments)
      .set({ fileKey: null, smallKey: null })
      .where(eq(mediaAttachments.id, uncached.id));
    await storeProfileImages(ctx, local, { remote: false });
    await storeProfileImages(ctx, remoteAuthor, { remote: true });
    assert.deepEqual(await mediaUsage(ctx), {
      localAttachments: { count: 2, bytes: 3024 },
      remoteAttachments: { count: 1, bytes: 300 },
      localAvatars: { count: 1, bytes: 40 },
      remoteAvatars: { count: 1, bytes: 40 },
      localHeaders: { count: 1, bytes: 300 },
      remoteHeaders: { count: 1, bytes: 300 },
    });
  });
});

describe('lookupMedia', () => {
  test('finds the attachment and the page of its status from any URL form', async () => {
    const status = await insertStatus(ctx, { accountId: local });
    const attachment = await insertAttachment(ctx, { accountId: local, statusId: status });
    const path = attachment.smallKey;
    for (const url of [
      ctx.storage.url(path),
      `https://cdn.example/system/${path}`,
      `https://bucket.s3.eu-west-3.amazonaws.com/prefix/${path}?1700000000`,
      `/system/${path}`,
    ]) {
      const found = await lookupMedia(ctx, url);
      assert.deepEqual(found, {
        key: path,
        kind: 'media_attachment',
        attachmentId: attachment.id,
        accountId: local,
        file: 'small',
        statusId: status,
        scheduledStatusId: null,
        statusUrl: `https://woolly.test/@${localUsername}/${status}`,
      });
    }
  });

  test('a remote status gives its own URL; an unattached upload none; a replaced file no role', async () => {
    const author = await insertRemoteAccount(ctx);
    const status = await insertStatus(ctx, { accountId: author, local: false });
    await ctx.database.query(`update statuses set url = 'https://remote.example/@a/1' where id = $1`, [
      status,
    ]);
    const remote = await insertAttachment(ctx, {
      accountId: author,
      statusId: status,
      remoteUrl: 'https://r.example/f',
    });
    const found = await lookupMedia(ctx, ctx.storage.url(remote.fileKey));
    assert.equal(found.kind === 'media_attachment' && found.statusUrl, 'https://remote.example/@a/1');
    assert.equal(found.key.startsWith('cache/'), true);

    const upload = await insertAttachment(ctx, { accountId: local });
    const unattached = await lookupMedia(ctx, ctx.storage.url(upload.fileKey));
    assert.equal(unattached.kind === 'media_attachment' && unattached.statusUrl, null);

    const replaced = mediaKey('media_attachments/files', upload.id, 'original', 'png');
    const stale = await lookupMedia(ctx, ctx.storage.url(replaced));
    assert.equal(stale.file, null);
  });

  test('finds the account of an avatar or header', async () => {
    const remote = await insertRemoteAccount(ctx, { username: 'carol', domain: 'remote.example' });
    const images = await storeProfileImages(ctx, remote, { remote: true });
    const found = await lookupMedia(ctx, ctx.storage.url(images.headerStaticKey));
    assert.deepEqual(found, {
      key: images.headerStaticKey,
      kind: 'account',
      accountId: remote,
      acct: 'carol@remote.example',
      file: 'header_static',
      accountUrl: 'https://remote.example/@carol',
    });
  });

  test('refuses what is not a media URL, and reports a record that is gone', async () => {
    for (const url of [
      'https://woolly.test/@someone',
      'not a url at all',
      '',
      'https://x/system/accounts/avatars/1/2.png',
    ]) {
      await rejectsWith(lookupMedia(ctx, url), 'unprocessable', /Not a media URL/);
    }
    await rejectsWith(lookupMedia(ctx, 'https://x/%E0%A4%A'), 'unprocessable', /Invalid URL/);
    const missing = mediaKey('media_attachments/files', newId(), 'original', 'png');
    await rejectsWith(lookupMedia(ctx, ctx.storage.url(missing)), 'not_found', /No media attachment/);
    const noAccount = mediaKey('accounts/avatars', newId(), 'original', 'png');
    await rejectsWith(lookupMedia(ctx, ctx.storage.url(noAccount)), 'not_found', /No account/);
  });
});

describe('media keys', () => {
  test('parseMediaKey reads what mediaKey writes, and nothing else', () => {
    const id = newId();
    assert.deepEqual(
      parseMediaKey(mediaKey('media_attachments/files', id, 'small', 'png', { remote: true })),
      {
        owner: 'media_attachment',
        id,
        attachment: 'files',
        style: 'small',
        cached: true,
      },
    );
    assert.deepEqual(parseMediaKey(mediaKey('accounts/headers', '42', 'static', 'png')), {
      owner: 'account',
      id: '42',
      attachment: 'headers',
      style: 'static',
      cached: false,
    });
    // Mastodon's nine-digit partitions of old ids.
    assert.equal(parseMediaKey('accounts/avatars/000/000/007/original/a.png')?.id, '7');
    for (const key of [
      'media_attachments/files/000/000/007/original',
      'media_attachments/thumbnails/000/000/007/original/a.png',
      'statuses/files/000/000/007/original/a.png',
      'media_attachments/files/000/000/07/original/a.png',
      'media_attachments/files/000/000/00a/original/a.png',
      'media_attachments/files/000/000/000/original/a.png/extra',
      'media_attachments/files/000/000/007/original/.tmp-123',
      'cache/cache/media_attachments/files/000/000/007/original/a.png',
      'toString/files/000/000/007/original/a.png',
    ]) {
      assert.equal(parseMediaKey(key), null, key);
    }
  });

  test('keyOfUrl takes the key from the end of the path', () => {
    const key = 'cache/accounts/avatars/000/000/000/000/000/009/original/a%b.png';
    assert.equal(keyOfUrl(`https://files.example/bucket/pre/${key.replace('%', '%25')}`), key);
    assert.equal(
      keyOfUrl('https://files.example/bucket/accounts/avatars/000/000/009/static/b.png'),
      'accounts/avatars/000/000/009/static/b.png',
    );
    assert.equal(keyOfUrl('https://files.example/'), null);
  });
});
