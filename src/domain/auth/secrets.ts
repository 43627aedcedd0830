import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bearer credentials (access tokens, authorization codes, client secrets, e-mailed links): 32
 * random bytes, URL-safe base64 (43 characters), stored only as their SHA-256. Looking one up is an
 * index lookup on the hash, so no comparison of secrets happens in application code; where two
 * secrets are compared directly, `safeEqual` does it in constant time.
 */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
