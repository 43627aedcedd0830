import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import mime from 'mime-types';
import type { Context } from '../domain/context.ts';
import { LocalStorage, type OpenedFile } from '../infra/storage/local.ts';
import { isValidKey } from '../infra/storage/storage.ts';

/**
 * Local media files, served by the web role under PAPERCLIP_ROOT_URL (`/system`) when storage is
 * on disk; with S3 the bucket (or its CDN) serves them and this route does not exist. What nginx
 * does for Mastodon's `/system`: the type from the extension, long immutable caching (every file
 * has a random name, so a file never changes under its URL), validators and 304s, single byte
 * ranges (video players seek with them), and nothing but files: no listings, no hidden files.
 */
export function mediaFileRoutes(app: FastifyInstance, ctx: Pick<Context, 'config' | 'storage'>): void {
  const storage = ctx.storage;
  if (ctx.config.storage.kind !== 'local' || !(storage instanceof LocalStorage)) return;
  const base = ctx.config.storage.urlPath.replace(/\/+$/, '');
  app.route({
    method: ['GET', 'HEAD'],
    url: `${base}/*`,
    handler: async (request, reply) => {
      const key = (request.params as { '*'?: string })['*'] ?? '';
      // Dot-files are never keys we write (`.tmp-…` are half-written uploads).
      if (!isValidKey(key) || key.split('/').some((segment) => segment.startsWith('.'))) {
        return reply.callNotFound();
      }
      const file = await storage.openFile(key);
      if (file === null) return reply.callNotFound();
      return sendFile(request, reply, file, key);
    },
  });
}

/** Files never change under their key; a year is the longest lifetime caches honour. */
export const MEDIA_CACHE_CONTROL = 'public, max-age=31536000, immutable';

async function sendFile(
  request: FastifyRequest,
  reply: FastifyReply,
  file: OpenedFile,
  key: string,
): Promise<FastifyReply> {
  const etag = `"${Math.floor(file.lastModified.getTime()).toString(16)}-${file.size.toString(16)}"`;
  const lastModified = file.lastModified.toUTCString();
  reply.headers({
    'cache-control': MEDIA_CACHE_CONTROL,
    etag,
    'last-modified': lastModified,
    'accept-ranges': 'bytes',
    'x-content-type-options': 'nosniff',
    // As Mastodon's nginx: whatever a file holds, it runs nothing when opened directly.
    'content-security-policy': "default-src 'none'; form-action 'none'; sandbox",
    // Public files: web clients may fetch them (to save or share an image) from their origin.
    'access-control-allow-origin': '*',
  });
  const headers = request.headers;
  if (notModified(headers['if-none-match'], headers['if-modified-since'], etag, file.lastModified)) {
    await file.close();
    return reply.code(304).send();
  }
  const contentType = mime.lookup(key) || 'application/octet-stream';
  reply.header('content-type', contentType);

  const rangeHeader = headers.range;
  const range =
    rangeHeader !== undefined && ifRangeHolds(headers['if-range'], etag, lastModified)
      ? parseRange(rangeHeader, file.size)
      : null;
  if (range === 'unsatisfiable') {
    await file.close();
    return reply.code(416).header('content-range', `bytes */${file.size}`).type('text/plain').send('');
  }
  const { start, end } = range ?? { start: 0, end: file.size - 1 };
  const length = file.size === 0 ? 0 : end - start + 1;
  reply.code(range === null ? 200 : 206).header('content-length', String(length));
  if (range !== null) reply.header('content-range', `bytes ${start}-${end}/${file.size}`);
  if (request.method === 'HEAD' || length === 0) {
    await file.close();
    return reply.send();
  }
  return reply.send(file.stream({ start, end }));
}

/** RFC 9110 §13.2.2: If-None-Match decides when present (weak comparison); else If-Modified-Since. */
function notModified(
  ifNoneMatch: string | undefined,
  ifModifiedSince: string | undefined,
  etag: string,
  lastModified: Date,
): boolean {
  if (ifNoneMatch !== undefined) {
    const tags = ifNoneMatch.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
    return tags.includes('*') || tags.includes(etag);
  }
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  // HTTP dates have whole seconds.
  return !Number.isNaN(since) && Math.floor(lastModified.getTime() / 1000) * 1000 <= since;
}

/** If-Range: the range applies only to the representation the client already has part of. */
function ifRangeHolds(ifRange: string | string[] | undefined, etag: string, lastModified: string): boolean {
  if (ifRange === undefined) return true;
  if (typeof ifRange !== 'string') return false; // repeated: no one validator to trust
  const value = ifRange.trim();
  // An entity tag must match strongly (a weak one never does); a date must be the exact one.
  if (value.startsWith('"') || value.startsWith('W/')) return value === etag;
  return value === lastModified;
}

/**
 * One byte range of `bytes=…` as inclusive offsets; null when the header is to be ignored (not
 * bytes, malformed, or several ranges — answered in full, which RFC 9110 allows); 'unsatisfiable'
 * when it starts past the end.
 */
export function parseRange(
  header: string,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | null {
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (match === null) return null;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    // `-n`: the last n bytes.
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(size - suffix, 0), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return null; // malformed: ignored, as a server may
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}
