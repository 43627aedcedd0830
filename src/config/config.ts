import { isAbsolute, resolve } from 'node:path';
import { readEnvFiles } from './env-files.ts';
import { ConfigError } from './errors.ts';

/** Which deployment the configuration describes (DESIGN.md §1). */
export type Shape = 'embedded' | 'scaled';

export type DatabaseConfig =
  | { kind: 'pglite'; dataDir: string }
  | {
      kind: 'postgres';
      url: string | undefined;
      host: string;
      port: number;
      name: string;
      user: string;
      password: string | undefined;
      pool: number;
      sslmode: SslMode;
    };

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

export interface RedisConfig {
  url: string | undefined;
  host: string;
  port: number;
  username: string | undefined;
  password: string | undefined;
  db: number;
}

export type StorageConfig =
  | { kind: 'local'; root: string; urlPath: string; cdnHost: string | undefined }
  | {
      kind: 's3';
      bucket: string;
      region: string;
      endpoint: string | undefined;
      hostname: string | undefined;
      protocol: 'http' | 'https';
      aliasHost: string | undefined;
      pathStyle: boolean;
      keyPrefix: string;
      permission: string | undefined;
      accessKeyId: string | undefined;
      secretAccessKey: string | undefined;
    };

/** Media processing and housekeeping (the files themselves live in `storage`). */
export interface MediaConfig {
  /** ffmpeg and ffprobe: commands on PATH or absolute paths; absent ones mean image-only media. */
  ffmpegBinary: string;
  ffprobeBinary: string;
  /** ffmpeg processes one worker runs at once (each takes a core). */
  maxFfmpegProcesses: number;
  /** Days a cached remote file is kept; undefined keeps them until `woolly media remove`. */
  cacheRetentionDays: number | undefined;
}

export type MailConfig =
  | { kind: 'file'; dir: string; from: string; replyTo: string | undefined }
  | {
      kind: 'smtp';
      host: string;
      port: number;
      user: string | undefined;
      password: string | undefined;
      authMethod: 'plain' | 'login' | 'cram_md5' | 'none';
      starttls: 'auto' | 'always' | 'never';
      tls: boolean;
      verifyPeer: boolean;
      from: string;
      replyTo: string | undefined;
    };

/** Secrets as read from the environment; missing ones are filled by `resolveSecrets`. */
export interface Secrets {
  SECRET_KEY_BASE: string;
  OTP_SECRET: string | undefined;
  ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY: string;
  ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY: string;
  ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT: string;
  VAPID_PRIVATE_KEY: string;
  VAPID_PUBLIC_KEY: string;
}
export const REQUIRED_SECRETS = [
  'SECRET_KEY_BASE',
  'ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY',
  'ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY',
  'ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT',
  'VAPID_PRIVATE_KEY',
  'VAPID_PUBLIC_KEY',
] as const satisfies readonly (keyof Secrets)[];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  shape: Shape;
  /** Where the values came from: the env files that were read. */
  envFiles: string[];
  localDomain: string;
  webDomain: string;
  /** True when LOCAL_DOMAIN was not set and the embedded default was used. */
  localDomainDefaulted: boolean;
  alternateDomains: string[];
  https: boolean;
  /** `https://WEB_DOMAIN`, no trailing slash. */
  baseUrl: string;
  singleUserMode: boolean;
  defaultLocale: string;
  http: {
    port: number;
    bind: string;
    trustedProxies: string[];
    bodyLimit: number;
    /** Private addresses outbound fetches may reach anyway (IPs or CIDRs; tests, LAN peers). */
    allowedPrivateAddresses: string[];
  };
  streaming: { port: number; baseUrl: string };
  dataDir: string;
  logLevel: LogLevel;
  development: boolean;
  workerConcurrency: number;
  database: DatabaseConfig;
  redis: RedisConfig | undefined;
  storage: StorageConfig;
  media: MediaConfig;
  mail: MailConfig;
  /** Secrets found in the environment (possibly partial); see secrets.ts. */
  secretsFromEnv: Partial<Secrets>;
}

export interface LoadOptions {
  /** The environment to read; defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** Directory whose `.env.production` / `.env` are read; defaults to process.cwd(). */
  cwd?: string;
  /** Read `.env.production` / `.env` (default true). */
  readFiles?: boolean;
}

type Env = Record<string, string | undefined>;

