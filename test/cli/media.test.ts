import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dbExport, mediaNote } from '../../src/cli/commands/db.ts';
import { humanSize, mediaCommand } from '../../src/cli/commands/media.ts';
import { loadConfig, type StorageConfig } from '../../src/config/config.ts';
import { newId } from '../../src/db/ids.ts';
import { openDatabaseForCommand } from '../../src/db/index.ts';
import { migrate } from '../../src/db/migrate.ts';
import { mediaAttachments } from '../../src/db/schema/index.ts';
import { mediaKey } from '../../src/domain/media/keys.ts';
import { createTestUser } from '../support/accounts.ts';
import {
  captureCommandOutput as capture,
  cleanEnv,
  runWoolly,
  runWoollyInProcess,
  tempDir,
} from '../support/cli.ts';
import { createTestContext, type TestContext } from '../support/context.ts';
import { insertStatus } from '../support/statuses.ts';
import {
  daysAgo,
  insertAttachment,
  insertRemoteAccount,
  storeProfileImages,
} from '../support/stored-media.ts';

let ctx: TestContext;
let local: string;
before(async () => {
  ctx = await createTestContext();
  local = (await createTestUser(ctx, { username: 'alice' })).account.id;
});
after(async () => {
  await ctx?.close();
});

const remove = (
  options: Partial<Extract<Parameters<typeof mediaCommand>[1], { action: 'remove' }>> = {},
) => ({
  action: 'remove' as const,
  days: 7,
  pruneProfiles: false,
  removeHeaders: false,
  includeFollows: false,
  keepInteracted: false,
  dryRun: false,
  ...options,
});

/** Back-dates a stored file, as if written long ago (orphan removal leaves fresh files alone). */
async function age(key: string): Promise<void> {
  const { root } = ctx.config.storage as Extract<StorageConfig, { kind: 'local' }>;
  const then = daysAgo(1);
  await utimes(join(root, key), then, then);
}

