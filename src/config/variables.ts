/**
 * Every environment variable Woolly reads, with its default and meaning. The names are Mastodon's
 * wherever Mastodon has one, so an existing `.env.production` carries over. This table is the one
 * source for validation messages, `woolly config` and docs/configuration.md (a test keeps the doc
 * in step with it).
 */
export interface VariableInfo {
  name: string;
  group: string;
  /** What the default is, in words (it may depend on the shape). */
  default?: string;
  description: string;
  /** Masked by `woolly config`, never logged. */
  secret?: boolean;
}

const v = (
  group: string,
  name: string,
  description: string,
  extra: Partial<VariableInfo> = {},
): VariableInfo => ({
  name,
  group,
  description,
  ...extra,
});

export const VARIABLES: readonly VariableInfo[] = [
  // Identity
  v(
    'Identity',
    'LOCAL_DOMAIN',
    'The domain in every handle and ActivityPub URI (`@user@LOCAL_DOMAIN`). Permanent: changing it later breaks federation.',
    {
      default: '`localhost:3000` in the embedded shape; required in the scaled shape',
    },
  ),
  v('Identity', 'WEB_DOMAIN', 'The host that serves the web and API, when it differs from LOCAL_DOMAIN.', {
    default: 'LOCAL_DOMAIN',
  }),
  v('Identity', 'LOCAL_HTTPS', 'Whether public URLs use https. Set to false only for local development.', {
    default: '`false` when the domain is localhost/127.0.0.1, `true` otherwise',
  }),
  v(
    'Identity',
    'ALTERNATE_DOMAINS',
    'Comma-separated extra domains that are also this server (WebFinger answers for them).',
    { default: 'none' },
  ),
  v('Identity', 'SINGLE_USER_MODE', "Front page is the first account's profile and sign-ups are closed.", {
    default: '`false`',
  }),
  v('Identity', 'DEFAULT_LOCALE', "Language of the server's own pages and e-mails.", { default: '`en`' }),

  // Processes
  v('Processes', 'PORT', 'TCP port of the web role (and of `woolly start`).', { default: '`3000`' }),
  v('Processes', 'BIND', 'Address the web role listens on.', { default: '`127.0.0.1`' }),
  v('Processes', 'STREAMING_PORT', 'TCP port of `woolly streaming` when it runs as its own process.', {
    default: '`4000`',
  }),
  v(
    'Processes',
    'STREAMING_API_BASE_URL',
    'Public ws(s):// URL of the streaming API, advertised to clients.',
    {
      default: 'the web host (`wss://WEB_DOMAIN`)',
    },
  ),
  v(
    'Processes',
    'TRUSTED_PROXY_IP',
    'Comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed.',
    {
      default: 'loopback only (127.0.0.1, ::1)',
    },
  ),
  v(
    'Processes',
    'ALLOWED_PRIVATE_ADDRESSES',
    'Comma-separated private addresses or CIDR ranges that outbound fetches (remote media, later federation) may reach; every other private, loopback or link-local address is refused.',
    { default: 'none' },
  ),
  v(
    'Processes',
    'SIDEKIQ_CONCURRENCY',
    "Jobs a worker runs at once per queue (Mastodon's name; `woolly worker --concurrency` overrides it).",
    {
      default: '`5`',
    },
  ),
  v('Processes', 'LOG_LEVEL', 'fatal, error, warn, info, debug or trace.', { default: '`info`' }),
  v('Processes', 'NODE_ENV', '`production` or `development`; development prints logs in a readable form.', {
    default: '`production`',
  }),
  v(
    'Processes',
    'WOOLLY_DATA_DIR',
    'Where the embedded database, local media, outgoing mail and generated secrets live.',
    {
      default: '`./data`',
    },
  ),
  v(
    'Processes',
    'WOOLLY_BODY_LIMIT',
    'Largest JSON or form body (bytes), and the most text a multipart body may carry; its file parts have the media limits (16 MiB images, 99 MiB other files).',
    {
      default: '`1048576` (1 MiB)',
    },
  ),

  // PostgreSQL
  v(
    'PostgreSQL',
    'DATABASE_URL',
    'postgres:// URL of the database. Setting it (or DB_HOST) selects the scaled shape.',
    { default: 'unset', secret: true },
  ),
  v('PostgreSQL', 'DB_HOST', 'PostgreSQL host (or a directory holding its Unix socket).', {
    default: 'unset (embedded PGlite)',
  }),
  v('PostgreSQL', 'DB_PORT', 'PostgreSQL port.', { default: '`5432`' }),
  v('PostgreSQL', 'DB_NAME', 'Database name.', { default: '`woolly_production`' }),
  v('PostgreSQL', 'DB_USER', 'Database user.', { default: '`woolly`' }),
  v('PostgreSQL', 'DB_PASS', 'Database password.', { default: 'empty', secret: true }),
  v('PostgreSQL', 'DB_POOL', 'Connections per process.', { default: '`10`' }),
  v('PostgreSQL', 'DB_SSLMODE', 'disable, allow, prefer, require, verify-ca or verify-full.', {
    default: '`prefer`',
  }),

  // Redis
  v(
    'Redis',
    'REDIS_URL',
    'redis:// URL. With it (or REDIS_HOST), queues run on BullMQ and pub/sub and cache on Redis.',
    {
      default: 'unset (in-process)',
      secret: true,
    },
  ),
  v('Redis', 'REDIS_HOST', 'Redis host.', { default: 'unset' }),
  v('Redis', 'REDIS_PORT', 'Redis port.', { default: '`6379`' }),
  v('Redis', 'REDIS_USER', 'Redis ACL user.', { default: 'unset' }),
  v('Redis', 'REDIS_PASSWORD', 'Redis password.', { default: 'unset', secret: true }),
  v('Redis', 'REDIS_DB', 'Redis database number.', { default: '`0`' }),

  // Secrets
  v('Secrets', 'SECRET_KEY_BASE', 'Signs sessions and cookies. Generate with `woolly secrets`.', {
    default: 'generated into WOOLLY_DATA_DIR/secrets.env in the embedded shape; required in the scaled shape',
    secret: true,
  }),
  v(
    'Secrets',
    'OTP_SECRET',
    'Accepted for compatibility with Mastodon ≤ 4.3 files; Woolly derives what it needs from SECRET_KEY_BASE when it is absent.',
    {
      default: 'optional',
      secret: true,
    },
  ),
  v(
    'Secrets',
    'ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY',
    'Key for data encrypted at rest (two-factor secrets, …).',
    {
      default: 'generated (embedded) / required (scaled)',
      secret: true,
    },
  ),
  v('Secrets', 'ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY', 'Key for deterministically encrypted columns.', {
    default: 'generated (embedded) / required (scaled)',
    secret: true,
  }),
  v('Secrets', 'ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT', 'Salt for deriving the encryption keys.', {
    default: 'generated (embedded) / required (scaled)',
    secret: true,
  }),
  v('Secrets', 'VAPID_PRIVATE_KEY', 'Web Push signing key (ECDSA P-256, URL-safe base64).', {
    default: 'generated (embedded) / required (scaled)',
    secret: true,
  }),
  v('Secrets', 'VAPID_PUBLIC_KEY', 'Public half of VAPID_PRIVATE_KEY, given to clients.', {
    default: 'generated (embedded) / required (scaled)',
  }),

  // Media storage
  v('Media storage', 'PAPERCLIP_ROOT_PATH', 'Directory for local media files.', {
    default: 'WOOLLY_DATA_DIR/media',
  }),
  v('Media storage', 'PAPERCLIP_ROOT_URL', 'URL path under which local media is served.', {
    default: '`/system`',
  }),
  v(
    'Media storage',
    'CDN_HOST',
    'Host (with scheme) that serves assets and local media, if not this server.',
    { default: 'unset' },
  ),
  v('Media storage', 'S3_ENABLED', 'Store media in an S3-compatible bucket instead of on disk.', {
    default: '`false`',
  }),
  v('Media storage', 'S3_BUCKET', 'Bucket name (required with S3_ENABLED).', { default: 'unset' }),
  v('Media storage', 'S3_REGION', 'Bucket region.', { default: '`us-east-1`' }),
  v('Media storage', 'S3_ENDPOINT', 'Endpoint URL of a non-AWS S3 service (MinIO, Garage, R2, …).', {
    default: 'AWS',
  }),
  v('Media storage', 'S3_HOSTNAME', "Host of the bucket's public URLs, when S3_ALIAS_HOST is not set.", {
    default: '`s3-REGION.amazonaws.com`',
  }),
  v('Media storage', 'S3_PROTOCOL', "Scheme of the bucket's public URLs.", { default: '`https`' }),
  v('Media storage', 'S3_ALIAS_HOST', 'Host that serves the bucket publicly (a CDN or proxy).', {
    default: 'unset',
  }),
  v('Media storage', 'CLOUDFRONT_HOST', 'Older name of S3_ALIAS_HOST, still read.', { default: 'unset' }),
  v(
    'Media storage',
    'S3_OVERRIDE_PATH_STYLE',
    'With S3_ENDPOINT set, bucket URLs are path-style (`endpoint/bucket/key`, what most self-hosted S3 services need); `true` switches to virtual-hosted style (`bucket.endpoint/key`), as in Mastodon.',
    { default: '`false`' },
  ),
  v('Media storage', 'S3_KEY_PREFIX', 'Prefix of every object key.', { default: 'none' }),
  v('Media storage', 'S3_PERMISSION', 'Canned ACL of uploaded objects; empty to send none.', {
    default: '`public-read`',
  }),
  v('Media storage', 'AWS_ACCESS_KEY_ID', 'S3 access key.', { default: 'unset' }),
  v('Media storage', 'AWS_SECRET_ACCESS_KEY', 'S3 secret key.', { default: 'unset', secret: true }),

  // Media processing
  v(
    'Media processing',
    'FFMPEG_BINARY',
    'ffmpeg command for video, audio and GIF; without it media is image-only.',
    {
      default: '`ffmpeg`',
    },
  ),
  v('Media processing', 'FFPROBE_BINARY', 'ffprobe command, read alongside ffmpeg.', {
    default: '`ffprobe`',
  }),
  v(
    'Media processing',
    'WOOLLY_MAX_FFMPEG_PROCESSES',
    'ffmpeg processes one worker runs at once; each keeps a core busy.',
    { default: '`1`' },
  ),
  v(
    'Media processing',
    'MEDIA_CACHE_RETENTION_PERIOD',
    'Days cached copies of remote media are kept before the scheduler removes them (they are fetched again when needed).',
    { default: 'unset (kept until `woolly media remove`)' },
  ),

  // E-mail
  v(
    'E-mail',
    'SMTP_SERVER',
    'SMTP host. Without it, mail is written to WOOLLY_DATA_DIR/mail instead of sent.',
    { default: 'unset' },
  ),
  v('E-mail', 'SMTP_PORT', 'SMTP port.', { default: '`587`' }),
  v('E-mail', 'SMTP_LOGIN', 'SMTP user name.', { default: 'unset' }),
  v('E-mail', 'SMTP_PASSWORD', 'SMTP password.', { default: 'unset', secret: true }),
  v('E-mail', 'SMTP_FROM_ADDRESS', "Sender of the server's mail.", {
    default: '`notifications@LOCAL_DOMAIN`',
  }),
  v('E-mail', 'SMTP_REPLY_TO', "Reply-To of the server's mail.", { default: 'unset' }),
  v('E-mail', 'SMTP_AUTH_METHOD', '`plain`, `login`, `cram_md5` or `none`.', { default: '`plain`' }),
  v('E-mail', 'SMTP_ENABLE_STARTTLS', '`auto`, `always` or `never`.', { default: '`auto`' }),
  v('E-mail', 'SMTP_TLS', 'Connect with implicit TLS (port 465).', { default: '`false`' }),
  v('E-mail', 'SMTP_SSL', 'Same as SMTP_TLS.', { default: '`false`' }),
  v('E-mail', 'SMTP_OPENSSL_VERIFY_MODE', "`peer` to verify the server's certificate, `none` not to.", {
    default: '`peer`',
  }),
];

export const SECRET_VARIABLES = new Set(VARIABLES.filter((x) => x.secret).map((x) => x.name));
