import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { mediaAttachments } from '../../src/db/schema/index.ts';
import type { Context } from '../../src/domain/context.ts';
import type { Job } from '../../src/infra/queue/queue.ts';
import { createJobRegistry } from '../../src/jobs/index.ts';
import { MEDIA_HOUSEKEEPING_EVERY_MS } from '../../src/jobs/media-housekeeping.ts';
import { createTestUser } from '../support/accounts.ts';
import { createTestContext, type TestContext } from '../support/context.ts';
import { daysAgo, insertAttachment, insertRemoteAccount } from '../support/stored-media.ts';

const job = (name: string): Job => ({
  id: '1',
  queue: 'scheduler',
  name,
  data: null,
  attempt: 1,
  maxAttempts: 1,
});

let ctx: TestContext;
before(async () => {
  ctx = await createTestContext();
});
after(async () => {
  await ctx?.close();
});

const withRetention = (days: number | undefined): Context => ({
  ...ctx,
  config: { ...ctx.config, media: { ...ctx.config.media, cacheRetentionDays: days } },
});

async function fileKeyOf(id: string): Promise<string | null | undefined> {
  const [row] = await ctx.database.db
    .select({ fileKey: mediaAttachments.fileKey })
    .from(mediaAttachments)
    .where(eq(mediaAttachments.id, id));
  return row === undefined ? undefined : row.fileKey;
}

describe('media housekeeping jobs', () => {
  test('media_cleanup runs daily and deletes uploads unattached for more than a day', async () => {
    const registry = createJobRegistry(ctx);
    assert.equal(MEDIA_HOUSEKEEPING_EVERY_MS, 86_400_000);
    assert.deepEqual(
      registry.periodicJobs().find((j) => j.name === 'media_cleanup'),
      { queue: 'scheduler', name: 'media_cleanup', everyMs: MEDIA_HOUSEKEEPING_EVERY_MS },
    );
    const { account } = await createTestUser(ctx);
    const stale = await insertAttachment(ctx, {
      accountId: account.id,
      createdAt: new Date(Date.now() - 25 * 3_600_000),
    });
    const recent = await insertAttachment(ctx, {
      accountId: account.id,
      createdAt: new Date(Date.now() - 23 * 3_600_000),
    });
    await registry.dispatch(job('media_cleanup'));
    assert.equal(await fileKeyOf(stale.id), undefined);
    assert.equal(await ctx.storage.exists(stale.fileKey), false);
    assert.equal(await fileKeyOf(recent.id), recent.fileKey);
  });

  test('media_cache_retention is scheduled only with MEDIA_CACHE_RETENTION_PERIOD, and follows it', async () => {
    const author = await insertRemoteAccount(ctx);
    const remote = (days: number) =>
      insertAttachment(ctx, {
        accountId: author,
        remoteUrl: 'https://remote.example/a.png',
        createdAt: daysAgo(days),
      });
    const old = await remote(40);
    const younger = await remote(20);

    const off = createJobRegistry(withRetention(undefined));
    assert.equal(
      off.periodicJobs().find((j) => j.name === 'media_cache_retention'),
      undefined,
    );
    assert.ok(
      off.has('scheduler', 'media_cache_retention'),
      'a run scheduled earlier still finds its handler',
    );
    await off.dispatch(job('media_cache_retention'));
    assert.equal(await fileKeyOf(old.id), old.fileKey, 'unset: nothing is removed');

    const on = createJobRegistry(withRetention(30));
    assert.deepEqual(
      on.periodicJobs().find((j) => j.name === 'media_cache_retention'),
      { queue: 'scheduler', name: 'media_cache_retention', everyMs: MEDIA_HOUSEKEEPING_EVERY_MS },
    );
    await on.dispatch(job('media_cache_retention'));
    assert.equal(await fileKeyOf(old.id), null);
    assert.equal(await ctx.storage.exists(old.fileKey), false);
    assert.equal(await fileKeyOf(younger.id), younger.fileKey);
  });
});