/**
 * Reads and validates the whole configuration. Throws ConfigError naming the first variable that is
 * wrong and what it expects; nothing else in Woolly reads process.env.
 */
export function loadConfig(options: LoadOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const fromFiles = options.readFiles === false ? { values: {}, files: [] } : readEnvFiles(cwd);
  const env: Env = { ...fromFiles.values, ...(options.env ?? process.env) };
  const r = new Reader(env);

  const dataDir = resolvePath(cwd, r.string('WOOLLY_DATA_DIR') ?? './data');
  const database = readDatabase(r, dataDir);
  const shape: Shape = database.kind === 'postgres' ? 'scaled' : 'embedded';

  const localDomainRaw = r.string('LOCAL_DOMAIN');
  if (localDomainRaw !== undefined && localDomainRaw.trim() === '') {
    throw new ConfigError(
      'LOCAL_DOMAIN is empty: expected a domain name such as example.com',
      'LOCAL_DOMAIN',
    );
  }
  if (localDomainRaw === undefined && shape === 'scaled') {
    throw new ConfigError(
      'LOCAL_DOMAIN is not set: the scaled shape needs the domain of the server (e.g. LOCAL_DOMAIN=example.com)',
      'LOCAL_DOMAIN',
    );
  }
  const localDomain = r.domain('LOCAL_DOMAIN', localDomainRaw?.trim() ?? 'localhost:3000');
  const webDomain = r.domain('WEB_DOMAIN', r.string('WEB_DOMAIN')?.trim() || localDomain);
  const https = r.bool('LOCAL_HTTPS', !isLocalHost(webDomain));
  const baseUrl = `${https ? 'https' : 'http'}://${webDomain}`;

  const port = r.port('PORT', 3000);
  const bind = r.string('BIND') || '127.0.0.1';
  const streamingPort = r.port('STREAMING_PORT', 4000);
  const streamingBaseUrl =
    r.url('STREAMING_API_BASE_URL', ['ws:', 'wss:', 'http:', 'https:']) ??
    `${https ? 'wss' : 'ws'}://${webDomain}`;

  const logLevel = r.oneOf(
    'LOG_LEVEL',
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
    'info',
  );
  const nodeEnv = r.oneOf('NODE_ENV', ['production', 'development', 'test'] as const, 'production');

  const storage = readStorage(r, dataDir, cwd);
  const mail = readMail(r, dataDir, localDomain);
  const redis = readRedis(r);

  const secretsFromEnv: Partial<Secrets> = {};
  for (const name of [...REQUIRED_SECRETS, 'OTP_SECRET'] as const) {
    const value = r.string(name);
    if (value !== undefined && value.trim() !== '') secretsFromEnv[name] = value.trim();
  }

  return {
    shape,
    envFiles: fromFiles.files,
    localDomain,
    webDomain,
    localDomainDefaulted: localDomainRaw === undefined,
    alternateDomains: r.list('ALTERNATE_DOMAINS').map((d) => r.domain('ALTERNATE_DOMAINS', d)),
    https,
    baseUrl,
    singleUserMode: r.bool('SINGLE_USER_MODE', false),
    defaultLocale: r.string('DEFAULT_LOCALE') || 'en',
    http: {
      port,
      bind,
      trustedProxies: r.list('TRUSTED_PROXY_IP').map((ip) => r.ipOrCidr('TRUSTED_PROXY_IP', ip)),
      bodyLimit: r.int('WOOLLY_BODY_LIMIT', 1_048_576, { min: 1024 }),
      allowedPrivateAddresses: r
        .list('ALLOWED_PRIVATE_ADDRESSES')
        .map((ip) => r.ipOrCidr('ALLOWED_PRIVATE_ADDRESSES', ip)),
    },
    streaming: { port: streamingPort, baseUrl: streamingBaseUrl.replace(/\/+$/, '') },
    dataDir,
    logLevel,
    development: nodeEnv === 'development',
    workerConcurrency: r.int('SIDEKIQ_CONCURRENCY', 5, { min: 1, max: 1000 }),
    database,
    redis,
    storage,
    media: {
      ffmpegBinary: r.string('FFMPEG_BINARY')?.trim() || 'ffmpeg',
      ffprobeBinary: r.string('FFPROBE_BINARY')?.trim() || 'ffprobe',
      maxFfmpegProcesses: r.int('WOOLLY_MAX_FFMPEG_PROCESSES', 1, { min: 1, max: 64 }),
      cacheRetentionDays: r.string('MEDIA_CACHE_RETENTION_PERIOD')?.trim()
        ? r.int('MEDIA_CACHE_RETENTION_PERIOD', 0, { min: 1, max: 36_500 })
        : undefined,
    },
    mail,
    secretsFromEnv,
  };
}

