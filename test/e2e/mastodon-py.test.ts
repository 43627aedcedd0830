import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanEnv, freePort, runWoolly, type Server, startWoolly, tempDir } from '../support/cli.ts';

/**
 * End to end with a real client library, as DESIGN.md §9 suggests: Mastodon.py from Debian's
 * python3-mastodon (.ci/run installs it) registers an app, logs in with the password grant, and
 * uses the account endpoints and the user stream (SSE) against `woolly start`.
 */
const PYTHON = '/usr/bin/python3';
const available = spawnSync(PYTHON, ['-c', 'import mastodon'], { encoding: 'utf8' }).status === 0;
const SCRIPT = new URL('./mastodon-py.py', import.meta.url).pathname;

describe('Mastodon.py against woolly start', {
  skip: available ? false : 'python3-mastodon is not installed (apt-get install python3-mastodon)',
}, () => {
  let server: Server;
  let env: Record<string, string>;
  before(async () => {
    const port = await freePort();
    // Mastodon.py streams from the URL the instance advertises (urls.streaming_api).
    env = cleanEnv({
      WOOLLY_DATA_DIR: join(tempDir(), 'data'),
      PORT: String(port),
      STREAMING_API_BASE_URL: `ws://localhost:${port}`,
    });
    server = await startWoolly(['start'], env);
  });
  after(async () => {
    await server?.stop();
  });

  it('registers an app, logs in, reads and updates the account, revokes', async () => {
    const created = await runWoolly(
      ['accounts', 'create', 'alice', '--email', 'alice@example.test', '--confirmed'],
      { env },
    );
    assert.equal(created.code, 0, created.stderr);
    const password = /New password: (\S+)\s*$/.exec(created.stdout)?.[1];
    assert.ok(password, created.stdout);
    const r = spawnSync(PYTHON, [SCRIPT, `http://localhost:${server.port}`, 'alice@example.test', password], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    for (const step of [
      'create_app',
      'version',
      'log_in',
      'verify_credentials',
      'instance',
      'update_credentials',
      'lookup',
      'preferences',
      'stream_user',
      'media_post',
      'revoke',
    ]) {
      assert.match(r.stdout, new RegExp(`^ok ${step}$`, 'm'));
    }
  });
});
