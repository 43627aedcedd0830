import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import formbody from '@fastify/formbody';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
  type RouteOptions,
} from 'fastify';
import FindMyWay from 'find-my-way';
import { ActionLimitError } from '../domain/action-limits.ts';
import type { Context } from '../domain/context.ts';
import { ValidationError } from '../domain/validation.ts';
import { pageRoutes } from '../pages/index.ts';
import { PageError, sendPageError } from '../pages/layout.ts';
import { oauthAuthorizeRoutes } from '../pages/oauth/authorize.ts';
import type { StreamingOptions } from '../streaming/server.ts';
import { actionLimitHeaders } from './action-limits.ts';
import { registerAuth } from './auth.ts';
import { registerCors } from './cors.ts';
import { ApiError, errorBody, INTERNAL_ERROR, RECORD_NOT_FOUND } from './errors.ts';
import { ParamsError, parseParams } from './params.ts';
import { type RateLimitOptions, registerRateLimits, TOO_MANY_REQUESTS } from './rate-limit.ts';
import { accountRoutes } from './routes/accounts.ts';
import { appRoutes } from './routes/apps.ts';
import { assetRoutes } from './routes/assets.ts';
import { emailRoutes } from './routes/emails.ts';
import { healthRoutes } from './routes/health.ts';
import { instanceRoutes } from './routes/instance.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { oauthRoutes } from './routes/oauth.ts';
import { preferencesRoutes } from './routes/preferences.ts';
import { relationshipRoutes } from './routes/relationships.ts';
import { scheduledStatusRoutes } from './routes/scheduled-statuses.ts';
import { statusRoutes } from './routes/statuses.ts';
import { timelineRoutes } from './routes/timelines.ts';

/**
 * The web role's HTTP server: Mastodon's REST API and everything else served over HTTP
 * (DESIGN.md §2). Conventions every route gets from here:
 * - request ids: an incoming `X-Request-Id` is kept when it is a short safe token, else one is
 *   generated; it is echoed in the response and on every log line of the request;
 * - client IP and scheme come from X-Forwarded-For/-Proto only when the peer is loopback or one of
 *   TRUSTED_PROXY_IP;
 * - bodies: JSON and Rails-style form parameters (`a[b]=1`, `ids[]=1`), also in query strings;
 *   other content types with a body are refused (415);
 * - under /api and /oauth every error is JSON `{"error": "…"}` (DESIGN.md §4): 404 `Record not
 *   found`, 405 with `Allow` when the path exists for other methods, 413, 415, 400 for malformed
 *   bodies, and 500 `Internal server error` for crashes (logged with the request id, never shown).
 */
export interface ServerOptions {
  /** Other limits for some throttles (tests use small ones); see src/api/rate-limit.ts. */
  rateLimits?: RateLimitOptions;
  /** Sees every route as it is registered (the scope-matrix test enumerates the authorized routes). */
  onRoute?: (route: RouteOptions) => void;
  /**
   * Serve the streaming API on this server too (`woolly start`); options tune it (tests). Without
   * it, `/api/v1/streaming*` is redirected to STREAMING_API_BASE_URL or answered 404, as Rails does.
   */
  streaming?: boolean | StreamingOptions;
}