function readDatabase(r: Reader, dataDir: string): DatabaseConfig {
  const url = r.string('DATABASE_URL')?.trim() || undefined;
  const host = r.string('DB_HOST')?.trim() || undefined;
  if (url === undefined && host === undefined) return { kind: 'pglite', dataDir: resolve(dataDir, 'db') };
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(
        'DATABASE_URL is not a URL: expected postgres://user:password@host:port/database',
        'DATABASE_URL',
      );
    }
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
      throw new ConfigError(
        `DATABASE_URL must start with postgres:// or postgresql://, got ${parsed.protocol}//`,
        'DATABASE_URL',
      );
    }
  }
  return {
    kind: 'postgres',
    url,
    host: host ?? 'localhost',
    port: r.port('DB_PORT', 5432),
    name: r.string('DB_NAME')?.trim() || 'woolly_production',
    user: r.string('DB_USER')?.trim() || 'woolly',
    password: r.string('DB_PASS') || undefined,
    pool: r.int('DB_POOL', 10, { min: 1, max: 1000 }),
    sslmode: r.oneOf(
      'DB_SSLMODE',
      ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const,
      'prefer',
    ),
  };
}

function readRedis(r: Reader): RedisConfig | undefined {
  const url = r.url('REDIS_URL', ['redis:', 'rediss:']);
  const host = r.string('REDIS_HOST')?.trim() || undefined;
  if (url === undefined && host === undefined) return undefined;
  return {
    url,
    host: host ?? 'localhost',
    port: r.port('REDIS_PORT', 6379),
    username: r.string('REDIS_USER') || undefined,
    password: r.string('REDIS_PASSWORD') || undefined,
    db: r.int('REDIS_DB', 0, { min: 0, max: 1000 }),
  };
}

function readStorage(r: Reader, dataDir: string, cwd: string): StorageConfig {
  if (!r.bool('S3_ENABLED', false)) {
    const root = r.string('PAPERCLIP_ROOT_PATH');
    return {
      kind: 'local',
      root: root ? resolvePath(cwd, root) : resolve(dataDir, 'media'),
      urlPath: `/${(r.string('PAPERCLIP_ROOT_URL') || '/system').replace(/^\/+|\/+$/g, '')}`,
      cdnHost: r.url('CDN_HOST', ['http:', 'https:'])?.replace(/\/+$/, ''),
    };
  }
  const bucket = r.string('S3_BUCKET')?.trim();
  if (!bucket) {
    throw new ConfigError(
      'S3_ENABLED is true but S3_BUCKET is not set: expected the name of the bucket',
      'S3_BUCKET',
    );
  }
  const permission = r.string('S3_PERMISSION');
  const endpoint = r.url('S3_ENDPOINT', ['http:', 'https:']);
  return {
    kind: 's3',
    bucket,
    region: r.string('S3_REGION')?.trim() || 'us-east-1',
    endpoint,
    hostname: r.string('S3_HOSTNAME')?.trim() || undefined,
    protocol: r.oneOf('S3_PROTOCOL', ['http', 'https'] as const, 'https'),
    aliasHost: r.string('S3_ALIAS_HOST')?.trim() || r.string('CLOUDFRONT_HOST')?.trim() || undefined,
    // As in Mastodon: a custom endpoint means path-style URLs unless S3_OVERRIDE_PATH_STYLE=true.
    pathStyle: endpoint !== undefined && !r.bool('S3_OVERRIDE_PATH_STYLE', false),
    keyPrefix: r.string('S3_KEY_PREFIX')?.trim() ?? '',
    permission: permission === undefined ? 'public-read' : permission.trim() || undefined,
    accessKeyId: r.string('AWS_ACCESS_KEY_ID') || undefined,
    secretAccessKey: r.string('AWS_SECRET_ACCESS_KEY') || undefined,
  };
}

