import type { FastifyInstance } from 'fastify';

/** `GET /health` (and HEAD): 200 `OK` while the process serves, for load balancers and probes. */
export function healthRoutes(app: FastifyInstance): void {
  app.get('/health', async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send('OK'),
  );
}
