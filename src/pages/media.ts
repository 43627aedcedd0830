import type { FastifyInstance } from 'fastify';
import { isId } from '../db/ids.ts';
import type { Context } from '../domain/context.ts';
import { mediaByShortcode } from '../domain/media/links.ts';
import { proxiedMediaKey } from '../domain/media/remote.ts';
import { mediaUrl } from '../infra/storage/urls.ts';

/**
 * Links to media that are not the files themselves: `/media/:shortcode` (a local attachment's
 * stable link, the entity's `text_url`) and `/media_proxy/:id/:style` (a remote attachment, fetched
 * into the cache on first use). Both redirect to the stored file, as Mastodon's do.
 */
export function mediaLinkRoutes(app: FastifyInstance, ctx: Context): void {
  app.get<{ Params: { shortcode: string } }>('/media/:shortcode', async (request, reply) => {
    const key = await mediaByShortcode(ctx, request.params.shortcode);
    if (key === undefined) return reply.code(404).type('text/plain').send('Not found');
    return reply.redirect(mediaUrl(ctx.config, key), 302);
  });
  app.get<{ Params: { id: string; style: string } }>('/media_proxy/:id/:style', async (request, reply) => {
    const { id, style } = request.params;
    if (!isId(id) || (style !== 'original' && style !== 'small'))
      return reply.code(404).type('text/plain').send('Not found');
    const key = await proxiedMediaKey(ctx, id, style);
    if (key === undefined) return reply.code(404).type('text/plain').send('Not found');
    return reply.redirect(mediaUrl(ctx.config, key), 302);
  });
}
