import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../api/errors.ts';
import { registerMultipart } from './multipart.ts';

/**
 * Request bodies: JSON, and multipart/form-data as nested parameters with files (multipart.ts).
 * application/x-www-form-urlencoded is @fastify/formbody with the same nesting (server.ts).
 */
export async function registerBodyParsers(app: FastifyInstance): Promise<void> {
  // Fastify's JSON parser refuses an empty body; clients send `Content-Type: application/json` with
  // none on bodiless POSTs (favourite, follow, …), which Mastodon accepts. Prototype poisoning is refused.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  const strictJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if ((body as string).trim() === '') {
      done(null, undefined);
      return;
    }
    strictJson(request, body as string, done);
  });
  await registerMultipart(app);
  // Any other type: fine without a body, refused with one.
  app.addContentTypeParser(
    '*',
    (
      request: FastifyRequest,
      _payload: IncomingMessage,
      done: (err: Error | null, body?: unknown) => void,
    ) => {
      const length = request.headers['content-length'];
      if (length === '0' || (length === undefined && request.headers['transfer-encoding'] === undefined)) {
        done(null, undefined);
        return;
      }
      const type = request.headers['content-type']?.split(';')[0]?.trim();
      done(
        new ApiError(
          415,
          type ? `Unsupported Content-Type: ${type}` : 'Content-Type is required with a request body',
        ),
      );
    },
  );
}
