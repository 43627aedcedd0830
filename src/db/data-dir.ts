import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { MARKER, paths } from '../config/data-dir-layout.ts';
import { ConfigError } from '../config/errors.ts';

/**
 * The embedded shape keeps everything under one data directory (WOOLLY_DATA_DIR):
 *
 *   woolly.json       marks the directory as Woolly's (never touch a directory without it)
 *   secrets.env       secrets generated on first start (mode 0600)
 *   db/               the PGlite database
 *   media/            local media files
 *   mail/             outgoing mail, when no SMTP server is configured
 *   run/woolly.pid    the lock: the process that owns the database
 *   run/.s.PGSQL.5432 the owner's PostgreSQL-protocol socket (psql and other woolly commands use it)
 */
/**
 * Makes sure `dataDir` is a Woolly data directory, creating it when it does not exist or is empty.
 * A non-empty directory without the marker is refused untouched: it may be anything.
 */
export function prepareDataDir(dataDir: string): { created: boolean } {
  const p = paths(dataDir);
  if (existsSync(p.marker)) {
    try {
      JSON.parse(readFileSync(p.marker, 'utf8'));
    } catch {
      throw new ConfigError(
        `${p.marker} is damaged: it should hold Woolly's data directory marker (JSON)`,
        'WOOLLY_DATA_DIR',
      );
    }
    mkdirSync(p.run, { recursive: true, mode: 0o700 });
    return { created: false };
  }
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new ConfigError(
      `${dataDir} is not a Woolly data directory (it has files but no ${MARKER}); refusing to touch it. Point WOOLLY_DATA_DIR at an empty or new directory.`,
      'WOOLLY_DATA_DIR',
    );
  }
  mkdirSync(p.run, { recursive: true, mode: 0o700 });
  writeFileSync(
    p.marker,
    `${JSON.stringify({ woolly: 1, createdAt: new Date().toISOString() }, null, 2)}\n`,
    { mode: 0o600 },
  );
  return { created: true };
}

export function isWoollyDataDir(dataDir: string): boolean {
  return existsSync(paths(dataDir).marker);
}

export interface LockOwner {
  pid: number;
  host: string;
  role: string;
  startedAt: string;
}

/** Who holds the data directory, if a live process does. */
export function lockOwner(dataDir: string): LockOwner | undefined {
  const file = paths(dataDir).pidFile;
  let owner: LockOwner;
  try {
    owner = JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
  if (owner.host !== hostname()) return owner; // cannot check another machine's process: assume alive
  return isAlive(owner.pid) ? owner : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class DataDirLockedError extends Error {
  readonly owner: LockOwner;
  constructor(dataDir: string, owner: LockOwner) {
    super(
      `${dataDir} is in use by another Woolly process (pid ${owner.pid}, ${owner.role}, since ${owner.startedAt}). ` +
        'Only one process may open the embedded database; stop it first, or run this command while it runs (it will go through its socket).',
    );
    this.name = 'DataDirLockedError';
    this.owner = owner;
  }
}

/**
 * Takes the data directory's lock (an exclusive-create pid file). A stale lock, left by a process
 * that died, is taken over. Returns the release function.
 */
export function acquireLock(dataDir: string, role: string): () => void {
  const file = paths(dataDir).pidFile;
  mkdirSync(paths(dataDir).run, { recursive: true, mode: 0o700 });
  const me: LockOwner = { pid: process.pid, host: hostname(), role, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeFileSync(fd, JSON.stringify(me));
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          const current = JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
          if (current.pid === process.pid) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = lockOwner(dataDir);
      if (owner !== undefined) throw new DataDirLockedError(dataDir, owner);
      rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`could not take the lock ${file}`);
}
