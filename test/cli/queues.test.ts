import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type QueuesArgs, queuesCommand } from '../../src/cli/commands/queues.ts';
import { DatabaseQueue } from '../../src/infra/queue/database.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

describe('woolly queues', () => {
  let db: TestDatabase;
  let backend: DatabaseQueue;

  const run = async (args: QueuesArgs): Promise<{ code: number; lines: string[] }> => {
    const lines: string[] = [];
    const code = await queuesCommand(backend, args, (line) => lines.push(line));
    return { code, lines };
  };

  /** Two dead jobs in push, one waiting in push, one delayed in pull, one completed in default. */
  const seed = async (): Promise<string[]> => {
    const worker = backend.work(
      ['push', 'default'],
      async (job) => {
        if (job.name === 'deliver')
          throw new Error(`host ${String((job.data as { host: string }).host)} is down\nstack…`);
      },
      { concurrency: 2 },
    );
    const a = await backend.enqueue('push', 'deliver', { host: 'a.example' });
    const b = await backend.enqueue('push', 'deliver', { host: 'b.example' }, { attempts: 2, backoffMs: 10 });
    await backend.enqueue('default', 'fanout', null);
    for (let i = 0; ; i++) {
      const c = await backend.counts();
      if (c.push.dead === 2 && c.default.completed === 1) break;
      assert.ok(i < 400, 'seed jobs did not settle');
      await sleep(20);
    }
    await worker.close();
    await backend.enqueue('push', 'deliver', { host: 'c.example' });
    await backend.enqueue('pull', 'fetch', null, { delayMs: 60_000 });
    return [a.id, b.id];
  };

  before(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await backend?.close();
    await db.database.query('DELETE FROM jobs');
  });
  after(async () => {
    await db?.close();
  });

  test('status prints a table of queues by state', async () => {
    backend = new DatabaseQueue(db.database, { pollIntervalMs: 50 });
    await seed();
    const { code, lines } = await run({ action: 'status' });
    assert.equal(code, 0);
    assert.deepEqual(
      lines.map((l) => l.split(/\s+/)),
      [
        ['queue', 'waiting', 'delayed', 'active', 'completed', 'dead'],
        ['default', '0', '0', '0', '1', '0'],
        ['push', '1', '0', '0', '0', '2'],
        ['pull', '0', '1', '0', '0', '0'],
        ['ingress', '0', '0', '0', '0', '0'],
        ['mailers', '0', '0', '0', '0', '0'],
        ['scheduler', '0', '0', '0', '0', '0'],
      ],
    );
    const one = await run({ action: 'status', queue: 'push' });
    assert.equal(one.lines.length, 2);
    assert.deepEqual(one.lines[1]?.split(/\s+/), ['push', '1', '0', '0', '0', '2']);
  });

  test('dead lists the dead jobs of a queue', async () => {
    backend = new DatabaseQueue(db.database, { pollIntervalMs: 50 });
    const [a, b] = await seed();
    const { code, lines } = await run({ action: 'dead', queue: 'push' });
    assert.equal(code, 0);
    assert.match(lines[0] ?? '', /^id\s+name\s+attempts\s+failed at\s+error$/);
    assert.equal(lines.length, 3);
    const byId = new Map(lines.slice(1).map((l) => [l.split(/\s+/)[0], l]));
    assert.match(
      byId.get(a) ?? '',
      /^\d+\s+deliver\s+1\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+host a\.example is down stack…$/,
    );
    assert.match(byId.get(b) ?? '', /\s2\s.*host b\.example is down/);
    assert.deepEqual((await run({ action: 'dead', queue: 'pull' })).lines, ['no dead jobs in pull']);
  });

  test('retry moves one or all dead jobs back', async () => {
    backend = new DatabaseQueue(db.database, { pollIntervalMs: 50 });
    const [a] = await seed();
    assert.deepEqual(await run({ action: 'retry', queue: 'push', id: a }), {
      code: 0,
      lines: [`retried dead job ${a} in push`],
    });
    assert.deepEqual(await run({ action: 'retry', queue: 'push', id: a }), {
      code: 1,
      lines: [`no dead job ${a} in push`],
    });
    assert.deepEqual(await run({ action: 'retry', queue: 'push' }), {
      code: 0,
      lines: ['retried 1 dead job in push'],
    });
    const counts = (await backend.counts()).push;
    assert.equal(counts.dead, 0);
    assert.equal(counts.waiting, 3);
  });

  test('clear deletes one or all dead jobs', async () => {
    backend = new DatabaseQueue(db.database, { pollIntervalMs: 50 });
    const [a] = await seed();
    assert.deepEqual(await run({ action: 'clear', queue: 'push', id: a }), {
      code: 0,
      lines: [`deleted dead job ${a} in push`],
    });
    assert.deepEqual(await run({ action: 'clear', queue: 'push' }), {
      code: 0,
      lines: ['deleted 1 dead job in push'],
    });
    assert.deepEqual(await run({ action: 'clear', queue: 'push' }), {
      code: 0,
      lines: ['deleted 0 dead jobs in push'],
    });
    assert.equal((await backend.counts()).push.dead, 0);
    assert.equal((await backend.counts()).push.waiting, 1, 'only dead jobs are deleted');
  });

  test('an unknown or missing queue is refused with the valid names, exit 2', async () => {
    backend = new DatabaseQueue(db.database);
    for (const action of ['status', 'dead', 'retry', 'clear'] as const) {
      const { code, lines } = await run({ action, queue: 'nope' });
      assert.equal(code, 2);
      assert.deepEqual(lines, [
        'unknown queue "nope": valid queues are default, push, pull, ingress, mailers, scheduler',
      ]);
    }
    for (const action of ['dead', 'retry', 'clear'] as const) {
      const { code, lines } = await run({ action });
      assert.equal(code, 2);
      assert.match(lines[0] ?? '', /needs a queue: one of default, push/);
    }
  });
});