function readMail(r: Reader, dataDir: string, localDomain: string): MailConfig {
  const from = r.string('SMTP_FROM_ADDRESS')?.trim() || `notifications@${localDomain.replace(/:\d+$/, '')}`;
  const replyTo = r.string('SMTP_REPLY_TO')?.trim() || undefined;
  const host = r.string('SMTP_SERVER')?.trim();
  if (!host) return { kind: 'file', dir: resolve(dataDir, 'mail'), from, replyTo };
  const tls = r.bool('SMTP_TLS', false) || r.bool('SMTP_SSL', false);
  return {
    kind: 'smtp',
    host,
    port: r.port('SMTP_PORT', tls ? 465 : 587),
    user: r.string('SMTP_LOGIN') || undefined,
    password: r.string('SMTP_PASSWORD') || undefined,
    authMethod: r.oneOf('SMTP_AUTH_METHOD', ['plain', 'login', 'cram_md5', 'none'] as const, 'plain'),
    starttls: r.oneOf('SMTP_ENABLE_STARTTLS', ['auto', 'always', 'never'] as const, 'auto'),
    tls,
    verifyPeer: r.oneOf('SMTP_OPENSSL_VERIFY_MODE', ['peer', 'none'] as const, 'peer') === 'peer',
    from,
    replyTo,
  };
}

function resolvePath(cwd: string, p: string): string {
  return isAbsolute(p) ? p : resolve(cwd, p);
}

function isLocalHost(domain: string): boolean {
  const host = domain.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host.endsWith('.localhost') || host === '127.0.0.1' || host === '::1';
}

/** Typed accessors over the raw environment; every failure names the variable. */
class Reader {
  private readonly env: Env;
  constructor(env: Env) {
    this.env = env;
  }

  string(name: string): string | undefined {
    return this.env[name];
  }

  private present(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.present(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
    throw new ConfigError(`${name}=${this.env[name]} is not a boolean: expected true or false`, name);
  }

  int(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    const value = this.present(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    const min = range.min ?? Number.MIN_SAFE_INTEGER;
    const max = range.max ?? Number.MAX_SAFE_INTEGER;
    if (!/^-?\d+$/.test(value) || n < min || n > max) {
      const bounds = range.max === undefined ? `≥ ${min}` : `${min}–${max}`;
      throw new ConfigError(
        `${name}=${this.env[name]} is not valid: expected a whole number ${bounds}`,
        name,
      );
    }
    return n;
  }

  port(name: string, fallback: number): number {
    const value = this.present(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > 65535) {
      throw new ConfigError(
        `${name}=${this.env[name]} is not a port: expected a number from 1 to 65535`,
        name,
      );
    }
    return n;
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.present(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if ((choices as readonly string[]).includes(value)) return value as T;
    throw new ConfigError(
      `${name}=${this.env[name]} is not valid: expected one of ${choices.join(', ')}`,
      name,
    );
  }

  url(name: string, protocols: string[]): string | undefined {
    const value = this.present(name);
    if (value === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ConfigError(
        `${name}=${value} is not a URL: expected ${protocols.map((p) => `${p}//…`).join(' or ')}`,
        name,
      );
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigError(
        `${name}=${value} has the wrong scheme: expected ${protocols.map((p) => `${p}//…`).join(' or ')}`,
        name,
      );
    }
    return value;
  }

  /** A host name with an optional port, lower-cased; no scheme, path or spaces. */
  domain(name: string, value: string): string {
    const lowered = value.toLowerCase();
    const ok =
      /^(\[[0-9a-f:]+\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)(:\d{1,5})?$/.test(
        lowered,
      );
    if (!ok) {
      throw new ConfigError(
        `${name}=${value} is not a domain: expected a host name such as example.com (no scheme or path)`,
        name,
      );
    }
    return lowered;
  }

  list(name: string): string[] {
    return (this.present(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }

  ipOrCidr(name: string, value: string): string {
    const [ip, bits, ...rest] = value.split('/');
    const ipv4 = /^(\d{1,3})(\.\d{1,3}){3}$/.test(ip ?? '') && ip!.split('.').every((p) => Number(p) <= 255);
    const ipv6 = /^[0-9a-f:.]+$/i.test(ip ?? '') && (ip ?? '').includes(':');
    const max = ipv4 ? 32 : 128;
    const bitsOk = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= max);
    if ((!ipv4 && !ipv6) || !bitsOk || rest.length > 0) {
      throw new ConfigError(
        `${name} contains ${value}: expected IP addresses or CIDR ranges separated by commas`,
        name,
      );
    }
    return value;
  }
}
