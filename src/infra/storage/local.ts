import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import mime from 'mime-types';
import {
  assertValidKey,
  assertValidPrefix,
  encodeKey,
  InvalidStorageKeyError,
  isValidKey,
  type ListedObject,
  type PutOptions,
  type Storage,
  type StoredObject,
} from './storage.ts';

/** A stored file opened for serving (src/http/media-files.ts): its facts, then its bytes once. */
export interface OpenedFile {
  size: number;
  lastModified: Date;
  /** The bytes, all or `start`..`end` inclusive; the file is closed when the stream ends or fails. */
  stream(range?: { start: number; end: number }): Readable;
  /** Closes the file without reading it (HEAD, 304, 416). */
  close(): Promise<void>;
}

export interface LocalStorageOptions {
  root: string;
  /** URL path the web role serves the root under, e.g. `/system`. */
  urlPath: string;
  /** Origin of the public URLs, e.g. `https://example.com` or a CDN host. */
  publicOrigin: string;
}

/**
 * Files on disk under one root (the embedded shape's `data/media`). The content type is not
 * stored: like Mastodon's own local storage, it follows from the file extension.
 */
export class LocalStorage implements Storage {
  private readonly root: string;
  private readonly urlBase: string;

  constructor(opts: LocalStorageOptions) {
    this.root = resolve(opts.root);
    const path = opts.urlPath.replace(/^\/*/, '/').replace(/\/+$/, '');
    this.urlBase = `${opts.publicOrigin.replace(/\/+$/, '')}${path}`;
  }

  async put(key: string, body: Buffer | Readable, _opts: PutOptions): Promise<void> {
    const path = this.pathOf(key);
    // Write beside the target and rename: readers never see a half-written file.
    const temp = join(dirname(path), `.tmp-${randomBytes(8).toString('hex')}`);
    try {
      if (Buffer.isBuffer(body)) {
        // A concurrent delete may prune the fresh directory; a buffer can simply be written again.
        for (let attempt = 1; ; attempt++) {
          await mkdir(dirname(path), { recursive: true });
          try {
            await writeFile(temp, body, { flag: 'wx' });
            break;
          } catch (error) {
            if (attempt >= 3 || !isMissing(error)) throw error;
          }
        }
      } else {
        await mkdir(dirname(path), { recursive: true });
        await pipeline(body, createWriteStream(temp, { flags: 'wx' }));
      }
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<StoredObject | null> {
    const path = this.pathOf(key);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) {
        await handle.close();
        return null;
      }
      const contentType = mime.lookup(path) || undefined;
      return { body: handle.createReadStream(), contentType, size: info.size };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /**
   * Opens the file of `key` for the web role to serve, or null when there is none (a directory is
   * none). Its size and date are those of the opened file, even if a put replaces it meanwhile.
   */
  async openFile(key: string): Promise<OpenedFile | null> {
    const path = this.pathOf(key);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'EISDIR') return null;
      throw error;
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) {
        await handle.close();
        return null;
      }
      return {
        size: info.size,
        lastModified: info.mtime,
        stream: (range) => handle.createReadStream(range ?? {}),
        close: () => handle.close(),
      };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async delete(keys: string[]): Promise<void> {
    const paths = keys.map((key) => this.pathOf(key));
    for (const path of paths) {
      try {
        await unlink(path);
      } catch (error) {
        if (!isMissing(error)) throw error;
        continue;
      }
      await this.pruneEmptyDirs(dirname(path));
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    assertValidPrefix(prefix);
    // From the root down, entering only directories on the prefix's path or inside it, so that a
    // symbolic link on the way is never followed (a link's entry is not a directory).
    const pending = [''];
    while (pending.length > 0) {
      const dirKey = pending.pop() as string;
      const dirPath = dirKey === '' ? this.root : join(this.root, dirKey);
      let entries: Dirent[];
      try {
        entries = await readdir(dirPath, { withFileTypes: true });
      } catch (error) {
        if (isMissing(error)) continue; // removed while we walked, or never there
        throw error;
      }
      for (const entry of entries) {
        const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
        if (entry.isDirectory()) {
          // Descend where keys may start with the prefix: above it (`a/` for `a/b/`) or inside it.
          if (prefix.startsWith(`${key}/`) || `${key}/`.startsWith(prefix)) pending.push(key);
          continue;
        }
        // Symbolic links and other non-files are never ours; neither are names no key could have.
        if (!entry.isFile() || entry.name.startsWith('.tmp-') || !key.startsWith(prefix) || !isValidKey(key))
          continue;
        let info: Awaited<ReturnType<typeof stat>>;
        try {
          info = await stat(join(dirPath, entry.name));
        } catch (error) {
          if (isMissing(error)) continue;
          throw error;
        }
        yield { key, size: info.size, lastModified: info.mtime };
      }
    }
  }

  url(key: string): string {
    assertValidKey(key);
    return `${this.urlBase}/${encodeKey(key)}`;
  }

  async close(): Promise<void> {}

  private pathOf(key: string): string {
    assertValidKey(key);
    const path = resolve(this.root, key);
    // Belt and braces: the key rules already keep it inside, this holds even if they change.
    const rel = relative(this.root, path);
    if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || resolve(this.root, rel) !== path) {
      throw new InvalidStorageKeyError(key, 'escapes the storage root');
    }
    return path;
  }

  /** Removes directories left empty by a delete, up to (not including) the root. */
  private async pruneEmptyDirs(dir: string): Promise<void> {
    let current = dir;
    while (current !== this.root && current.startsWith(this.root + sep)) {
      try {
        await rmdir(current);
      } catch {
        return; // not empty (or already gone): stop here
      }
      current = dirname(current);
    }
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
