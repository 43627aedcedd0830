import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openWs } from '../streaming/clients.ts';
import {
  cleanEnv,
  freePort,
  heldPort,
  runWoolly,
  runWoollyInProcess,
  type Server,
  startWoolly,
  tempDir,
} from '../support/cli.ts';

/** A start that must be refused, in-process; a held port stops one that wrongly goes on. */
const refusedStart = async (env: Record<string, string>) =>
  runWoollyInProcess(['start'], { env: { ...env, PORT: String(await heldPort()) } });

/**
 * `woolly start` on the embedded shape, as a newcomer runs it: one process, a data directory. The
 * server runs in a process of its own (and so does one refused start); the commands beside it run
 * in-process (runWoollyInProcess), reaching the server through its sockets as another process does.
 */
describe('woolly start (embedded shape)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let server: Server;

  before(async () => {
    dataDir = join(tempDir(), 'data');
    env = cleanEnv({ WOOLLY_DATA_DIR: dataDir, PORT: String(await freePort()) });
    server = await startWoolly(['start'], env);
  });
  after(async () => {
    await server?.stop();
  });

  it('serves /health and the instance, and says the domain is permanent on the first start', async () => {
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), 'OK');
    const instance = (await (await fetch(`${server.url}/api/v2/instance`)).json()) as { domain: string };
    assert.equal(instance.domain, 'localhost:3000');
    assert.match(server.output(), /permanent/);
  });

  it('keeps its generated secrets, database and run files under the data directory', () => {
    for (const f of ['woolly.json', 'secrets.env', 'db', 'run/woolly.pid', 'run/.s.PGSQL.5432']) {
      assert.ok(existsSync(join(dataDir, f)), f);
    }
  });

  it('refuses a second start on the same data directory', async () => {
    const r = await refusedStart(env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /in use by another Woolly process/);
  });

  it('lets commands reach the database through the running server', async () => {
    const status = await runWoollyInProcess(['db', 'status'], { env });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /through the running server/);
    assert.match(status.stdout, /state:\s+up to date/);
    const queues = await runWoollyInProcess(['queues'], { env });
    assert.equal(queues.code, 0, queues.stderr);
    assert.match(queues.stdout, /default/);
    const set = await runWoollyInProcess(['settings', 'set', 'site_title', 'Woolly Test Server'], { env });
    assert.equal(set.code, 0, set.stderr);
    // Settings are cached for five seconds in the server: the change shows within them.
    const deadline = Date.now() + 6000;
    for (;;) {
      const instance = (await (await fetch(`${server.url}/api/v1/instance`)).json()) as { title: string };
      if (instance.title === 'Woolly Test Server') break;
      assert.ok(Date.now() < deadline, `the title is still ${instance.title}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  it('closes the live streams of an account that a command disables', { timeout: 60_000 }, async () => {
    const created = await runWoollyInProcess(
      ['accounts', 'create', 'streamer', '--email', 'streamer@example.com', '--confirmed'],
      {
        env,
      },
    );
    assert.equal(created.code, 0, created.stderr);
    const token = await runWoollyInProcess(['accounts', 'token', 'streamer', '--scopes', 'read'], { env });
    assert.equal(token.code, 0, token.stderr);
    const ws = await openWs(`${server.url.replace(/^http/, 'ws')}/api/v1/streaming?stream=user`, {
      headers: { authorization: `Bearer ${token.stdout.trim()}` },
    });
    const disabled = await runWoollyInProcess(['accounts', 'modify', 'streamer', '--disable'], { env });
    assert.equal(disabled.code, 0, disabled.stderr);
    // The command's `kill` went through the server's control socket onto its in-process bus.
    const closed = await ws.closed;
    assert.equal(typeof closed.code, 'number');
  });

  it('refuses a malformed hand-over on its control socket, publishing nothing', async () => {
    const post = (body: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(
          { socketPath: join(dataDir, 'run', 'control.sock'), path: '/publish', method: 'POST' },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    assert.deepEqual(await post('not json'), { status: 400, text: 'invalid JSON' });
    assert.deepEqual(await post(JSON.stringify({ channel: 'timeline:public', message: 1 })), {
      status: 400,
      text: 'channel and message must be strings',
    });
    assert.equal((await post(JSON.stringify({ channel: 'test:nobody', message: '{}' }))).status, 204);
  });

  it('exports the database as SQL while running', async () => {
    const r = await runWoollyInProcess(['db', 'export'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /CREATE TABLE public\.jobs/);
    assert.match(r.stdout, /woolly_migrations/);
    assert.doesNotMatch(r.stdout, /transaction_timeout/);
  });

  it('drains and exits 0 on SIGTERM, releasing the data directory', async () => {
    assert.equal(await server.stop(), 0);
    assert.ok(!existsSync(join(dataDir, 'run/woolly.pid')));
  });

  it('refuses to restart with another LOCAL_DOMAIN', async () => {
    const r = await refusedStart({ ...env, LOCAL_DOMAIN: 'other.example' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /LOCAL_DOMAIN is other\.example, but this database belongs to localhost:3000/);
  });

  it('refuses to start on a port in use, in one clear line', async () => {
    // In its own process: a start that fails this late has opened everything, and exits at once.
    const port = await heldPort();
    const r = await runWoolly(['start'], { env: { ...env, PORT: String(port) } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^woolly: Port ${port} on 127\\.0\\.0\\.1 is already in use`, 'm'));
  });

  it('opens the database itself for commands when no server runs', async () => {
    const r = await runWoollyInProcess(['db', 'status'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /through the running server/);
  });
});

describe('a data directory that is not Woolly’s', () => {
  it('is refused with a message and left untouched', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const r = await refusedStart(cleanEnv({ WOOLLY_DATA_DIR: dir }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not a Woolly data directory/);
    assert.ok(!existsSync(join(dir, 'woolly.json')));
  });
});
