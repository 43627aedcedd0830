/**
 * multipart/form-data on every route, as Mastodon (Rack) accepts it: by the time a handler runs,
 * `request.body` holds the same Rails-style nested parameters as a form or JSON body would
 * (src/api/params.ts), with each file part an UploadedFile at its nested position.
 *
 * - File parts are streamed to a temporary file, never held in memory. The size limit of a part is
 *   checked on every chunk: MEDIA_LIMITS.imageSizeLimit when its declared Content-Type is image/*,
 *   MEDIA_LIMITS.videoSizeLimit otherwise. The chunk that crosses it ends the reading: 413 at once,
 *   with `Connection: close` since the rest of the body is never read.
 * - Text parts: each at most the body limit (WOOLLY_BODY_LIMIT), and all of them together too, as
 *   for a form body. At most MAX_PARAMS parts.
 * - Temporary files live in a directory of their own per server, made on the first upload under
 *   os.tmpdir() (TMPDIR): not in the data directory, which the embedded export archives and which
 *   the scaled shape may not have; a crash leaves them where the system clears temporary files. A
 *   request's files are removed once its response is sent, or when its client goes away; the
 *   directory goes when the server closes. Whatever must outlive the request is copied before.
 */

import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import multipart, { type MultipartFile } from '@fastify/multipart';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../api/errors.ts';
import { MAX_PARAMS, nestParams, type ParamLeaf, type ParamObject, ParamsError } from '../api/params.ts';
import { MEDIA_LIMITS } from '../domain/limits.ts';
import { UploadedFile } from '../domain/media/upload.ts';

const MIB = 1_048_576;

/** Registers the multipart parser; `request.body` is the nested parameters before validation and handlers. */
export async function registerMultipart(app: FastifyInstance): Promise<void> {
  const textLimit = app.initialConfig.bodyLimit ?? MIB;
  await app.register(multipart, {
    limits: {
      parts: MAX_PARAMS,
      fieldSize: textLimit,
      // Our own guard stops a part at its limit first; busboy's is only a ceiling behind it.
      fileSize: MEDIA_LIMITS.videoSizeLimit + 1,
    },
    throwFileSizeLimit: false,
  });

  const directory = new UploadDirectory();
  app.addHook('onClose', () => directory.remove());

  app.addHook('preValidation', async (request, reply) => {
    if (!request.isMultipart()) return;
    const files = new RequestFiles(request.log);
    requestFiles.set(request, files);
    // onResponse does not run when the client goes away first.
    reply.raw.once('close', () => void files.removeAll());
    try {
      request.body = await readParts(request, directory, files, textLimit);
    } catch (error) {
      await files.removeAll();
      // The rest of the body stays unread: the connection cannot carry another request.
      if (!request.raw.complete) reply.header('connection', 'close');
      throw asRequestError(error, request);
    }
  });

  app.addHook('onResponse', async (request) => {
    await requestFiles.get(request)?.removeAll();
  });
}

const requestFiles = new WeakMap<FastifyRequest, RequestFiles>();

/** The temporary files of one request. */
class RequestFiles {
  private readonly paths = new Set<string>();
  private readonly log: FastifyBaseLogger;

  constructor(log: FastifyBaseLogger) {
    this.log = log;
  }

  add(path: string): void {
    this.paths.add(path);
  }

  async removeAll(): Promise<void> {
    const paths = [...this.paths];
    this.paths.clear();
    await Promise.all(
      paths.map((path) =>
        rm(path, { force: true }).catch((error: unknown) =>
          this.log.warn({ err: error, path }, 'could not remove an uploaded temporary file'),
        ),
      ),
    );
  }
}

/** The server's directory of temporary uploads, made when first needed. */
class UploadDirectory {
  private made: Promise<string> | undefined;

  path(): Promise<string> {
    this.made ??= mkdtemp(join(tmpdir(), 'woolly-uploads-'));
    return this.made;
  }

  async remove(): Promise<void> {
    if (this.made === undefined) return;
    const path = await this.made.catch(() => undefined);
    if (path !== undefined) await rm(path, { recursive: true, force: true });
  }
}

