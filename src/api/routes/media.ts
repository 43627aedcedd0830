import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { serializeMediaAttachment } from '../../convert/to-api/media.ts';
import type { Context } from '../../domain/context.ts';
import {
  createMediaAttachment,
  deleteMediaAttachment,
  type MediaParams,
  ownUnattachedMedia,
  updateMediaAttachment,
} from '../../domain/media/attachments.ts';
import type { MediaAttachmentRecord } from '../../domain/media/records.ts';
import { isUploadedFile } from '../../domain/media/upload.ts';
import { Validator } from '../../domain/validation.ts';
import { currentUser } from '../auth.ts';

/** Mastodon asks for write (or write:media) even to read an upload back. */
const WRITE = ['write', 'write:media'];
const auth = { config: { auth: { scopes: WRITE, user: true } } };

/**
 * `/api/v1/media` and `/api/v2/media`: uploads, before they are attached to a status. v2 answers
 * 202 with `url: null` while a video, audio file or GIF is processed; the client polls
 * `GET /api/v1/media/:id` (206 until it is ready).
 */
export function mediaRoutes(app: FastifyInstance, ctx: Context): void {
  const create = (delay: boolean) => async (request: FastifyRequest, reply: FastifyReply) => {
    const { account } = currentUser(request);
    const row = await createMediaAttachment(ctx, account.id, mediaParams(request.body, true), { delay });
    reply.code(delay && row.processing !== 'complete' ? 202 : 200);
    return serializeMediaAttachment(row, ctx.config);
  };
  app.post('/api/v1/media', auth, create(false));
  app.post('/api/v2/media', auth, create(true));

  const withProgress = (row: MediaAttachmentRecord, reply: FastifyReply) => {
    reply.code(row.processing === 'complete' ? 200 : 206);
    return serializeMediaAttachment(row, ctx.config);
  };
  app.get<{ Params: { id: string } }>('/api/v1/media/:id', auth, async (request, reply) => {
    const { account } = currentUser(request);
    return withProgress(await ownUnattachedMedia(ctx, account.id, request.params.id), reply);
  });
  app.put<{ Params: { id: string } }>('/api/v1/media/:id', auth, async (request, reply) => {
    const { account } = currentUser(request);
    const row = await updateMediaAttachment(
      ctx,
      account.id,
      request.params.id,
      mediaParams(request.body, false),
    );
    return withProgress(row, reply);
  });
  app.delete<{ Params: { id: string } }>('/api/v1/media/:id', auth, async (request) => {
    const { account } = currentUser(request);
    await deleteMediaAttachment(ctx, account.id, request.params.id);
    return {};
  });
}

/** file, thumbnail, description, focus; `file` only on create (Mastodon permits no other). */
export function mediaParams(body: unknown, withFile: boolean): MediaParams {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const v = new Validator();
  const params: MediaParams = {};
  const file = (name: 'file' | 'thumbnail', label: string) => {
    const value = b[name];
    if (value === undefined || value === null || value === '') return undefined;
    if (isUploadedFile(value)) return value;
    v.add(name, label, 'ERR_INVALID', 'must be a file, sent as multipart/form-data');
    return undefined;
  };
  const text = (name: 'description' | 'focus', label: string) => {
    const value = b[name];
    if (value === undefined) return undefined;
    if (value === null || typeof value === 'string') return value;
    if (typeof value === 'number' && name === 'focus') return String(value);
    v.add(name, label, 'ERR_INVALID', 'must be text');
    return undefined;
  };
  if (withFile) params.file = file('file', 'File');
  params.thumbnail = file('thumbnail', 'Thumbnail');
  params.description = text('description', 'Description');
  params.focus = text('focus', 'Focus');
  v.check();
  return params;
}
