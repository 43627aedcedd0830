import type { Config } from '../../config/config.ts';
import { openDatabaseForCommand } from '../../db/index.ts';
import { knownMigrations, migrate, migrationStatus } from '../../db/migrate.ts';

/** `woolly db migrate`: applies pending migrations (safe to run from several processes at once). */
export async function dbMigrate(config: Config, out: (line: string) => void): Promise<number> {
  const { database, via } = await openDatabaseForCommand(config);
  try {
    const applied = await migrate(database, out);
    out(
      applied.length === 0
        ? 'The schema is up to date.'
        : `Applied ${applied.length} migration(s)${via === 'socket' ? ' through the running server' : ''}.`,
    );
    return 0;
  } finally {
    await database.close();
  }
}

/** `woolly db status`: where the database is, and which migrations are applied or pending. */
export async function dbStatus(config: Config, out: (line: string) => void): Promise<number> {
  const { database, via } = await openDatabaseForCommand(config);
  try {
    const status = await migrationStatus(database);
    const where =
      config.database.kind === 'pglite'
        ? `embedded PGlite in ${config.database.dataDir}${via === 'socket' ? ' (through the running server)' : ''}`
        : `PostgreSQL ${config.database.url ? '(DATABASE_URL)' : `${config.database.host}:${config.database.port}/${config.database.name}`}`;
    out(`database: ${where}`);
    const [{ version }] = (await database.query<{ version: string }>('select version()')) as [
      { version: string },
    ];
    out(`server:   ${version.split(' on ')[0]}`);
    if (status.foreign) {
      out('state:    NOT a Woolly database (it has tables but no Woolly migration history)');
      return 1;
    }
    for (const m of knownMigrations()) {
      const applied = status.applied.find((a) => a.tag === m.tag);
      out(
        `  ${applied ? 'applied' : 'pending'}  ${m.tag}${applied ? `  (${applied.appliedAt.toISOString()})` : ''}`,
      );
    }
    for (const tag of status.unknown) out(`  NEWER    ${tag}  (written by a newer Woolly)`);
    if (status.unknown.length > 0) {
      out('state:    written by a newer Woolly: upgrade before running this version');
      return 1;
    }
    out(
      status.pending.length === 0
        ? 'state:    up to date'
        : `state:    ${status.pending.length} pending (run \`woolly db migrate\`)`,
    );
    return 0;
  } finally {
    await database.close();
  }
}

/**
 * `woolly db export`: the embedded database as SQL on standard output, and on standard error a note
 * that the media files are not in it, and where they are (a move copies them separately).
 */
export async function dbExport(
  config: Config,
  write: (sql: string) => void,
  say: (line: string) => void,
): Promise<number> {
  if (config.database.kind !== 'pglite') {
    say('woolly db export dumps the embedded database; with PostgreSQL configured, use pg_dump');
    return 1;
  }
  // pg_dump (WebAssembly) is loaded only by this command.
  const { exportDatabase } = await import('../../db/export.ts');
  write(await exportDatabase(config));
  say(mediaNote(config));
  return 0;
}

export function mediaNote(config: Pick<Config, 'storage'>): string {
  const storage = config.storage;
  const where =
    storage.kind === 'local'
      ? `in ${storage.root}: copy that folder along with the dump`
      : `in the S3 bucket ${storage.bucket}${storage.keyPrefix ? ` (under ${storage.keyPrefix}/)` : ''}, which stays where it is`;
  return `Note: media files are not in this dump. They are ${where} (see docs/media.md).`;
}
