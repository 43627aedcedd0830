import type { Readable } from 'node:stream';

export interface PutOptions {
  contentType: string;
  cacheControl?: string;
}

export interface StoredObject {
  body: Readable;
  contentType?: string;
  size?: number;
}

/** One object of a listing. */
export interface ListedObject {
  key: string;
  /** Bytes. */
  size: number;
  lastModified: Date;
}

/**
 * Media files by key. Keys are relative paths such as
 * `media_attachments/files/110/123/456/original/abc.png`; the same key names the same file in
 * either backend, so a move from disk to a bucket is a copy.
 */
export interface Storage {
  /** Replaces any object at `key`; readers see either the old object or the whole new one. */
  put(key: string, body: Buffer | Readable, opts: PutOptions): Promise<void>;
  get(key: string): Promise<StoredObject | null>;
  /** Missing keys are ignored. */
  delete(keys: string[]): Promise<void>;
  exists(key: string): Promise<boolean>;
  /**
   * Every object whose key starts with `prefix` (a plain string prefix, as S3's: `accounts/` or
   * `media_attachments/files/110/`; '' lists everything), in no promised order. Objects put or
   * deleted while the listing runs may or may not be seen.
   */
  list(prefix: string): AsyncIterable<ListedObject>;
  /** The public URL clients fetch the object from. */
  url(key: string): string;
  close(): Promise<void>;
}

export class InvalidStorageKeyError extends Error {
  readonly key: string;
  /** What is wrong with it, e.g. `is absolute`. */
  readonly reason: string;
  constructor(key: string, reason: string) {
    super(`invalid storage key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'InvalidStorageKeyError';
    this.key = key;
    this.reason = reason;
  }
}

/**
 * Throws unless `key` is a plain relative path that stays inside the storage root. Both backends
 * enforce it so a key that works in one works in the other.
 */
export function assertValidKey(key: string): void {
  const problem = keyProblem(key);
  if (problem !== null) throw new InvalidStorageKeyError(String(key), problem);
}

/** Whether `key` passes `assertValidKey`. */
export function isValidKey(key: string): boolean {
  return keyProblem(key) === null;
}

/**
 * Throws unless `prefix` is '' or the start of a valid key: the rules of `assertValidKey`, except
 * that it may end with a `/`.
 */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  // `a/b/` is the start of `a/b/x`: checking the key it begins keeps one set of rules.
  const problem = keyProblem(typeof prefix === 'string' && prefix.endsWith('/') ? `${prefix}x` : prefix);
  if (problem !== null) throw new InvalidStorageKeyError(String(prefix), problem);
}

function keyProblem(key: string): string | null {
  if (typeof key !== 'string' || key === '') return 'is empty';
  if (key.includes('\0')) return 'contains NUL';
  if (key.includes('\\')) return 'contains a backslash';
  if (key.startsWith('/')) return 'is absolute';
  if (/^[a-zA-Z]:/.test(key)) return 'starts with a drive letter';
  for (const segment of key.split('/')) {
    if (segment === '' || segment === '.' || segment === '..')
      return 'has an empty, "." or ".." path segment';
  }
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return 'contains a control character';
  }
  return null;
}

/** Percent-encodes each segment of a (valid) key for use in a URL path. */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
