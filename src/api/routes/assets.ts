import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { ASSETS_PATH } from '../../domain/uris.ts';

/**
 * Images bundled with the server (src/api/assets), served under /assets: the default instance
 * thumbnail, until an admin uploads one. Only the files listed here are served.
 */

const ASSETS: Record<string, { type: string }> = {
  'preview.png': { type: 'image/png' },
};

const ASSETS_DIR = new URL('../assets/', import.meta.url);

export function assetRoutes(app: FastifyInstance): void {
  const loaded = new Map<string, Buffer>();
  app.get<{ Params: { name: string } }>(`${ASSETS_PATH}/:name`, async (request, reply) => {
    const { name } = request.params;
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (asset === undefined) return reply.callNotFound();
    let body = loaded.get(name);
    if (body === undefined) {
      body = readFileSync(new URL(name, ASSETS_DIR));
      loaded.set(name, body);
    }
    return reply
      .type(asset.type)
      .header('cache-control', 'public, max-age=86400')
      .header('x-content-type-options', 'nosniff')
      .send(body);
  });
}