async function readParts(
  request: FastifyRequest,
  directory: UploadDirectory,
  files: RequestFiles,
  textLimit: number,
): Promise<ParamObject> {
  const pairs: [string, ParamLeaf][] = [];
  let textBytes = 0;
  for await (const part of request.parts()) {
    const name = part.fieldname ?? '';
    if (part.type === 'field') {
      if (part.valueTruncated) {
        throw new ApiError(413, `${name} is too large: a text field may be at most ${textLimit} bytes`);
      }
      // The plugin decodes parts declared application/json; a parameter is the text that was sent.
      const value = typeof part.value === 'string' ? part.value : JSON.stringify(part.value);
      textBytes += Buffer.byteLength(name) + Buffer.byteLength(value);
      if (textBytes > textLimit) {
        throw new ApiError(
          413,
          `The text fields of the body are too large: at most ${textLimit} bytes in all`,
        );
      }
      pairs.push([name, value]);
      continue;
    }
    // A browser sends an unchosen file input as a part with an empty file name; Rack drops it.
    if (name === '' || part.filename === '') {
      await pipeline(
        part.file,
        sizeGuard(name, part.mimetype),
        new Writable({ write: (_c, _e, done) => done() }),
      );
      continue;
    }
    pairs.push([name, await saveFile(part, name, await directory.path(), files)]);
  }
  return nestParams(pairs, { strict: true });
}

async function saveFile(
  part: MultipartFile,
  name: string,
  directory: string,
  files: RequestFiles,
): Promise<UploadedFile> {
  // A fresh name: the client's file name never becomes a path.
  const path = join(directory, randomUUID());
  files.add(path);
  const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  const guard = sizeGuard(name, part.mimetype);
  await pipeline(part.file, guard, out);
  return new UploadedFile(path, part.filename, part.mimetype, guard.bytes);
}

type SizeGuard = Transform & { bytes: number };

/** Counts a part's bytes and fails on the chunk that crosses its limit (images 16 MiB, the rest 99 MiB). */
function sizeGuard(name: string, mimetype: string): SizeGuard {
  const image = mimetype.startsWith('image/');
  const limit = image ? MEDIA_LIMITS.imageSizeLimit : MEDIA_LIMITS.videoSizeLimit;
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      guard.bytes += chunk.length;
      if (guard.bytes > limit) {
        const kind = image ? 'an image' : 'a file that is not an image';
        done(
          new ApiError(
            413,
            `${name || 'A file part'} is too large: ${kind} may be at most ${limit / MIB} MiB (${limit} bytes)`,
          ),
        );
        return;
      }
      done(null, chunk);
    },
  }) as SizeGuard;
  guard.bytes = 0;
  return guard;
}

const PREMATURE_END = 'The request ended before its multipart/form-data body was complete';

/** What went wrong while reading the parts, as the client should hear it. */
function asRequestError(error: unknown, request: FastifyRequest): unknown {
  if (error instanceof ApiError || error instanceof ParamsError || !(error instanceof Error)) return error;
  if (request.raw.destroyed && !request.raw.complete) return new ApiError(400, PREMATURE_END);
  // A system call failed (the temporary directory, a full disk): the server's failure, logged as such.
  if ('syscall' in error) return error;
  switch ((error as { code?: unknown }).code) {
    case 'FST_PARTS_LIMIT':
      return new ParamsError(`Too many parameters (at most ${MAX_PARAMS})`);
    case 'FST_PROTO_VIOLATION':
      return new ParamsError(
        'Parameter names may not be properties of Object.prototype (__proto__, constructor, …)',
      );
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return new ParamsError('A part declared as application/json does not hold valid JSON');
    case 'FST_MP_PREMATURE_CLOSE':
      return new ApiError(400, PREMATURE_END);
  }
  // Busboy's own words: no boundary, a malformed part header, the body ending mid-part.
  return new ApiError(400, `Malformed multipart/form-data body: ${error.message}`);
}
