import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, runWoolly, type Server, startWoolly } from '../support/cli.ts';
import { createDeployment, type Deployment, deploymentSkip } from '../support/deployment.ts';

/** The scaled shape as an operator runs it: migrate once, then separate web and worker processes. */
describe('separate roles on PostgreSQL + Redis', { skip: deploymentSkip }, () => {
  let deployment: Deployment;
  let env: Record<string, string>;
  let servers: Server[];

  before(async () => {
    deployment = await createDeployment(`woolly_roles_${process.pid}`, 14);
    ({ env, servers } = deployment);
  });
  after(async () => {
    await deployment?.close();
  });

  it('refuses to start without a secret, naming it', async () => {
    const { SECRET_KEY_BASE: _dropped, ...rest } = env;
    const r = await runWoolly(['web'], { env: { ...rest, PORT: String(await freePort()) } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^woolly: SECRET_KEY_BASE is not set/m);
  });

  it('refuses to serve a schema that is behind, pointing at `woolly db migrate`', async () => {
    const r = await runWoolly(['web'], { env: { ...env, PORT: String(await freePort()) } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /woolly db migrate/);
  });

  it('migrates safely from several processes at once', async () => {
    const results = await Promise.all([
      runWoolly(['db', 'migrate'], { env }),
      runWoolly(['db', 'migrate'], { env }),
      runWoolly(['db', 'migrate'], { env }),
    ]);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.equal(
      results.filter((r) => /Applied/.test(r.stdout)).length,
      1,
      'exactly one process applied the migrations',
    );
    const status = await runWoolly(['db', 'status'], { env });
    assert.match(status.stdout, /state:\s+up to date/);
  });

  it('runs two web processes and a worker against the same PostgreSQL and Redis', async () => {
    const webA = await startWoolly(['web'], { ...env, PORT: String(await freePort()) });
    servers.push(webA);
    const webB = await startWoolly(['web'], { ...env, PORT: String(await freePort()) });
    servers.push(webB);
    const worker = await startWoolly(['worker', '--queues', 'default,scheduler', '--concurrency', '2'], {
      ...env,
      PORT: '1',
    });
    servers.push(worker);
    for (const web of [webA, webB]) {
      const instance = (await (await fetch(`${web.url}/api/v2/instance`)).json()) as { domain: string };
      assert.equal(instance.domain, 'scaled.example');
    }
    const queues = await runWoolly(['queues'], { env });
    assert.equal(queues.code, 0, queues.stderr);
    assert.match(queues.stdout, /scheduler/);
    for (const s of servers.splice(0)) assert.equal(await s.stop(), 0, s.output());
  });
});
