import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../domain/context.ts';

/**
 * `/api/v1/streaming*` on a web role that does not serve streaming itself, as Mastodon's Rails
 * answers it: a 301 to the same path on STREAMING_API_BASE_URL when that is another host, else 404
 * (the reverse proxy should have routed the request to the streaming role).
 */
export function streamingRedirectRoutes(app: FastifyInstance, ctx: Pick<Context, 'config'>): void {
  const base = new URL(ctx.config.streaming.baseUrl);
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const hostHeader = request.headers.host ?? '';
    const scheme = request.protocol;
    if (sameHost(hostHeader, scheme, base)) {
      return reply.code(404).send({ error: 'Record not found' });
    }
    const target = new URL(request.url, `${scheme}://${hostHeader || base.host}`);
    target.hostname = base.hostname;
    target.port = base.port;
    return reply.code(301).header('location', target.toString()).send();
  };
  app.get('/api/v1/streaming', handler);
  app.get('/api/v1/streaming/*', handler);
}

/**
 * The request reached the host the base URL names. Ports count only when the base URL has one: a
 * TLS-terminating proxy makes the scheme and port the web role sees differ from the public ones.
 */
function sameHost(hostHeader: string, scheme: string, base: URL): boolean {
  let requested: URL;
  try {
    requested = new URL(`${scheme}://${hostHeader}`);
  } catch {
    return false;
  }
  if (requested.hostname.toLowerCase() !== base.hostname.toLowerCase()) return false;
  return base.port === '' || base.port === requested.port;
}
