import { existsSync, rmSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { drizzle } from 'drizzle-orm/pglite';
import type { Database, Db, Executor } from './database.ts';
import * as schema from './schema/index.ts';

/**
 * PGlite's default start parameters turn fsync off (`-F`) and use 128 MB of shared buffers. We keep
 * the rest of its defaults but leave fsync on (a crash must not lose committed data) and use 16 MB of
 * shared buffers, which lowers idle memory by ~100 MB (DESIGN.md §9).
 */
export const PGLITE_START_PARAMS = [
  '--single',
  '-O',
  '-j',
  '-c',
  'search_path=public',
  '-c',
  'exit_on_error=false',
  '-c',
  'log_checkpoints=false',
  '-c',
  'max_worker_processes=0',
  '-c',
  'max_parallel_workers=0',
  '-c',
  'max_parallel_workers_per_gather=0',
  '-c',
  'io_method=sync',
  '-c',
  'max_parallel_maintenance_workers=0',
  '-c',
  'shared_buffers=16MB',
];

export interface PGliteOptions {
  /** Directory of the database; omit for an in-memory one. */
  dataDir?: string;
  /** A tarball from `dumpDataDir()` to start from (tests clone a migrated database this way). */
  loadDataDir?: Blob | File;
}

/** int8 as a decimal string, as postgres.js returns it, so code sees one type from both drivers. */
const parsers = { 20: (value: string) => value };

export async function openPGlite(options: PGliteOptions): Promise<PGlite> {
  const pg = new PGlite({
    dataDir: options.dataDir,
    loadDataDir: options.loadDataDir,
    startParams: PGLITE_START_PARAMS,
    parsers,
  });
  await pg.waitReady;
  return pg;
}

/**
 * A Database over an open PGlite. The owner passes the gated client (src/db/pglite-gate.ts) so that
 * its queries wait while a `woolly` command has the database lent; `raw` is then the PGlite itself,
 * closed on close.
 */
export function wrapPGlite(pg: PGlite, onClose?: () => Promise<void> | void, raw: PGlite = pg): Database {
  const db = drizzle(pg, { schema }) as unknown as Db;
  const executor: Executor = {
    query: async <T>(text: string, params: unknown[] = []) => (await pg.query<T>(text, params)).rows,
    exec: async (text: string) => {
      await pg.exec(text);
    },
  };
  return {
    kind: 'pglite',
    db,
    query: executor.query,
    exec: executor.exec,
    // PGlite is one session; its own queue serialises callers.
    withConnection: (fn) => fn(executor),
    transaction: (fn) => db.transaction(fn),
    async close() {
      await onClose?.();
      if (!raw.closed) await raw.close();
    },
  };
}

/**
 * Serves an open PGlite over the PostgreSQL wire protocol on a Unix socket, so that `woolly`
 * commands and psql reach the database while the server owns it (PGlite allows one process only).
 */
export async function serveSocket(pg: PGlite, socketPath: string): Promise<PGLiteSocketServer> {
  if (existsSync(socketPath)) rmSync(socketPath, { force: true }); // left by a process that died
  if (Buffer.byteLength(socketPath) > 100) {
    throw new Error(
      `the socket path ${socketPath} is too long for a Unix socket (100 bytes at most): use a shorter WOOLLY_DATA_DIR`,
    );
  }
  const server = new PGLiteSocketServer({ db: pg, path: socketPath, maxConnections: 32 });
  await server.start();
  return server;
}
