import type { Config } from '../../config/config.ts';
import { SECRET_VARIABLES } from '../../config/variables.ts';

/** Masks a secret so an operator can tell which value is set without seeing it. */
export function mask(value: string): string {
  if (value.length <= 8) return '********';
  return `${value.slice(0, 2)}…${'*'.repeat(6)}…(${value.length} chars)`;
}

function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '********';
    return u.toString();
  } catch {
    return mask(url);
  }
}

/** `woolly config`: the effective configuration, secrets masked. */
export function describeConfig(config: Config): string[] {
  const lines: string[] = [];
  const row = (key: string, value: unknown) =>
    lines.push(`${key.padEnd(28)} ${value === undefined ? '(unset)' : String(value)}`);
  lines.push(`# Woolly configuration (${config.shape} shape)`);
  lines.push(`# read from: ${config.envFiles.length ? config.envFiles.join(', ') : 'the environment only'}`);
  row('LOCAL_DOMAIN', config.localDomain + (config.localDomainDefaulted ? '   (embedded default)' : ''));
  row('WEB_DOMAIN', config.webDomain);
  row('public URL', config.baseUrl);
  row('ALTERNATE_DOMAINS', config.alternateDomains.join(', ') || '(none)');
  row('BIND:PORT', `${config.http.bind}:${config.http.port}`);
  row('STREAMING_API_BASE_URL', config.streaming.baseUrl);
  row('TRUSTED_PROXY_IP', config.http.trustedProxies.join(', ') || '(loopback only)');
  row('WOOLLY_DATA_DIR', config.dataDir);
  row('LOG_LEVEL', config.logLevel);
  row('SIDEKIQ_CONCURRENCY', config.workerConcurrency);
  const db = config.database;
  if (db.kind === 'pglite') row('database', `embedded PGlite in ${db.dataDir}`);
  else if (db.url) row('database', `PostgreSQL ${maskUrl(db.url)} (pool ${db.pool}, sslmode ${db.sslmode})`);
  else
    row(
      'database',
      `PostgreSQL ${db.user}${db.password ? ':********' : ''}@${db.host}:${db.port}/${db.name} (pool ${db.pool}, sslmode ${db.sslmode})`,
    );
  const r = config.redis;
  if (!r) row('redis', 'none: in-process queues, pub/sub and cache');
  else
    row(
      'redis',
      r.url
        ? maskUrl(r.url)
        : `${r.username ?? ''}${r.password ? ':********@' : r.username ? '@' : ''}${r.host}:${r.port}/${r.db}`,
    );
  const s = config.storage;
  if (s.kind === 'local') row('media', `local files in ${s.root}, served at ${s.cdnHost ?? ''}${s.urlPath}`);
  else
    row(
      'media',
      `S3 bucket ${s.bucket} (${s.endpoint ?? `AWS ${s.region}`})${s.accessKeyId ? `, key ${s.accessKeyId}` : ''}${s.secretAccessKey ? ', secret ********' : ''}`,
    );
  const m = config.mail;
  if (m.kind === 'file') row('mail', `written to ${m.dir} (no SMTP_SERVER), from ${m.from}`);
  else
    row(
      'mail',
      `SMTP ${m.user ? `${m.user}${m.password ? ':********' : ''}@` : ''}${m.host}:${m.port}, from ${m.from}`,
    );
  for (const [name, value] of Object.entries(config.secretsFromEnv)) {
    if (value) row(name, SECRET_VARIABLES.has(name) ? mask(value) : value);
  }
  const missing = ['SECRET_KEY_BASE', 'VAPID_PRIVATE_KEY'].filter((n) => !(n in config.secretsFromEnv));
  if (missing.length && config.shape === 'embedded')
    lines.push(`# secrets not in the environment come from ${config.dataDir}/secrets.env`);
  return lines;
}
