import { hash, verify } from '@node-rs/bcrypt';

/**
 * Passwords are bcrypt hashes, as Mastodon's (cost 10 like Devise's default in production), so
 * accounts moved from Mastodon keep working. @node-rs/bcrypt is a prebuilt N-API module: no
 * compiler needed. bcrypt reads at most 72 bytes, which is why passwords are limited to 72.
 */
const COST = 10;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 72;

export function hashPassword(password: string): Promise<string> {
  return hash(password, COST);
}

export async function verifyPassword(password: string, encrypted: string): Promise<boolean> {
  try {
    return await verify(password, encrypted);
  } catch {
    return false;
  }
}

/** A hash to verify against when the user does not exist, so both cases take as long. */
let dummy: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummy ??= hashPassword('not a real password, only for timing');
  return dummy;
}
