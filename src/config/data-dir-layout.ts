import { join } from 'node:path';

/**
 * The layout of WOOLLY_DATA_DIR (docs/architecture.md, "The embedded database"): the marker that
 * says the folder is Woolly's, the generated secrets, the embedded database, and the run folder with
 * the owner's lock and sockets. Configuration reads the secrets file from here; src/db/data-dir.ts
 * owns the folder itself (its creation, its lock).
 */
export const MARKER = 'woolly.json';

export const paths = (dataDir: string) => ({
  marker: join(dataDir, MARKER),
  secrets: join(dataDir, 'secrets.env'),
  db: join(dataDir, 'db'),
  run: join(dataDir, 'run'),
  pidFile: join(dataDir, 'run', 'woolly.pid'),
  socketDir: join(dataDir, 'run'),
  socket: join(dataDir, 'run', '.s.PGSQL.5432'),
});