describe('woolly media (in process)', () => {
  test('remove drops old remote attachments, with a progress bar and a summary', async () => {
    const author = await insertRemoteAccount(ctx);
    const cached = await insertAttachment(ctx, {
      accountId: author,
      remoteUrl: 'https://remote.example/a.png',
      createdAt: daysAgo(10),
      fileSize: 2048,
      thumbnailSize: 1024,
    });
    const dry = capture();
    assert.equal(await mediaCommand(ctx, remove({ dryRun: true }), dry.io), 0);
    assert.deepEqual(dry.lines, ['Removed 3 files (3 KB) of 1 media attachment (DRY RUN)']);
    assert.equal(await ctx.storage.exists(cached.fileKey), true);

    const c = capture();
    assert.equal(await mediaCommand(ctx, remove(), c.io), 0);
    assert.deepEqual(c.lines, ['Removed 3 files (3 KB) of 1 media attachment']);
    assert.ok(
      c.bar.some((t) => t.includes('100% 1/1')),
      c.bar.join(''),
    );
    assert.equal(c.bar.at(-1), '\n');
    assert.equal(await ctx.storage.exists(cached.fileKey), false);

    // --days 30: the same file would not have been old enough.
    const young = await insertAttachment(ctx, {
      accountId: author,
      remoteUrl: 'https://remote.example/b.png',
      createdAt: daysAgo(10),
    });
    const none = capture();
    assert.equal(await mediaCommand(ctx, remove({ days: 30 }), none.io), 0);
    assert.deepEqual(none.lines, ['Removed 0 files (0 B) of 0 media attachments']);
    assert.equal(await ctx.storage.exists(young.fileKey), true);
  });

  test('remove --prune-profiles counts accounts', async () => {
    const author = await insertRemoteAccount(ctx, { updatedAt: daysAgo(20) });
    await storeProfileImages(ctx, author, { remote: true, updatedAt: daysAgo(20) });
    const c = capture();
    assert.equal(await mediaCommand(ctx, remove({ pruneProfiles: true }), c.io), 0);
    assert.deepEqual(c.lines, ['Removed 4 files (340 B) of 1 account']);
  });

  test('remove-orphans names each orphan and sums them up', async () => {
    const used = await insertAttachment(ctx, { accountId: local });
    const orphan = mediaKey('media_attachments/files', newId(), 'original', 'png');
    await ctx.storage.put(orphan, randomBytes(1536), { contentType: 'image/png' });
    const other = 'media_attachments/notes.txt';
    await ctx.storage.put(other, Buffer.from('x'), { contentType: 'text/plain' });
    for (const key of [orphan, other, ...used.keys]) await age(key);

    const dry = capture();
    assert.equal(await mediaCommand(ctx, { action: 'remove-orphans', dryRun: true }, dry.io), 0);
    assert.ok(dry.errors.includes(`Orphan: ${orphan}`), dry.errors.join('\n'));
    assert.ok(dry.errors.includes(`Not a media file, kept: ${other}`));
    assert.match(
      dry.lines[0]!,
      /^Removed 1 orphan \(1\.5 KB\) of \d+ files scanned; 1 other file kept \(DRY RUN\)$/,
    );
    assert.equal(await ctx.storage.exists(orphan), true);

    const c = capture();
    assert.equal(
      await mediaCommand(
        ctx,
        { action: 'remove-orphans', prefix: 'media_attachments/', dryRun: false },
        c.io,
      ),
      0,
    );
    assert.match(c.lines[0]!, /^Removed 1 orphan \(1\.5 KB\) of \d+ files scanned; 1 other file kept$/);
    assert.equal(await ctx.storage.exists(orphan), false);
    assert.equal(await ctx.storage.exists(used.fileKey), true);
    assert.equal(await ctx.storage.exists(other), true);

    const refused = capture();
    assert.equal(
      await mediaCommand(ctx, { action: 'remove-orphans', prefix: '/etc', dryRun: false }, refused.io),
      1,
    );
    assert.deepEqual(refused.errors, ['error: Invalid prefix "/etc": it is absolute']);
  });

  test('refresh counts what it would fetch, and names an unknown account', async () => {
    const remote = await insertRemoteAccount(ctx, { username: 'far', domain: 'refresh.example' });
    await ctx.database.db
      .insert(mediaAttachments)
      .values({ id: newId(), accountId: remote, type: 'image', remoteUrl: 'https://refresh.example/a.png' });
    const dry = capture();
    assert.equal(
      await mediaCommand(
        ctx,
        { action: 'refresh', account: 'far@refresh.example', force: false, dryRun: true },
        dry.io,
      ),
      0,
    );
    assert.deepEqual(dry.lines, ['Would fetch 1 media attachment of 1 (DRY RUN)']);
    const unknown = capture();
    assert.equal(
      await mediaCommand(
        ctx,
        { action: 'refresh', account: 'nobody@refresh.example', force: false, dryRun: true },
        unknown.io,
      ),
      1,
    );
    assert.deepEqual(unknown.errors, ['error: No remote account nobody@refresh.example']);
  });

  test('usage prints a table of files and sizes, and where they are', async () => {
    await ctx.database.query('delete from media_attachments');
    await ctx.database.query('update accounts set avatar_key = null, header_key = null');
    await insertAttachment(ctx, { accountId: local, fileSize: 1024 * 1024 * 3 });
    const c = capture();
    assert.equal(await mediaCommand(ctx, { action: 'usage' }, c.io), 0);
    const { root } = ctx.config.storage as Extract<StorageConfig, { kind: 'local' }>;
    assert.deepEqual(c.lines, [
      'Object                      Files  Size',
      'Local attachments               1  3 MB',
      'Remote attachments (cache)      0   0 B',
      'Local avatars                   0   0 B',
      'Remote avatars (cache)          0   0 B',
      'Local headers                   0   0 B',
      'Remote headers (cache)          0   0 B',
      'Total                           1  3 MB',
      `Files are stored in ${root}`,
    ]);
  });

  test('lookup prints the page of the status, or says why there is none', async () => {
    const status = await insertStatus(ctx, { accountId: local });
    const attached = await insertAttachment(ctx, { accountId: local, statusId: status });
    const c = capture();
    assert.equal(
      await mediaCommand(ctx, { action: 'lookup', url: ctx.storage.url(attached.fileKey) }, c.io),
      0,
    );
    assert.deepEqual(c.lines, [
      `https://woolly.test/@alice/${status}`,
      `The file file of media attachment ${attached.id} (account ${local}), attached to status ${status}`,
    ]);

    const upload = await insertAttachment(ctx, { accountId: local });
    const replaced = mediaKey('media_attachments/files', upload.id, 'original', 'png');
    const stale = capture();
    assert.equal(await mediaCommand(ctx, { action: 'lookup', url: ctx.storage.url(replaced) }, stale.io), 0);
    assert.deepEqual(stale.lines, [
      `A former file of media attachment ${upload.id} (account ${local}), attached to no status (not attached)`,
    ]);
    assert.match(stale.errors[0]!, /no longer used/);

    const bad = capture();
    assert.equal(await mediaCommand(ctx, { action: 'lookup', url: 'https://woolly.test/about' }, bad.io), 1);
    assert.deepEqual(bad.errors, ['error: Not a media URL']);
  });

  test('db export says the media files are not in the dump, and where they are', async () => {
    const { root } = ctx.config.storage as Extract<StorageConfig, { kind: 'local' }>;
    assert.equal(
      mediaNote(ctx.config),
      `Note: media files are not in this dump. They are in ${root}: copy that folder along with the dump (see docs/media.md).`,
    );
    const s3 = { kind: 's3', bucket: 'files', keyPrefix: 'woolly' } as StorageConfig;
    assert.equal(
      mediaNote({ storage: s3 }),
      'Note: media files are not in this dump. They are in the S3 bucket files (under woolly/), which stays where it is (see docs/media.md).',
    );
    // With PostgreSQL there is no embedded database to dump: one line, exit 1, nothing written.
    const written: string[] = [];
    const said: string[] = [];
    const postgres = loadConfig({
      env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none', LOCAL_DOMAIN: 'x.test' },
      readFiles: false,
    });
    assert.equal(
      await dbExport(
        postgres,
        (sql) => written.push(sql),
        (line) => said.push(line),
      ),
      1,
    );
    assert.deepEqual(written, []);
    assert.match(said[0]!, /use pg_dump/);
  });

  test('sizes read as Rails shows them', () => {
    assert.equal(humanSize(0), '0 B');
    assert.equal(humanSize(1023), '1023 B');
    assert.equal(humanSize(1024), '1 KB');
    assert.equal(humanSize(1536), '1.5 KB');
    assert.equal(humanSize(3.44 * 1024 * 1024), '3.4 MB');
    assert.equal(humanSize(5 * 1024 ** 4), '5 TB');
  });
});

