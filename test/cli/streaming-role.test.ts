import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openWs } from '../streaming/clients.ts';
import { freePort, runWoolly, type Server, startWoolly } from '../support/cli.ts';
import { createDeployment, type Deployment, deploymentSkip } from '../support/deployment.ts';

/** `woolly streaming` as its own process: events from the web and worker roles reach it over Redis. */
describe('woolly streaming beside woolly web and woolly worker', {
  skip: deploymentSkip,
  timeout: 120_000,
}, () => {
  let deployment: Deployment;
  let env: Record<string, string>;
  let servers: Server[];
  let streamingPort: number;

  before(async () => {
    streamingPort = await freePort();
    deployment = await createDeployment(`woolly_streaming_${process.pid}`, 13, {
      STREAMING_PORT: String(streamingPort),
      STREAMING_API_BASE_URL: `ws://127.0.0.1:${streamingPort}`,
    });
    ({ env, servers } = deployment);
    const migrated = await runWoolly(['db', 'migrate'], { env });
    assert.equal(migrated.code, 0, migrated.stderr);
  });
  after(async () => {
    await deployment?.close();
  });

  it('a WebSocket client of the streaming role receives a status posted through the web role', async () => {
    const web = await startWoolly(['web'], { ...env, PORT: String(await freePort()) });
    servers.push(web);
    // startWoolly waits for /health on PORT: the streaming role answers it on STREAMING_PORT.
    const streaming = await startWoolly(['streaming'], { ...env, PORT: String(streamingPort) });
    servers.push(streaming);
    const worker = await startWoolly(['worker'], { ...env, PORT: '1' });
    servers.push(worker);

    const created = await runWoolly(
      ['accounts', 'create', 'alice', '--email', 'a@scaled.example', '--confirmed'],
      {
        env,
      },
    );
    assert.equal(created.code, 0, created.stderr);
    const issued = await runWoolly(['accounts', 'token', 'alice'], { env });
    assert.equal(issued.code, 0, issued.stderr);
    const token = issued.stdout.trim().split('\n').pop()!;

    assert.equal((await fetch(`${streaming.url}/api/v1/streaming/health`)).status, 200);
    // The web role alone sends streaming clients to the streaming role, as Rails does.
    const redirect = await fetch(`${web.url}/api/v1/streaming/public?x=1`, { redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.equal(
      redirect.headers.get('location'),
      `http://127.0.0.1:${streamingPort}/api/v1/streaming/public?x=1`,
    );

    const client = await openWs(`ws://127.0.0.1:${streamingPort}/api/v1/streaming?stream=public:local`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const posted = await fetch(`${web.url}/api/v1/statuses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'across processes', visibility: 'public' }),
    });
    assert.equal(posted.status, 200, await posted.clone().text());
    const { id } = (await posted.json()) as { id: string };
    const frame = await client.next();
    assert.deepEqual(frame.stream, ['public:local']);
    assert.equal(frame.event, 'update');
    assert.equal((JSON.parse(frame.payload!) as { id: string }).id, id);
    client.close();

    for (const s of servers.splice(0)) assert.equal(await s.stop(), 0, s.output());
  });
});
