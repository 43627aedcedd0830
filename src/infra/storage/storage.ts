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
  /** The public URL clients fetch the object from. */
  url(key: string): string;
  close(): Promise<void>;
}

export class InvalidStorageKeyError extends Error {
  readonly key: string;
  constructor(key: string, reason: string) {
    super(`invalid storage key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'InvalidStorageKeyError';
    this.key = key;
  }
}

/**
 * Throws unless `key` is a plain relative path that stays inside the storage root. Both backends
 * enforce it so a key that works in one works in the other.
 */
export function assertValidKey(key: string): void {
  if (typeof key !== 'string' || key === '') throw new InvalidStorageKeyError(String(key), 'empty');
  if (key.includes('\0')) throw new InvalidStorageKeyError(key, 'contains NUL');
  if (key.includes('\\')) throw new InvalidStorageKeyError(key, 'contains a backslash');
  if (key.startsWith('/')) throw new InvalidStorageKeyError(key, 'is absolute');
  if (/^[a-zA-Z]:/.test(key)) throw new InvalidStorageKeyError(key, 'starts with a drive letter');
  for (const segment of key.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new InvalidStorageKeyError(key, 'has an empty, "." or ".." path segment');
    }
  }
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) throw new InvalidStorageKeyError(key, 'contains a control character');
  }
}

/** Percent-encodes each segment of a (valid) key for use in a URL path. */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}
