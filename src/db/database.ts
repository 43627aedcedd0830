import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type * as schema from './schema/index.ts';

/** Drizzle over Woolly's schema, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** One connection's raw SQL, for the few places that need statements Drizzle does not model. */
export interface Executor {
  /** One statement with $1… parameters; returns its rows. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Several statements without parameters (migration files). */
  exec(text: string): Promise<void>;
}

/**
 * The database, embedded (PGlite, in this process or reached through the running server's socket)
 * or PostgreSQL. Domain code uses `db` (Drizzle); `query` is for raw SQL on any pooled connection.
 */
export interface Database extends Executor {
  readonly kind: 'pglite' | 'pglite-socket' | 'postgres';
  readonly db: Db;
  /** Runs `fn` on one dedicated connection (session-level advisory locks need that). */
  withConnection<T>(fn: (conn: Executor) => Promise<T>): Promise<T>;
  /** Runs `fn` in a transaction. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * A value built once per Drizzle instance. Hot queries use it to hold prepared queries: Drizzle
 * builds their SQL once instead of on every call, and postgres.js sends them as named prepared
 * statements (one round trip, planned once per connection) where an unprepared query with
 * parameters costs a Parse/Describe round trip before its Bind/Execute one. Their SQL must not vary
 * with the input (pass lists as one array parameter: `= any($1::bigint[])`).
 */
export function perDatabase<T>(build: (db: Db) => T): (db: Db) => T {
  const built = new WeakMap<Db, T>();
  return (db) => {
    let value = built.get(db);
    if (value === undefined) {
      value = build(db);
      built.set(db, value);
    }
    return value;
  };
}
