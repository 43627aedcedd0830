import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { DatabaseConfig } from '../config/config.ts';
import type { Database, Db, Executor } from './database.ts';
import * as schema from './schema/index.ts';

type PostgresConfig = Extract<DatabaseConfig, { kind: 'postgres' }>;

function sslOption(mode: PostgresConfig['sslmode']): postgres.Options<Record<string, never>>['ssl'] {
  switch (mode) {
    case 'disable':
      return false;
    case 'verify-ca':
      // Certificate chain checked, host name not (libpq's meaning of verify-ca).
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
    default:
      return mode;
  }
}

/** Connection options for postgres.js from Woolly's config (DATABASE_URL wins over DB_*). */
export function postgresOptions(config: PostgresConfig): {
  url: string | undefined;
  options: postgres.Options<Record<string, never>>;
} {
  const options: postgres.Options<Record<string, never>> = {
    max: config.pool,
    onnotice: () => {},
    connection: { application_name: 'woolly' },
  };
  if (config.url === undefined) {
    Object.assign(options, {
      host: config.host,
      port: config.port,
      database: config.name,
      username: config.user,
      password: config.password,
      ssl: sslOption(config.sslmode),
    });
  } else if (!/[?&]sslmode=/.test(config.url)) {
    options.ssl = sslOption(config.sslmode);
  }
  return { url: config.url, options };
}

/** Wraps an open postgres.js client as a Database. */
export function wrapPostgres(sql: postgres.Sql, kind: 'postgres' | 'pglite-socket'): Database {
  const db = drizzle(sql, { schema }) as unknown as Db;
  const executor = (s: postgres.Sql | postgres.ReservedSql): Executor => ({
    query: async <T>(text: string, params: unknown[] = []) =>
      (await s.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as T[],
    exec: async (text: string) => {
      await s.unsafe(text);
    },
  });
  const pooled = executor(sql);
  return {
    kind,
    db,
    query: pooled.query,
    exec: pooled.exec,
    async withConnection(fn) {
      const reserved = await sql.reserve();
      try {
        return await fn(executor(reserved));
      } finally {
        reserved.release();
      }
    },
    transaction: (fn) => db.transaction(fn),
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}

export function openPostgres(config: PostgresConfig): Database {
  const { url, options } = postgresOptions(config);
  const sql = url === undefined ? postgres(options) : postgres(url, options);
  return wrapPostgres(sql, 'postgres');
}
