import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { feedsCommand, progressLine } from '../../src/cli/commands/feeds.ts';
import { createTestUser } from '../support/accounts.ts';
import { captureCommandOutput as capture, runWoollyInProcess } from '../support/cli.ts';
import { createTestContext, type TestContext } from '../support/context.ts';
import { follow } from '../support/graph.ts';
import { insertStatus } from '../support/statuses.ts';

let ctx: TestContext;
before(async () => {
  ctx = await createTestContext();
});
after(async () => {
  await ctx?.close();
});

test('feeds build USERNAME rebuilds one home from the graph, replacing what was there', async () => {
  const reader = await createTestUser(ctx, { username: 'reader' });
  const author = await createTestUser(ctx);
  await follow(ctx, reader.account.id, author.account.id);
  const s1 = await insertStatus(ctx, { accountId: author.account.id });
  await ctx.feeds.replace(reader.account.id, [{ statusId: '42', reblogOfId: null }]);
  const c = capture();
  assert.equal(await feedsCommand(ctx, { action: 'build', username: 'READER' }, c.io), 0);
  assert.deepEqual(c.lines, ["OK: 1 entries in READER's home feed"]);
  assert.deepEqual(await ctx.feeds.page(reader.account.id, { limit: 10 }), [s1]);

  const missing = capture();
  assert.equal(await feedsCommand(ctx, { action: 'build', username: 'nobody' }, missing.io), 1);
  assert.deepEqual(missing.errors, ['No local account named nobody']);
});

test('feeds build --all rebuilds every local home, with a progress bar', async () => {
  const a = await createTestUser(ctx);
  const own = await insertStatus(ctx, { accountId: a.account.id });
  const c = capture();
  assert.equal(await feedsCommand(ctx, { action: 'build', all: true }, c.io), 0);
  assert.match(c.lines[0]!, /^OK: rebuilt \d+ home feeds$/);
  assert.ok(c.bar.at(-2)!.includes('100%'));
  assert.deepEqual(await ctx.feeds.page(a.account.id, { limit: 10 }), [own]);
  assert.equal(progressLine(5, 10, 10), '\r[#####-----] 50% 5/10');
});

test('usage errors exit 2 before opening anything', async () => {
  for (const args of [
    ['feeds', 'build'],
    ['feeds', 'build', 'alice', '--all'],
  ]) {
    const r = await runWoollyInProcess(args, {
      env: { PATH: process.env.PATH ?? '', WOOLLY_DATA_DIR: '/nonexistent/woolly' },
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /give either a USERNAME or --all/);
  }
});
