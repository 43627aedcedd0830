import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Context } from '../domain/context.ts';
import { registerStreaming, type StreamingOptions } from '../streaming/routes.ts';
import { registerCors } from './cors.ts';
import { healthRoutes } from './health.ts';

/**
 * The app of `woolly streaming`: the streaming endpoints alone (plus `/health` for probes), for a
 * process that serves nothing else (DESIGN.md §2).
 */
export async function buildStreamingServer(
  ctx: Context,
  options: StreamingOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    disableRequestLogging: true,
    trustProxy: ['loopback', ...ctx.config.http.trustedProxies],
    return503OnClosing: true,
  });
  await registerCors(app);
  healthRoutes(app);
  registerStreaming(app, ctx, options);
  app.setNotFoundHandler((_request, reply) => {
    reply.code(404).header('cache-control', 'private, no-store').send({ error: 'Not found' });
  });
  app.setErrorHandler((error, request, reply) => {
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      reply.code(status).send({ error: (error as Error).message });
      return;
    }
    request.log.error({ err: error }, 'request failed');
    reply.code(500).send({ error: 'An unexpected error occurred' });
  });
  return app;
}
