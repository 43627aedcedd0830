import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker as BullWorker, Queue } from 'bullmq';
import type { RedisConfig } from '../../src/config/config.ts';
import { newId } from '../../src/db/ids.ts';
import { BullMqQueue } from '../../src/infra/queue/bullmq.ts';
import { DatabaseQueue } from '../../src/infra/queue/database.ts';
import {
  type Job,
  type JsonValue,
  QUEUE_NAMES,
  type QueueBackend,
  type QueueCounts,
  type QueueName,
} from '../../src/infra/queue/queue.ts';
import { closeRedisClient, createRedisClient } from '../../src/infra/redis-connection.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { testRedisConfig } from '../support/redis.ts';

/** Waits for a condition, polling; fails with `what` after a generous timeout. */
async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(15);
  }
}

function gate(): { wait: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

interface Run {
  job: Job;
  at: number;
}

/** A handler that records every call, then does `impl`. */
function recorder(impl: (job: Job, run: number) => Promise<void> = async () => {}) {
  const runs: Run[] = [];
  const handler = async (job: Job): Promise<void> => {
    runs.push({ job, at: Date.now() });
    await impl(job, runs.length);
  };
  return { runs, handler };
}

const zero = { waiting: 0, delayed: 0, active: 0, completed: 0, dead: 0 };

/** A shared store (database or Redis prefix) that several backends — "processes" — can open. */
interface Store {
  open(): QueueBackend;
  /** Leaves a job active as a worker that died in the middle of it would. */
  strand(queue: QueueName, name: string, data: JsonValue): Promise<void>;
  /** Empties the store between tests (every backend is closed by then). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

function contract(name: string, make: () => Promise<Store>): void {
  describe(name, () => {
    let store: Store;
    const opened: QueueBackend[] = [];
    const releases: (() => void)[] = [];
    const open = (): QueueBackend => {
      const backend = store.open();
      opened.push(backend);
      return backend;
    };
    const q = async (backend: QueueBackend, queue: QueueName) => (await backend.counts())[queue];

    before(async () => {
      store = await make();
    });
    afterEach(async () => {
      for (const release of releases.splice(0)) release();
      await Promise.all(opened.splice(0).map((b) => b.close()));
      await store.reset();
    });
    after(async () => {
      await store?.close();
    });

    test('runs a job once, with its name and data', async () => {
      const backend = open();
      const { runs, handler } = recorder();
      backend.work(['default'], handler, { concurrency: 2 });
      const data = { hello: 'world', list: [1, 2.5, null, true], nested: { a: 'é' } };
      const result = await backend.enqueue('default', 'greet', data);
      assert.equal(result.added, true);
      assert.equal(typeof result.id, 'string');
      assert.ok(result.id.length > 0);
      await until('the job to complete', async () => (await q(backend, 'default')).completed === 1);
      await sleep(200);
      assert.equal(runs.length, 1);
      const job = runs[0]!.job;
      assert.deepEqual(
        {
          id: job.id,
          queue: job.queue,
          name: job.name,
          data: job.data,
          attempt: job.attempt,
          maxAttempts: job.maxAttempts,
        },
        { id: result.id, queue: 'default', name: 'greet', data, attempt: 1, maxAttempts: 1 },
      );
      assert.deepEqual(await q(backend, 'default'), { ...zero, completed: 1 });
    });

    test('does not run a delayed job before its delay', async () => {
      const backend = open();
      const { runs, handler } = recorder();
      backend.work(['pull'], handler, { concurrency: 1 });
      const t0 = Date.now();
      await backend.enqueue('pull', 'later', { n: 1 }, { delayMs: 700 });
      assert.deepEqual(await q(backend, 'pull'), { ...zero, delayed: 1 });
      await until('the delayed job to run', () => runs.length === 1);
      const waited = runs[0]!.at - t0;
      assert.ok(waited >= 650, `ran after ${waited} ms, expected at least 700`);
    });

    test('de-duplicates by jobId, returning the existing id', async () => {
      const backend = open();
      const jobId = 'refresh:user/42 é'; // ':' and other characters a Redis key or BullMQ id would mind
      const first = await backend.enqueue('pull', 'refresh', { v: 1 }, { jobId });
      const second = await backend.enqueue('pull', 'refresh', { v: 2 }, { jobId });
      assert.equal(first.added, true);
      assert.deepEqual(second, { id: first.id, added: false });
      const other = await backend.enqueue('pull', 'refresh', { v: 3 }, { jobId: `${jobId}!` });
      assert.equal(other.added, true);
      assert.notEqual(other.id, first.id);
      assert.equal((await q(backend, 'pull')).waiting, 2);

      const { runs, handler } = recorder();
      backend.work(['pull'], handler, { concurrency: 1 });
      await until('both jobs to complete', async () => (await q(backend, 'pull')).completed === 2);
      // Kept while completed: still a duplicate.
      assert.deepEqual(await backend.enqueue('pull', 'refresh', { v: 4 }, { jobId }), {
        id: first.id,
        added: false,
      });
      await sleep(200);
      assert.deepEqual(
        runs.map((r) => r.job.data).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
        [{ v: 1 }, { v: 3 }],
      );
      assert.equal(runs.find((r) => (r.job.data as { v: number }).v === 1)?.job.id, first.id);
    });

    test('retries with exponential back-off, then the job is dead with its error', async () => {
      const backend = open();
      const { runs, handler } = recorder(async (job) => {
        throw new Error(`boom ${job.attempt}`);
      });
      backend.work(['push'], handler, { concurrency: 1 });
      const { id } = await backend.enqueue('push', 'deliver', { to: 'x' }, { attempts: 3, backoffMs: 150 });
      await until('the job to be dead', async () => (await q(backend, 'push')).dead === 1);
      assert.deepEqual(
        runs.map((r) => [r.job.attempt, r.job.maxAttempts]),
        [
          [1, 3],
          [2, 3],
          [3, 3],
        ],
      );
      const gap1 = runs[1]!.at - runs[0]!.at;
      const gap2 = runs[2]!.at - runs[1]!.at;
      assert.ok(gap1 >= 120, `first retry after ${gap1} ms, expected ~150`);
      assert.ok(gap2 >= 270, `second retry after ${gap2} ms, expected ~300 (exponential)`);
      const dead = await backend.dead('push');
      assert.equal(dead.length, 1);
      const d = dead[0]!;
      assert.deepEqual(
        { id: d.id, queue: d.queue, name: d.name, data: d.data, attempts: d.attempts, error: d.error },
        { id, queue: 'push', name: 'deliver', data: { to: 'x' }, attempts: 3, error: 'boom 3' },
      );
      assert.ok(d.failedAt instanceof Date && Math.abs(d.failedAt.getTime() - Date.now()) < 60_000);
      assert.deepEqual(await q(backend, 'push'), { ...zero, dead: 1 });
      await sleep(400);
      assert.equal(runs.length, 3, 'a dead job is not run again');
    });

    test('a failing handler does not stop the worker; a thrown non-Error is the message', async () => {
      const backend = open();
      const { runs, handler } = recorder(async (job) => {
        if (job.name === 'bad') throw 'plain string'; // not an Error: some code throws strings
      });
      backend.work(['ingress'], handler, { concurrency: 1 });
      await backend.enqueue('ingress', 'bad', null);
      await until('the bad job to be dead', async () => (await q(backend, 'ingress')).dead === 1);
      await backend.enqueue('ingress', 'good', null);
      await until('the good job to complete', async () => (await q(backend, 'ingress')).completed === 1);
      assert.deepEqual(
        runs.map((r) => r.job.name),
        ['bad', 'good'],
      );
      assert.equal((await backend.dead('ingress'))[0]?.error, 'plain string');
    });

    test('retryDead moves dead jobs back with fresh attempts', async () => {
      const backend = open();
      let failing = true;
      const { runs, handler } = recorder(async () => {
        if (failing) throw new Error('down');
      });
      backend.work(['mailers'], handler, { concurrency: 2 });
      const a = await backend.enqueue('mailers', 'a', { n: 'a' }, { attempts: 2, backoffMs: 10 });
      const b = await backend.enqueue('mailers', 'b', { n: 'b' }, { attempts: 2, backoffMs: 10 });
      await until('both jobs to be dead', async () => (await q(backend, 'mailers')).dead === 2);
      assert.equal(runs.length, 4);
      failing = false;

      assert.equal(await backend.retryDead('mailers', 'no-such-id'), 0);
      assert.equal(await backend.retryDead('mailers', '123456789'), 0);
      assert.equal(await backend.retryDead('default', a.id), 0, 'another queue');
      assert.equal(await backend.retryDead('mailers', a.id), 1);
      await until('a to complete', async () => (await q(backend, 'mailers')).completed === 1);
      const rerun = runs[4]!.job;
      assert.equal(rerun.id, a.id);
      assert.equal(rerun.attempt, 1);
      assert.equal(rerun.maxAttempts, 2);
      assert.deepEqual(
        (await backend.dead('mailers')).map((d) => d.id),
        [b.id],
      );

      assert.equal(await backend.retryDead('mailers'), 1);
      await until('b to complete', async () => (await q(backend, 'mailers')).completed === 2);
      assert.deepEqual(await backend.dead('mailers'), []);
      assert.equal(await backend.retryDead('mailers'), 0);
      assert.deepEqual(await q(backend, 'mailers'), { ...zero, completed: 2 });
    });

    test('clearDead deletes dead jobs, one or all', async () => {
      const backend = open();
      backend.work(
        ['default'],
        async () => {
          throw new Error('nope');
        },
        { concurrency: 3 },
      );
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push((await backend.enqueue('default', 'x', { i })).id);
      await until('three dead jobs', async () => (await q(backend, 'default')).dead === 3);
      assert.equal(await backend.clearDead('push'), 0, 'another queue');
      assert.equal(await backend.clearDead('default', ids[0]), 1);
      assert.equal(await backend.clearDead('default', ids[0]), 0);
      assert.deepEqual((await backend.dead('default')).map((d) => d.id).sort(), [ids[1], ids[2]].sort());
      assert.equal(await backend.clearDead('default'), 2);
      assert.deepEqual(await backend.dead('default'), []);
      assert.deepEqual(await q(backend, 'default'), zero);
    });

    test('counts jobs per queue and state', async () => {
      const backend = open();
      const hold = gate();
      releases.push(hold.open);
      backend.work(
        ['pull', 'push'],
        async (job) => {
          if (job.name === 'hold') await hold.wait;
          if (job.name === 'fail') throw new Error('x');
        },
        { concurrency: 1 },
      );
      await backend.enqueue('push', 'ok', null);
      await backend.enqueue('push', 'fail', null);
      await until('push done', async () => {
        const c = await q(backend, 'push');
        return c.completed === 1 && c.dead === 1;
      });
      await backend.enqueue('pull', 'hold', null);
      await until('the hold job to be active', async () => (await q(backend, 'pull')).active === 1);
      await backend.enqueue('pull', 'queued', null);
      await backend.enqueue('pull', 'queued', null);
      await backend.enqueue('pull', 'later', null, { delayMs: 60_000 });
      const counts: QueueCounts = await backend.counts();
      assert.deepEqual(Object.keys(counts).sort(), [...QUEUE_NAMES].sort());
      assert.deepEqual(counts, {
        ...Object.fromEntries(QUEUE_NAMES.map((n) => [n, zero])),
        pull: { waiting: 2, delayed: 1, active: 1, completed: 0, dead: 0 },
        push: { waiting: 0, delayed: 0, active: 0, completed: 1, dead: 1 },
      });
      hold.open();
      await until('the pull jobs to complete', async () => (await q(backend, 'pull')).completed === 3);
      assert.deepEqual(await q(backend, 'pull'), { ...zero, delayed: 1, completed: 3 });
    });

    test('a periodic job declared by two processes runs once per period', async () => {
      const everyMs = 400;
      const a = open();
      const b = open();
      const { runs, handler } = recorder();
      const wa = a.work(['scheduler'], handler, { concurrency: 2 });
      const wb = b.work(['scheduler'], handler, { concurrency: 2 });
      const t0 = Date.now();
      await a.schedule({ queue: 'scheduler', name: 'tick', everyMs, data: { x: 1 } });
      await b.schedule({ queue: 'scheduler', name: 'tick', everyMs, data: { x: 1 } });
      await until('four runs', () => runs.length >= 4);
      await Promise.all([wa.close(), wb.close()]);
      const t1 = Date.now();
      const periods = Math.floor(t1 / everyMs) - Math.floor(t0 / everyMs) + 1;
      assert.ok(runs.length <= periods, `${runs.length} runs in ${periods} periods`);
      for (const run of runs) {
        assert.equal(run.job.name, 'tick');
        assert.deepEqual(run.job.data, { x: 1 });
      }
    });

    test('close waits for a running job to finish', async () => {
      const backend = open();
      let finished = false;
      const { runs, handler } = recorder(async () => {
        await sleep(400);
        finished = true;
      });
      const worker = backend.work(['default'], handler, { concurrency: 1 });
      await backend.enqueue('default', 'slow', null);
      await until('the job to start', () => runs.length === 1);
      await worker.close(5000);
      assert.equal(finished, true, 'close returned before the job finished');
      assert.deepEqual(await q(backend, 'default'), { ...zero, completed: 1 });
      await backend.enqueue('default', 'after-close', null);
      await sleep(300);
      assert.equal(runs.length, 1, 'a closed worker takes no more jobs');
    });

    test('close hands back a job still running at the timeout, to run again', async () => {
      const backend = open();
      const hold = gate();
      releases.push(hold.open);
      const first = recorder(() => hold.wait);
      const worker = backend.work(['push'], first.handler, { concurrency: 1 });
      const { id } = await backend.enqueue('push', 'stuck', { n: 1 }, { attempts: 1 });
      await until('the job to start', () => first.runs.length === 1);
      const t = Date.now();
      await worker.close(200);
      assert.ok(Date.now() - t < 3000, 'close did not give up at its timeout');
      assert.deepEqual(await q(backend, 'push'), { ...zero, waiting: 1 });

      const second = recorder();
      backend.work(['push'], second.handler, { concurrency: 1 });
      await until('the job to run again', async () => (await q(backend, 'push')).completed === 1);
      assert.equal(second.runs.length, 1);
      assert.equal(second.runs[0]!.job.id, id);
      assert.equal(second.runs[0]!.job.attempt, 1, 'the interrupted try is not counted');
      hold.open(); // the abandoned handler finishing late changes nothing
      await sleep(200);
      assert.deepEqual(await q(backend, 'push'), { ...zero, completed: 1 });
    });

    test('a job left active by a crashed worker runs again', async () => {
      await store.strand('pull', 'orphan', { n: 7 });
      const backend = open();
      const { runs, handler } = recorder();
      backend.work(['pull'], handler, { concurrency: 1 });
      await until('the orphaned job to run', async () => (await q(backend, 'pull')).completed === 1, 15_000);
      assert.equal(runs.length, 1);
      assert.equal(runs[0]!.job.name, 'orphan');
      assert.deepEqual(runs[0]!.job.data, { n: 7 });
    });

    test('runs up to `concurrency` jobs of a queue at once', async () => {
      const backend = open();
      const hold = gate();
      releases.push(hold.open);
      let running = 0;
      let most = 0;
      const { runs, handler } = recorder(async () => {
        running++;
        most = Math.max(most, running);
        await hold.wait;
        running--;
      });
      backend.work(['ingress'], handler, { concurrency: 3 });
      for (let i = 0; i < 5; i++) await backend.enqueue('ingress', 'n', { i });
      await until('three jobs running', () => running === 3);
      await sleep(300);
      assert.equal(most, 3);
      assert.equal((await q(backend, 'ingress')).active, 3);
      hold.open();
      await until('all five to complete', async () => (await q(backend, 'ingress')).completed === 5);
      assert.equal(most, 3);
      assert.equal(runs.length, 5);
    });

    test('jobs survive the process: enqueued, closed, run by a new backend', async () => {
      const a = open();
      const { id } = await a.enqueue('mailers', 'welcome', { to: 'a@example.test' }, { attempts: 2 });
      await a.close();
      const b = open();
      const { runs, handler } = recorder();
      b.work(['mailers'], handler, { concurrency: 1 });
      await until('the job to run', () => runs.length === 1);
      assert.equal(runs[0]!.job.id, id);
      assert.deepEqual(runs[0]!.job.data, { to: 'a@example.test' });
    });
  });
}

// --- the database backend (PGlite, or PostgreSQL when DATABASE_URL is set) ----------------------

contract('DatabaseQueue', async () => {
  const db = await createTestDatabase();
  return {
    open: () => new DatabaseQueue(db.database, { pollIntervalMs: 50 }),
    async strand(queue, name, data) {
      await db.database.query(
        `INSERT INTO jobs (id, queue, name, data, state, attempts, max_attempts, locked_by, locked_until, run_at)
         VALUES ($1::bigint, $2, $3, $4::text::jsonb, 'active', 1, 1, 'crashed-host:1:dead/1',
                 now() - interval '1 second', now() - interval '5 minutes')`,
        [newId(), queue, name, JSON.stringify(data)],
      );
    },
    async reset() {
      await db.database.query('DELETE FROM jobs');
    },
    close: () => db.close(),
  };
});

describe('DatabaseQueue specifics', () => {
  let db: TestDatabase;
  const opened: DatabaseQueue[] = [];
  const open = (options: ConstructorParameters<typeof DatabaseQueue>[1] = {}): DatabaseQueue => {
    const backend = new DatabaseQueue(db.database, options);
    opened.push(backend);
    return backend;
  };
  before(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((b) => b.close()));
    await db.database.query('DELETE FROM jobs');
  });
  after(async () => {
    await db?.close();
  });

  test('an enqueue in this process wakes an idle worker without waiting for the poll', async () => {
    const backend = open({ pollIntervalMs: 60_000 });
    const { runs, handler } = recorder();
    backend.work(['default'], handler, { concurrency: 1 });
    await sleep(150); // the worker is asleep now
    await backend.enqueue('default', 'now', null);
    await until('the job to run', () => runs.length === 1, 2000);
  });

  test('a delayed job is picked up when due, not at the next poll', async () => {
    const backend = open({ pollIntervalMs: 60_000 });
    const { runs, handler } = recorder();
    backend.work(['default'], handler, { concurrency: 1 });
    await backend.enqueue('default', 'soon', null, { delayMs: 300 });
    await until('the job to run', () => runs.length === 1, 3000);
  });

  test('a running job keeps its lease: another worker does not take it', async () => {
    const a = open({ leaseMs: 300, pollIntervalMs: 50 });
    const b = open({ leaseMs: 300, pollIntervalMs: 50 });
    const { runs, handler } = recorder(() => sleep(1200));
    a.work(['pull'], handler, { concurrency: 1 });
    await a.enqueue('pull', 'long', null);
    await until('the job to start', () => runs.length === 1);
    b.work(['pull'], handler, { concurrency: 1 });
    await until('the job to complete', async () => (await a.counts()).pull.completed === 1);
    assert.equal(runs.length, 1, 'the job ran twice: its lease was not renewed');
  });

  test('a job whose lease expired twice in a row is dead, not run a third time', async () => {
    await db.database.query(
      `INSERT INTO jobs (id, queue, name, data, state, attempts, max_attempts, locked_by, locked_until, last_error)
       VALUES ($1::bigint, 'pull', 'poison', 'null', 'active', 1, 3, 'h:1:x/9', now() - interval '1 second',
               'lease expired: h:1:x/3 stopped renewing it')`,
      [newId()],
    );
    const backend = open({ pollIntervalMs: 50 });
    const { runs, handler } = recorder();
    backend.work(['pull'], handler, { concurrency: 1 });
    await until('the job to be dead', async () => (await backend.counts()).pull.dead === 1);
    await sleep(150);
    assert.equal(runs.length, 0);
    assert.match((await backend.dead('pull'))[0]?.error ?? '', /^lease expired: h:1:x\/9/);
  });

  test('prune deletes completed jobs older than an hour or beyond 1,000 per queue', async () => {
    const insert = (queue: string, state: string, finishedAgo: string, n = 1) =>
      db.database.query(
        `INSERT INTO jobs (id, queue, name, data, state, finished_at)
         SELECT ($1::bigint + g), $2, 'j', 'null', $3, now() - $4::interval - g * interval '1 millisecond'
         FROM generate_series(1, $5::int) g`,
        [newId(), queue, state, finishedAgo, n],
      );
    await insert('default', 'completed', '2 hours', 2);
    await insert('default', 'completed', '1 minute', 1);
    await insert('default', 'dead', '3 hours', 1);
    await insert('push', 'completed', '1 second', 1003);
    const backend = open();
    assert.equal(await backend.prune(), 2 + 3);
    const counts = await backend.counts();
    assert.deepEqual(counts.default, { ...zero, completed: 1, dead: 1 });
    assert.equal(counts.push.completed, 1000);
    assert.equal(await backend.prune(), 0);
  });

  test('periodic jobs use one key per period slot', async () => {
    const backend = open();
    const everyMs = 3_600_000;
    await backend.schedule({ queue: 'scheduler', name: 'hourly', everyMs });
    await backend.schedule({ queue: 'scheduler', name: 'hourly', everyMs });
    const rows = await db.database.query<{ key: string }>('SELECT key FROM jobs');
    assert.deepEqual(
      rows.map((r) => r.key),
      [`periodic:hourly:${Math.floor(Date.now() / everyMs)}`],
    );
  });
});

// --- the BullMQ backend (REDIS_URL or REDIS_HOST) ------------------------------------------------

const redisConfig = testRedisConfig();

if (redisConfig === undefined) {
  test('BullMQ queue contract', { skip: 'REDIS_URL not set: BullMQ variant skipped' }, () => {});
} else {
  const config: RedisConfig = redisConfig;
  contract('BullMqQueue', async () => {
    const prefix = `woolly-test-${randomBytes(6).toString('hex')}`;
    const admin = createRedisClient(config, { name: 'woolly:test:queue' });
    const deleteKeys = async () => {
      let cursor = '0';
      do {
        const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await admin.del(...keys);
      } while (cursor !== '0');
    };
    return {
      open: () => new BullMqQueue(config, { prefix, lockDurationMs: 2000, stalledIntervalMs: 400 }),
      async strand(queue, name, data) {
        // A worker takes the job (lock of 300 ms) and dies: nobody renews the lock.
        const connection = createRedisClient(config, { maxRetriesPerRequest: null });
        const bullQueue = new Queue(queue, { connection, prefix });
        await bullQueue.add(name, data);
        const worker = new BullWorker(queue, null, { connection, prefix, autorun: false, lockDuration: 300 });
        const job = await worker.getNextJob('crashed-worker-token', { block: false });
        assert.ok(job, 'the stranding worker got no job');
        await worker.close(true);
        await bullQueue.close();
        await closeRedisClient(connection);
      },
      reset: deleteKeys,
      async close() {
        await deleteKeys();
        await closeRedisClient(admin);
      },
    };
  });
}
