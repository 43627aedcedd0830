import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Secrets } from '../../config/config.ts';

/**
 * Encryption at rest for the few columns that must be readable again (TOTP secrets): AES-256-GCM
 * with a key derived by HKDF from ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY and its derivation salt.
 * Stored as `v1:<iv>:<tag>:<ciphertext>` (base64url), so the format can change later.
 */
function key(secrets: Secrets, purpose: string): Buffer {
  return Buffer.from(
    hkdfSync(
      'sha256',
      secrets.ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY,
      secrets.ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT,
      `woolly:${purpose}`,
      32,
    ),
  );
}

export function encrypt(secrets: Secrets, purpose: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key(secrets, purpose), iv);
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [
    'v1',
    iv.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
    data.toString('base64url'),
  ].join(':');
}

export function decrypt(secrets: Secrets, purpose: string, stored: string): string {
  const [version, iv, tag, data] = stored.split(':');
  if (version !== 'v1' || !iv || !tag || data === undefined)
    throw new Error('unknown encrypted value format');
  const decipher = createDecipheriv('aes-256-gcm', key(secrets, purpose), Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
}
