import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { adminDeleteAccount } from '../../src/domain/accounts/admin.ts';
import type { Context } from '../../src/domain/context.ts';
import type { Job, JsonValue } from '../../src/infra/queue/queue.ts';
import { createJobRegistry } from '../../src/jobs/index.ts';
import { createTestUser } from '../support/accounts.ts';
import { createTestContext, type TestContext } from '../support/context.ts';
import { insertAttachment } from '../support/stored-media.ts';

let ctx: TestContext;
before(async () => {
  ctx = await createTestContext();
});
after(async () => {
  await ctx?.close();
});

test("deleting an account queues the removal of its files, which the worker's job does", async () => {
  const { account } = await createTestUser(ctx, { username: 'leaving' });
  const upload = await insertAttachment(ctx, { accountId: account.id });
  const queued: { name: string; data: JsonValue }[] = [];
  const spying: Context = {
    ...ctx,
    queue: Object.assign(Object.create(ctx.queue), {
      enqueue: async (_queue: string, name: string, data: JsonValue) => {
        queued.push({ name, data });
        return { id: String(queued.length), created: true };
      },
    }),
  };
  await adminDeleteAccount(spying, 'leaving');
  assert.ok(await ctx.storage.exists(upload.fileKey), 'nothing is removed on the command itself');
  const removal = queued.find((j) => j.name === 'remove_media_files');
  assert.ok(removal, JSON.stringify(queued));
  assert.ok((removal.data as { keys: string[] }).keys.includes(upload.fileKey));

  const job: Job = {
    id: '1',
    queue: 'default',
    name: 'remove_media_files',
    data: removal.data,
    attempt: 1,
    maxAttempts: 1,
  };
  await createJobRegistry(ctx).dispatch(job);
  assert.equal(await ctx.storage.exists(upload.fileKey), false);
  await assert.rejects(createJobRegistry(ctx).dispatch({ ...job, data: { keys: 'all' } }), /needs \{keys/);
});
