import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { newId } from '../../src/db/ids.ts';
import { DatabaseQueue } from '../../src/infra/queue/database.ts';
import type { Job, JsonValue, QueueBackend } from '../../src/infra/queue/queue.ts';
import { createJobRegistry, HOUSEKEEPING_EVERY_MS, JobRegistry } from '../../src/jobs/index.ts';
import { createTestContext, type TestContext } from '../support/context.ts';

const job = (queue: Job['queue'], name: string, data: JsonValue = null): Job => ({
  id: '1',
  queue,
  name,
  data,
  attempt: 1,
  maxAttempts: 1,
});

describe('JobRegistry', () => {
  test('dispatches a job to the handler of its queue and name', async () => {
    const calls: [string, JsonValue, string][] = [];
    const registry = new JobRegistry()
      .register({ queue: 'default', name: 'a' }, async (data, j) => {
        calls.push(['default/a', data, j.id]);
      })
      .register({ queue: 'push', name: 'a' }, async (data, j) => {
        calls.push(['push/a', data, j.id]);
      });
    await registry.dispatch(job('push', 'a', { n: 1 }));
    await registry.dispatch(job('default', 'a', [2]));
    assert.deepEqual(calls, [
      ['push/a', { n: 1 }, '1'],
      ['default/a', [2], '1'],
    ]);
  });

  test('a job without a handler fails with a message naming it', async () => {
    const registry = new JobRegistry().register({ queue: 'default', name: 'a' }, async () => {});
    assert.throws(() => registry.handlerFor(job('pull', 'a')), { message: 'no handler for pull/a' });
    await assert.rejects(registry.dispatch(job('default', 'b')), { message: 'no handler for default/b' });
  });

  test('refuses a second handler for the same job', () => {
    const registry = new JobRegistry().register({ queue: 'default', name: 'a' }, async () => {});
    assert.throws(
      () => registry.register({ queue: 'default', name: 'a' }, async () => {}),
      /already registered/,
    );
  });

  test('periodic jobs are registered and listed for scheduling', async () => {
    let ran = 0;
    const registry = new JobRegistry().periodic({
      queue: 'scheduler',
      name: 'tick',
      everyMs: 1000,
      data: { k: 1 },
      handler: async () => {
        ran++;
      },
    });
    assert.deepEqual(registry.periodicJobs(), [
      { queue: 'scheduler', name: 'tick', everyMs: 1000, data: { k: 1 } },
    ]);
    await registry.dispatch(job('scheduler', 'tick'));
    assert.equal(ran, 1);
  });
});

describe('built-in jobs', () => {
  // The handlers run against a whole Context; the tests swap in the queue backend under test.
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext();
  });
  after(async () => {
    await ctx?.close();
  });

  test('housekeeping runs every 10 minutes on the scheduler queue and prunes completed jobs', async () => {
    const queue = new DatabaseQueue(ctx.database);
    try {
      const registry = createJobRegistry({ ...ctx, queue });
      assert.deepEqual(
        registry.periodicJobs().find((j) => j.name === 'housekeeping'),
        { queue: 'scheduler', name: 'housekeeping', everyMs: HOUSEKEEPING_EVERY_MS },
      );
      assert.equal(HOUSEKEEPING_EVERY_MS, 600_000);
      await ctx.database.query(
        `INSERT INTO jobs (id, queue, name, data, state, finished_at)
         VALUES ($1::bigint, 'default', 'old', 'null', 'completed', now() - interval '2 hours'),
                ($2::bigint, 'default', 'new', 'null', 'completed', now())`,
        [newId(), newId()],
      );
      await registry.dispatch(job('scheduler', 'housekeeping'));
      const rows = await ctx.database.query<{ name: string }>('SELECT name FROM jobs ORDER BY name');
      assert.deepEqual(
        rows.map((r) => r.name),
        ['new'],
      );
    } finally {
      await queue.close();
      await ctx.database.query('DELETE FROM jobs');
    }
  });

  test('housekeeping calls prune on whatever backend it is given', async () => {
    let pruned = 0;
    const backend = { prune: async () => ++pruned } as unknown as QueueBackend;
    await createJobRegistry({ ...ctx, queue: backend }).dispatch(job('scheduler', 'housekeeping'));
    assert.equal(pruned, 1);
  });

  test('a worker dispatching through the registry sends unknown jobs to dead', async () => {
    const queue = new DatabaseQueue(ctx.database, { pollIntervalMs: 50 });
    try {
      const registry = createJobRegistry({ ...ctx, queue });
      queue.work(['default'], (j) => registry.dispatch(j), { concurrency: 1 });
      await queue.enqueue('default', 'ghost', null, { attempts: 2, backoffMs: 10 });
      const deadline = Date.now() + 8000;
      while ((await queue.counts()).default.dead === 0) {
        assert.ok(Date.now() < deadline, 'the unknown job never went dead');
        await sleep(20);
      }
      const [dead] = await queue.dead('default');
      assert.equal(dead?.error, 'no handler for default/ghost');
      assert.equal(dead?.attempts, 2);
    } finally {
      await queue.close();
    }
  });
});
