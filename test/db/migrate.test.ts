import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { knownMigrations, migrate, migrationStatus, SchemaError } from '../../src/db/migrate.ts';
import { openPGlite, wrapPGlite } from '../../src/db/pglite.ts';
import { wrapPostgres } from '../../src/db/postgres.ts';
import { adminUrl, createTestDatabase, scaled, type TestDatabase } from '../support/db.ts';

describe('migrations', () => {
  let t: TestDatabase;
  before(async () => {
    t = await createTestDatabase();
  });
  after(() => t.close());

  it('leave a migrated database up to date, and a second run does nothing', async () => {
    const status = await migrationStatus(t.database);
    assert.deepEqual(status.pending, []);
    assert.deepEqual(status.unknown, []);
    assert.deepEqual(
      status.applied.map((a) => a.tag),
      knownMigrations().map((m) => m.tag),
    );
    assert.deepEqual(await migrate(t.database), []);
  });

  it('refuse a database written by a newer Woolly, touching nothing', async () => {
    await t.database.query("insert into woolly_migrations (tag) values ('9999_from_the_future')");
    try {
      await assert.rejects(
        migrate(t.database),
        (e: unknown) => e instanceof SchemaError && /newer Woolly/.test(e.message),
      );
      const status = await migrationStatus(t.database);
      assert.deepEqual(status.unknown, ['9999_from_the_future']);
    } finally {
      await t.database.query("delete from woolly_migrations where tag = '9999_from_the_future'");
    }
  });
});

describe('migrating a database that is not Woolly’s', () => {
  it('is refused and the database left as it was', async () => {
    const pg = await openPGlite({});
    const database = wrapPGlite(pg);
    try {
      await database.exec('create table users (id int primary key)');
      await assert.rejects(
        migrate(database),
        (e: unknown) => e instanceof SchemaError && /not a Woolly database/.test(e.message),
      );
      const tables = await database.query<{ table_name: string }>(
        "select table_name from information_schema.tables where table_schema = 'public'",
      );
      assert.deepEqual(
        tables.map((r) => r.table_name),
        ['users'],
      );
    } finally {
      await database.close();
    }
  });
});

describe('concurrent migrations on PostgreSQL', {
  skip: scaled ? false : 'needs PostgreSQL (DATABASE_URL): runs on the scaled shape',
}, () => {
  it('apply once while several processes race', async () => {
    const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
    const name = `woolly_race_${process.pid}`;
    await admin.unsafe(`create database ${name}`);
    const url = new URL(adminUrl());
    url.pathname = `/${name}`;
    const dbs = Array.from({ length: 4 }, () =>
      wrapPostgres(postgres(url.toString(), { max: 2, onnotice: () => {} }), 'postgres'),
    );
    try {
      const results = await Promise.all(dbs.map((d) => migrate(d)));
      const applied = results.flat();
      assert.deepEqual(
        applied,
        knownMigrations().map((m) => m.tag),
        'each migration applied exactly once across all racers',
      );
      assert.deepEqual((await migrationStatus(dbs[0]!)).pending, []);
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });
});