export async function buildServer(ctx: Context, options: ServerOptions = {}): Promise<FastifyInstance> {
  /** Every route's path and methods, to tell "no such path" (404) from "wrong method" (405). */
  const routeTable = FindMyWay({ ignoreTrailingSlash: true });

  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    genReqId: requestId,
    // One line per request, written by the onResponse hook below, instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: ['loopback', ...ctx.config.http.trustedProxies],
    bodyLimit: ctx.config.http.bodyLimit,
    return503OnClosing: true,
    routerOptions: {
      ignoreTrailingSlash: true,
      querystringParser: (query: string) => parseParams(query),
    },
    frameworkErrors: (error, request, rawReply) => {
      const reply = rawReply as unknown as FastifyReply;
      // Undecodable URLs, over-long path parameters: before any route or hook ran.
      const status =
        error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500
          ? error.statusCode
          : 400;
      reply.header('x-request-id', request.id);
      reply
        .code(status)
        .header('cache-control', 'private, no-store')
        .send(errorBody(status === 414 ? 'URI too long' : 'Bad request'));
      request.log.info(
        { err: { message: error.message, code: error.code }, url: redactUrl(request.url) },
        'malformed request',
      );
    },
  });

  if (options.onRoute) app.addHook('onRoute', options.onRoute);

  app.addHook('onRoute', (route) => {
    if (route.url.includes('*')) return; // catch-alls (CORS preflight, static) say nothing about a path existing
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      try {
        routeTable.on(method as 'GET', route.url, () => {});
      } catch {
        // the same path and method under another constraint: already known
      }
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // API routes take no format suffix (`/api/v1/instance.json`), as in Mastodon.
    if (isApiPath(pathOf(request.url)) && hasFormatSuffix(pathOf(request.url))) {
      throw new ApiError(404, RECORD_NOT_FOUND);
    }
  });

  app.addHook('onSend', async (request, reply) => {
    if (isApiPath(pathOf(request.url)) && !reply.hasHeader('cache-control')) {
      reply.header('cache-control', 'private, no-store');
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    // Probes hit /health every few seconds: keep them out of the info log.
    const level = request.url === '/health' && reply.statusCode === 200 ? 'debug' : 'info';
    request.log[level](
      {
        method: request.method,
        url: redactUrl(request.url),
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ip: request.ip,
      },
      'request',
    );
  });

  await registerCors(app);
  registerBodyParsers(app);
  await app.register(formbody, { parser: (body: string) => parseParams(body, { strict: true }) });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    sendError(error, request, reply);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request.url);
    if (!isApiPath(path)) {
      reply.code(404).type('text/html; charset=utf-8').send(NOT_FOUND_PAGE);
      return;
    }
    const allowed = hasFormatSuffix(path) ? [] : allowedMethods(routeTable, path);
    if (allowed.length > 0) {
      reply.code(405).header('allow', allowed.join(', ')).send(errorBody('Method not allowed'));
      return;
    }
    reply.code(404).send(errorBody(RECORD_NOT_FOUND));
  });

  registerRateLimits(app, ctx, options.rateLimits);
  registerAuth(app, ctx);
  healthRoutes(app);
  assetRoutes(app);
  instanceRoutes(app, ctx);
  statusRoutes(app, ctx);
  scheduledStatusRoutes(app, ctx);
  timelineRoutes(app, ctx);
  notificationRoutes(app, ctx);
  accountRoutes(app, ctx);
  relationshipRoutes(app, ctx);
  emailRoutes(app, ctx);
  preferencesRoutes(app, ctx);
  pageRoutes(app, ctx);
  appRoutes(app, ctx);
  oauthRoutes(app, ctx);
  oauthAuthorizeRoutes(app, ctx);
  if (options.streaming) {
    // Loaded only by the processes that stream (DESIGN.md §8): `woolly web` never loads ws.
    const { registerStreaming } = await import('../streaming/server.ts');
    registerStreaming(app, ctx, options.streaming === true ? {} : options.streaming);
  } else {
    const { streamingRedirectRoutes } = await import('../streaming/redirect.ts');
    streamingRedirectRoutes(app, ctx);
  }

  return app;
}

function registerBodyParsers(app: FastifyInstance): void {
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

/** Turns whatever was thrown into Mastodon's JSON error; anything unexpected becomes a logged 500. */
function sendError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof PageError) {
    sendPageError(reply, error);
    return;
  }
  reply.header('cache-control', 'private, no-store');
  if (error instanceof ApiError) {
    if (error.headers) reply.headers(error.headers);
    if (error.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    reply.code(error.statusCode).send(errorBody(error.message, error.extra));
    return;
  }
  if (error instanceof ActionLimitError) {
    reply.headers({ ...actionLimitHeaders(error.state), 'x-ratelimit-remaining': '0' });
    reply.code(429).send(errorBody(TOO_MANY_REQUESTS));
    return;
  }
  if (error instanceof ParamsError) {
    reply.code(400).send(errorBody(error.message));
    return;
  }
  if (error instanceof ValidationError) {
    reply.code(422).send(errorBody(error.message, { details: error.details }));
    return;
  }
  const fastifyError = error as FastifyError;
  const status = fastifyError.statusCode;
  if (
    typeof fastifyError.code === 'string' &&
    fastifyError.code.startsWith('FST_') &&
    status !== undefined &&
    status >= 400 &&
    status < 500
  ) {
    reply.code(status).send(errorBody(FRAMEWORK_MESSAGES[fastifyError.code] ?? fastifyError.message));
    return;
  }
  if (fastifyError.validation !== undefined) {
    reply.code(400).send(errorBody(fastifyError.message));
    return;
  }
  request.log.error({ err: error }, 'request failed');
  reply.code(500).send(errorBody(INTERNAL_ERROR));
}

const FRAMEWORK_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'Malformed JSON in request body',
  FST_ERR_CTP_BODY_TOO_LARGE: 'Request body is too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported Content-Type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Request body size did not match Content-Length',
};

const NOT_FOUND_PAGE =
  '<!doctype html><html><head><meta charset="utf-8"><title>Not found</title></head>' +
  '<body><h1>Not found</h1><p>The page you are looking for isn\u2019t here.</p></body></html>\n';

/** A client-supplied request id is kept only when it cannot smuggle anything into logs or headers. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

export function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/') || path === '/oauth' || path.startsWith('/oauth/');
}

/** `…/instance.json`, `…/statuses/1.xml`: a format suffix on the last segment. */
function hasFormatSuffix(path: string): boolean {
  if (!(path === '/api' || path.startsWith('/api/'))) return false;
  const last = path.replace(/\/+$/, '').split('/').pop() ?? '';
  return /\.[A-Za-z][A-Za-z0-9]*$/.test(last);
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

function allowedMethods(router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>, path: string): string[] {
  return METHODS.filter((method) => router.find(method, path) !== null);
}

/** Tokens must not reach the log (a streaming client may put its token in the query). */
function redactUrl(url: string): string {
  return url.replace(/([?&](?:access_token|token|code|client_secret|password)=)[^&]*/gi, '$1[redacted]');
}
