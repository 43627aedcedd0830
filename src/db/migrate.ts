import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Database, Executor } from './database.ts';

/**
 * Applies the committed SQL migrations in src/db/migrations (written by drizzle-kit from the schema).
 * Several processes may run this at once: a session advisory lock lets one apply while the others
 * wait, then find nothing left to do. A database that holds migrations this code does not know was
 * written by a newer Woolly and is refused untouched, as is a database that is not Woolly's at all.
 */
const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
/** Arbitrary, stable: "woolly" in ASCII. */
const LOCK_KEY = 0x776f6f6c6c79;

export interface Migration {
  tag: string;
  statements: string[];
}

export function knownMigrations(): Migration[] {
  const journal = JSON.parse(readFileSync(`${MIGRATIONS_DIR}meta/_journal.json`, 'utf8')) as {
    entries: { idx: number; tag: string }[];
  };
  return journal.entries
    .sort((a, b) => a.idx - b.idx)
    .map(({ tag }) => ({
      tag,
      statements: readFileSync(`${MIGRATIONS_DIR}${tag}.sql`, 'utf8')
        .split('--> statement-breakpoint')
        .map((s) => s.trim())
        .filter(Boolean),
    }));
}

export class SchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaError';
  }
}

export interface MigrationStatus {
  applied: { tag: string; appliedAt: Date }[];
  pending: string[];
  /** Applied migrations this code does not know: the database is newer than the code. */
  unknown: string[];
  /** The database has tables but no migration history: it is not Woolly's. */
  foreign: boolean;
}

async function readStatus(conn: Executor): Promise<MigrationStatus> {
  const [{ exists }] = (await conn.query<{ exists: boolean }>(
    "select to_regclass('public.woolly_migrations') is not null as exists",
  )) as [{ exists: boolean }];
  const known = knownMigrations().map((m) => m.tag);
  if (!exists) {
    const tables = await conn.query<{ n: string | number }>(
      "select count(*) as n from information_schema.tables where table_schema = 'public'",
    );
    return { applied: [], pending: known, unknown: [], foreign: Number(tables[0]?.n ?? 0) > 0 };
  }
  const rows = await conn.query<{ tag: string; applied_at: Date }>(
    'select tag, applied_at from woolly_migrations order by tag',
  );
  const applied = rows.map((r) => ({ tag: r.tag, appliedAt: new Date(r.applied_at) }));
  const appliedTags = new Set(applied.map((a) => a.tag));
  return {
    applied,
    pending: known.filter((t) => !appliedTags.has(t)),
    unknown: applied.map((a) => a.tag).filter((t) => !known.includes(t)),
    foreign: false,
  };
}

export async function migrationStatus(database: Database): Promise<MigrationStatus> {
  return database.withConnection(readStatus);
}

function refuseIfUnusable(status: MigrationStatus): void {
  if (status.foreign) {
    throw new SchemaError(
      'This database already has tables but no Woolly migration history: it is not a Woolly database. Refusing to touch it; point Woolly at an empty database.',
    );
  }
  if (status.unknown.length > 0) {
    throw new SchemaError(
      `This database was migrated by a newer Woolly (it has ${status.unknown.join(', ')}, which this version does not know). Refusing to run on it: upgrade Woolly.`,
    );
  }
}

/** Checks that the database can be used by this code as it is (start-up of roles that do not migrate). */
export async function assertSchemaCurrent(database: Database): Promise<void> {
  const status = await migrationStatus(database);
  refuseIfUnusable(status);
  if (status.pending.length > 0) {
    throw new SchemaError(
      `The database schema is behind (${status.pending.length} pending migrations): run \`woolly db migrate\` first.`,
    );
  }
}

/** Applies pending migrations; returns the tags applied by this call. */
export async function migrate(database: Database, log: (line: string) => void = () => {}): Promise<string[]> {
  return database.withConnection(async (conn) => {
    await conn.query('select pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      const status = await readStatus(conn);
      refuseIfUnusable(status);
      if (status.pending.length === 0) return [];
      await conn.exec(
        'create table if not exists woolly_migrations (tag text primary key, applied_at timestamptz not null default now())',
      );
      const applied: string[] = [];
      for (const migration of knownMigrations().filter((m) => status.pending.includes(m.tag))) {
        log(`applying migration ${migration.tag}`);
        await conn.exec('begin');
        try {
          for (const statement of migration.statements) await conn.exec(statement);
          await conn.query('insert into woolly_migrations (tag) values ($1)', [migration.tag]);
          await conn.exec('commit');
        } catch (error) {
          await conn.exec('rollback');
          throw new SchemaError(`migration ${migration.tag} failed: ${(error as Error).message}`);
        }
        applied.push(migration.tag);
      }
      return applied;
    } finally {
      await conn.query('select pg_advisory_unlock($1)', [LOCK_KEY]);
    }
  });
}
