import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { paths } from '../../src/config/data-dir-layout.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { acquireLock, DataDirLockedError, lockOwner, prepareDataDir } from '../../src/db/data-dir.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'woolly-datadir-'));

describe('the data directory', () => {
  it('is created with its marker when new or empty', () => {
    const dir = join(tmp(), 'data');
    assert.deepEqual(prepareDataDir(dir), { created: true });
    assert.ok(existsSync(paths(dir).marker));
    assert.deepEqual(prepareDataDir(dir), { created: false });
  });

  it('is refused untouched when it holds files but is not Woolly’s', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'important.txt'), 'do not touch');
    assert.throws(
      () => prepareDataDir(dir),
      (e: unknown) => e instanceof ConfigError && /not a Woolly data directory/.test(e.message),
    );
    assert.deepEqual(readdirSync(dir), ['important.txt']);
  });

  it('has one owner at a time; a second is refused with who holds it', () => {
    const dir = tmp();
    prepareDataDir(dir);
    const release = acquireLock(dir, 'start');
    try {
      assert.throws(
        () => acquireLock(dir, 'start'),
        (e: unknown) => e instanceof DataDirLockedError && e.owner.pid === process.pid,
      );
      assert.equal(lockOwner(dir)?.role, 'start');
    } finally {
      release();
    }
    assert.equal(lockOwner(dir), undefined);
    acquireLock(dir, 'again')();
  });

  it('takes over the lock of a process that died', async () => {
    const dir = tmp();
    prepareDataDir(dir);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10)']);
    await new Promise((r) => child.once('exit', r));
    mkdirSync(paths(dir).run, { recursive: true });
    writeFileSync(
      paths(dir).pidFile,
      JSON.stringify({
        pid: child.pid,
        host: (await import('node:os')).hostname(),
        role: 'start',
        startedAt: new Date().toISOString(),
      }),
    );
    assert.equal(lockOwner(dir), undefined);
    const release = acquireLock(dir, 'start');
    assert.equal(lockOwner(dir)?.pid, process.pid);
    release();
  });
});
