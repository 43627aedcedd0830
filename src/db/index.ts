import { existsSync } from 'node:fs';
import type { PGlite } from '@electric-sql/pglite';
import type { Config } from '../config/config.ts';
import { paths } from '../config/data-dir-layout.ts';
import { acquireLock, lockOwner, prepareDataDir } from './data-dir.ts';
import type { Database } from './database.ts';
import type { ControlRelay } from './export.ts';

// Drivers are imported on use: a process loads PGlite or postgres.js, not both (memory, start-up).

export type { Database, Db, Executor } from './database.ts';

export interface OpenedDatabase {
  database: Database;
  /** Set when this process owns the embedded database (for `db export`). */
  pglite?: PGlite;
  /** The owner of the embedded database: what it relays for commands (set its `publish`). */
  relay?: ControlRelay;
}

/**
 * Opens the database as the owner: the process that runs the server. In the embedded shape that
 * takes the data directory's lock (a second owner is refused) and serves the PostgreSQL socket.
 */
export async function openOwnedDatabase(config: Config, role: string): Promise<OpenedDatabase> {
  if (config.database.kind === 'postgres') {
    const { openPostgres } = await import('./postgres.ts');
    return { database: openPostgres(config.database) };
  }
  prepareDataDir(config.dataDir);
  const release = acquireLock(config.dataDir, role);
  try {
    const { openPGlite, serveSocket, wrapPGlite } = await import('./pglite.ts');
    const { serveControlSocket } = await import('./export.ts');
    const { gatePGlite } = await import('./pglite-gate.ts');
    const p = paths(config.dataDir);
    const pg = await openPGlite({ dataDir: p.db });
    const gate = gatePGlite(pg);
    // The socket and the control socket use the PGlite itself; the server's own code the gated one.
    const socket = await serveSocket(pg, p.socket);
    const relay: ControlRelay = {};
    const control = await serveControlSocket(pg, config.dataDir, gate, relay);
    const database = wrapPGlite(
      gate.client,
      async () => {
        control.closeAllConnections();
        await new Promise((resolve) => control.close(resolve));
        await socket.stop();
        await pg.close();
        release();
      },
      pg,
    );
    return { database, pglite: pg, relay };
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * Opens the database for a command (`woolly db …`, `woolly queues`, …). In the embedded shape the
 * command goes through the running server's socket when one owns the data directory, and opens the
 * database itself (taking the lock) when none does.
 */
export async function openDatabaseForCommand(
  config: Config,
): Promise<OpenedDatabase & { via: 'postgres' | 'socket' | 'direct' }> {
  if (config.database.kind === 'postgres') {
    const { openPostgres } = await import('./postgres.ts');
    return { database: openPostgres(config.database), via: 'postgres' };
  }
  prepareDataDir(config.dataDir);
  const p = paths(config.dataDir);
  if (lockOwner(config.dataDir) !== undefined && existsSync(p.socket)) {
    const { default: postgres } = await import('postgres');
    const { wrapPostgres } = await import('./postgres.ts');
    const { borrowDatabase } = await import('./export.ts');
    // Hold the server's own queries while this command works (src/db/pglite-gate.ts).
    const giveBack = await borrowDatabase(config.dataDir);
    const sql = postgres({
      host: p.socketDir,
      port: 5432,
      database: 'postgres',
      username: 'postgres',
      max: 1,
      onnotice: () => {},
    });
    const database = wrapPostgres(sql, 'pglite-socket');
    const close = database.close;
    return {
      database: {
        ...database,
        async close() {
          try {
            await close();
          } finally {
            giveBack();
          }
        },
      },
      via: 'socket',
    };
  }
  const release = acquireLock(config.dataDir, 'cli');
  try {
    const { openPGlite, wrapPGlite } = await import('./pglite.ts');
    const pg = await openPGlite({ dataDir: p.db });
    return { database: wrapPGlite(pg, release), pglite: pg, via: 'direct' };
  } catch (error) {
    release();
    throw error;
  }
}
