import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig, REQUIRED_SECRETS } from '../../src/config/config.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { generateSecrets, generateVapidKeys, resolveSecrets } from '../../src/config/secrets.ts';
import { VARIABLES } from '../../src/config/variables.ts';

const load = (env: Record<string, string>, cwd = '/nonexistent') =>
  loadConfig({ env, cwd, readFiles: false });

function rejects(env: Record<string, string>, variable: string, pattern: RegExp) {
  assert.throws(
    () => load(env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
      assert.equal(error.variable, variable);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('configuration', () => {
  it('defaults to the embedded shape on localhost:3000', () => {
    const c = load({});
    assert.equal(c.shape, 'embedded');
    assert.equal(c.localDomain, 'localhost:3000');
    assert.equal(c.localDomainDefaulted, true);
    assert.equal(c.baseUrl, 'http://localhost:3000');
    assert.equal(c.http.port, 3000);
    assert.equal(c.http.bind, '127.0.0.1');
    assert.equal(c.database.kind, 'pglite');
    assert.equal(c.redis, undefined);
    assert.equal(c.storage.kind, 'local');
    assert.equal(c.mail.kind, 'file');
    assert.equal(c.streaming.baseUrl, 'ws://localhost:3000');
    assert.match(c.dataDir, /\/data$/);
  });

  it('selects the scaled shape from DB_HOST or DATABASE_URL, with Mastodon defaults', () => {
    const c = load({
      LOCAL_DOMAIN: 'Example.COM',
      DB_HOST: 'db',
      DB_PORT: '6432',
      REDIS_URL: 'redis://r:6379/2',
    });
    assert.equal(c.shape, 'scaled');
    assert.equal(c.localDomain, 'example.com');
    assert.equal(c.baseUrl, 'https://example.com');
    assert.deepEqual(c.database, {
      kind: 'postgres',
      url: undefined,
      host: 'db',
      port: 6432,
      name: 'woolly_production',
      user: 'woolly',
      password: undefined,
      pool: 10,
      sslmode: 'prefer',
    });
    assert.equal(c.redis?.url, 'redis://r:6379/2');
    assert.equal(load({ LOCAL_DOMAIN: 'a.example', DATABASE_URL: 'postgres://u:p@h/d' }).shape, 'scaled');
  });

  it('names the variable and what it expects for bad values', () => {
    rejects({ DB_PORT: 'abc', DB_HOST: 'db', LOCAL_DOMAIN: 'x.example' }, 'DB_PORT', /port/);
    rejects({ PORT: '70000' }, 'PORT', /1 to 65535/);
    rejects({ LOCAL_DOMAIN: '' }, 'LOCAL_DOMAIN', /empty/);
    rejects({ LOCAL_DOMAIN: '   ' }, 'LOCAL_DOMAIN', /empty/);
    rejects({ LOCAL_DOMAIN: 'https://example.com/' }, 'LOCAL_DOMAIN', /domain/);
    rejects({ S3_ENABLED: 'true' }, 'S3_BUCKET', /S3_BUCKET/);
    rejects({ S3_ENABLED: 'maybe' }, 'S3_ENABLED', /boolean/);
    rejects({ DB_HOST: 'db' }, 'LOCAL_DOMAIN', /scaled shape/);
    rejects({ DATABASE_URL: 'mysql://x/y', LOCAL_DOMAIN: 'a.example' }, 'DATABASE_URL', /postgres/);
    rejects({ REDIS_URL: 'http://x' }, 'REDIS_URL', /redis:/);
    rejects({ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of/);
    rejects({ TRUSTED_PROXY_IP: '10.0.0.0/40' }, 'TRUSTED_PROXY_IP', /CIDR/);
    rejects({ SIDEKIQ_CONCURRENCY: '0' }, 'SIDEKIQ_CONCURRENCY', /whole number/);
    rejects({ STREAMING_API_BASE_URL: 'ftp://x' }, 'STREAMING_API_BASE_URL', /scheme/);
  });

  it('reads S3 settings as Mastodon does: a custom endpoint means path-style URLs', () => {
    const s3 = (extra: Record<string, string>) => {
      const storage = load({ S3_ENABLED: 'true', S3_BUCKET: 'b', ...extra }).storage;
      assert.equal(storage.kind, 's3');
      return storage;
    };
    assert.equal(s3({}).pathStyle, false, 'AWS: virtual-hosted');
    assert.equal(s3({ S3_ENDPOINT: 'http://minio:9000' }).pathStyle, true);
    assert.equal(s3({ S3_ENDPOINT: 'http://minio:9000', S3_OVERRIDE_PATH_STYLE: 'true' }).pathStyle, false);
    assert.equal(s3({ S3_PERMISSION: '' }).permission, undefined);
    assert.equal(s3({}).permission, 'public-read');
  });

  it('reads .env.production and .env, the environment winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'woolly-config-'));
    writeFileSync(join(dir, '.env'), 'LOCAL_DOMAIN=from-dotenv.example\nPORT=4001\nBIND=0.0.0.0\n');
    writeFileSync(join(dir, '.env.production'), 'LOCAL_DOMAIN=from-production.example\nPORT=4002\n');
    const c = loadConfig({ env: { PORT: '4003' }, cwd: dir });
    assert.equal(c.localDomain, 'from-production.example');
    assert.equal(c.http.port, 4003);
    assert.equal(c.http.bind, '0.0.0.0');
    assert.equal(c.envFiles.length, 2);
  });

  it('documents every variable it reads', () => {
    const source = readFileSync(new URL('../../src/config/config.ts', import.meta.url), 'utf8');
    const read = new Set([...source.matchAll(/r\.\w+\(\s*'([A-Z0-9_]+)'/g)].map((m) => m[1]));
    const documented = new Set(VARIABLES.map((v) => v.name));
    for (const name of read)
      assert.ok(documented.has(name!), `${name} is read but not in src/config/variables.ts`);
    // Secrets are read in a loop over their names rather than one call each.
    const secrets = new Set<string>([...REQUIRED_SECRETS, 'OTP_SECRET']);
    for (const name of documented)
      assert.ok(read.has(name) || secrets.has(name), `${name} is documented but never read`);
  });
});

describe('secrets', () => {
  it('generates every secret, VAPID keys as a P-256 pair', () => {
    const s = generateSecrets();
    assert.match(s.SECRET_KEY_BASE, /^[0-9a-f]{128}$/);
    assert.match(s.VAPID_PUBLIC_KEY, /^[A-Za-z0-9_-]{87}$/);
    assert.match(s.VAPID_PRIVATE_KEY, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(generateSecrets().SECRET_KEY_BASE, s.SECRET_KEY_BASE);
  });

  it('keeps generated secrets in the data directory, mode 0600, stable across starts', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'woolly-secrets-'));
    const config = load({ WOOLLY_DATA_DIR: dataDir });
    const first = resolveSecrets(config);
    const file = join(dataDir, 'secrets.env');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(resolveSecrets(config), first);
    // The environment wins over the file.
    const overridden = resolveSecrets(load({ WOOLLY_DATA_DIR: dataDir, SECRET_KEY_BASE: 'from-env' }));
    assert.equal(overridden.SECRET_KEY_BASE, 'from-env');
    assert.equal(overridden.VAPID_PUBLIC_KEY, first.VAPID_PUBLIC_KEY);
  });

  it('refuses the scaled shape without its secrets, naming the first missing one', () => {
    const base = { LOCAL_DOMAIN: 'a.example', DB_HOST: 'db' };
    assert.throws(
      () => resolveSecrets(load(base)),
      (e: unknown) =>
        e instanceof ConfigError && e.variable === 'SECRET_KEY_BASE' && /woolly secrets/.test(e.message),
    );
    const { OTP_SECRET: _unused, ...all } = generateSecrets();
    const { VAPID_PUBLIC_KEY: _missing, ...allButOne } = all;
    assert.throws(
      () => resolveSecrets(load({ ...base, ...allButOne })),
      (e: unknown) => e instanceof ConfigError && e.variable === 'VAPID_PUBLIC_KEY',
    );
    assert.equal(resolveSecrets(load({ ...base, ...all })).SECRET_KEY_BASE, all.SECRET_KEY_BASE);
  });
});

describe('VAPID keys', () => {
  it('are a P-256 pair that web-push accepts and that signs and verifies', async () => {
    const { createPrivateKey, createPublicKey, sign, verify } = await import('node:crypto');
    const { default: webpush } = await import('web-push');
    const { publicKey, privateKey } = generateVapidKeys();
    webpush.setVapidDetails('mailto:admin@example.test', publicKey, privateKey);
    const pub = Buffer.from(publicKey, 'base64url');
    assert.equal(pub.length, 65);
    assert.equal(pub[0], 4);
    const jwk = {
      kty: 'EC',
      crv: 'P-256',
      x: pub.subarray(1, 33).toString('base64url'),
      y: pub.subarray(33).toString('base64url'),
      d: privateKey,
    };
    const signature = sign('sha256', Buffer.from('hello'), createPrivateKey({ key: jwk, format: 'jwk' }));
    assert.ok(
      verify(
        'sha256',
        Buffer.from('hello'),
        createPublicKey({ key: { ...jwk, d: undefined }, format: 'jwk' }),
        signature,
      ),
    );
  });
});
