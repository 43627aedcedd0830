import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openPGlite, wrapPGlite } from '../../src/db/pglite.ts';
import { wrapPostgres } from '../../src/db/postgres.ts';

/**
 * Each test file gets a fresh, migrated database of the shape under test:
 * - embedded: an in-memory PGlite cloned from a migrated template (initialising PGlite takes ~3 s;
 *   cloning the template's tarball takes ~0.4 s). The template is cached in the temp directory,
 *   keyed by the migrations, so all test files share it.
 * - scaled (DATABASE_URL or DB_HOST set): a new database on that server, dropped on close.
 */
export const scaled = Boolean(process.env.DATABASE_URL || process.env.DB_HOST);

export function adminUrl(): string {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const user = process.env.DB_USER ?? 'postgres';
  const pass = process.env.DB_PASS ? `:${encodeURIComponent(process.env.DB_PASS)}` : '';
  return `postgres://${user}${pass}@${process.env.DB_HOST}:${process.env.DB_PORT ?? 5432}/${process.env.DB_NAME ?? 'test'}`;
}

function migrationsHash(): string {
  const dir = new URL('../../src/db/migrations/', import.meta.url);
  const hash = createHash('sha256');
  for (const file of readdirSync(dir).sort()) {
    if (file.endsWith('.sql')) hash.update(file).update(readFileSync(new URL(file, dir)));
  }
  return hash.digest('hex').slice(0, 16);
}

async function template(): Promise<Blob> {
  const file = join(tmpdir(), `woolly-test-template-${migrationsHash()}.tar.gz`);
  if (!existsSync(file)) {
    const pg = await openPGlite({});
    await migrate(wrapPGlite(pg));
    const dump = await pg.dumpDataDir('gzip');
    await pg.close();
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
    renameSync(tmp, file); // atomic: concurrent test files never read half a template
  }
  return new Blob([readFileSync(file)]);
}

export interface TestDatabase {
  database: Database;
  /** For the scaled shape: the connection URL of this file's own database. */
  url?: string;
  close(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  if (!scaled) {
    const pg = await openPGlite({ loadDataDir: await template() });
    const database = wrapPGlite(pg);
    return { database, close: () => database.close() };
  }
  const name = `woolly_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  const sql = postgres(url.toString(), { max: 5, onnotice: () => {} });
  const database = wrapPostgres(sql, 'postgres');
  await migrate(database);
  return {
    database,
    url: url.toString(),
    async close() {
      await database.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