describe('woolly media (the command line)', () => {
  test('usage errors exit 2, and a URL that is no media file exits 1, before opening anything', async () => {
    const env = { PATH: process.env.PATH ?? '', WOOLLY_DATA_DIR: '/nonexistent/woolly' };
    for (const [args, message] of [
      [['media', 'remove', '--days', 'week'], /--days expects a whole number/],
      [['media', 'remove', '--prune-profiles', '--remove-headers'], /cannot be used together/],
      [['media', 'refresh'], /Specify the source of media attachments/],
      [['media', 'refresh', '--account', 'alice'], /user@domain/],
    ] as const) {
      const r = await runWoollyInProcess([...args], { env });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
    }
    const lookup = await runWoollyInProcess(['media', 'lookup', 'https://media.test/@nobody'], { env });
    assert.equal(lookup.code, 1);
    assert.equal(lookup.stderr, 'error: Not a media URL\n');
  });

  test('runs on a data directory', async () => {
    const dir = tempDir();
    const env = cleanEnv({ WOOLLY_DATA_DIR: join(dir, 'data'), LOCAL_DOMAIN: 'media.test' });
    // The schema is made in this process: one spawned command is enough to show the wiring.
    const config = loadConfig({ env, readFiles: false });
    const { database } = await openDatabaseForCommand(config);
    try {
      await migrate(database);
    } finally {
      await database.close();
    }
    const usage = await runWoolly(['media', 'usage'], { env, cwd: dir });
    assert.equal(usage.code, 0, usage.stderr);
    assert.match(usage.stdout, /^Local attachments +0 +0 B$/m);
    assert.ok(usage.stdout.includes(`Files are stored in ${join(dir, 'data', 'media')}`), usage.stdout);
  });
});
