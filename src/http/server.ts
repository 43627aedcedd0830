import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import formbody from '@fastify/formbody';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
  type RouteOptions,
} from 'fastify';
import FindMyWay from 'find-my-way';
import { ApiError, errorBody, RECORD_NOT_FOUND } from '../api/errors.ts';
import { apiRoutes, registerApiHooks } from '../api/index.ts';
import { parseParams } from '../api/params.ts';
import type { RateLimitOptions } from '../api/rate-limit.ts';
import type { Context } from '../domain/context.ts';
import { pageRoutes } from '../pages/index.ts';
import type { StreamingOptions } from '../streaming/routes.ts';
import { registerBodyParsers } from './body.ts';
import { registerCors } from './cors.ts';
import { sendError } from './errors.ts';
import { healthRoutes } from './health.ts';
import { mediaFileRoutes } from './media-files.ts';

/**
 * The one HTTP entry of the web role (DESIGN.md §2): it builds the Fastify server and mounts the
 * REST API (src/api), the HTML pages (src/pages) and the streaming API (src/streaming) side by side —
 * federation joins them here. Conventions every route gets from here:
 * - request ids: an incoming `X-Request-Id` is kept when it is a short safe token, else one is
 *   generated; it is echoed in the response and on every log line of the request;
 * - client IP and scheme come from X-Forwarded-For/-Proto only when the peer is loopback or one of
 *   TRUSTED_PROXY_IP;
 * - bodies: JSON, and Rails-style parameters (`a[b]=1`, `ids[]=1`) from forms, multipart/form-data
 *   (file parts become UploadedFile values, src/http/multipart.ts) and query strings; other content
 *   types with a body are refused (415) — src/http/body.ts;
 * - errors, mapped to HTTP once (src/http/errors.ts): under /api and /oauth every error is JSON
 *   `{"error": "…"}` (DESIGN.md §4): 404 `Record not found`, 405 with `Allow` when the path exists
 *   for other methods, 413, 415, 400 for malformed bodies, and 500 `Internal server error` for
 *   crashes (logged with the request id, never shown).
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
  await registerBodyParsers(app);
  await app.register(formbody, { parser: (body: string) => parseParams(body, { strict: true }) });

  app.setErrorHandler(sendError);

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

  registerApiHooks(app, ctx, options.rateLimits);
  healthRoutes(app);
  apiRoutes(app, ctx);
  pageRoutes(app, ctx);
  mediaFileRoutes(app, ctx);
  if (options.streaming) {
    // Loaded only by the processes that stream (DESIGN.md §8): `woolly web` never loads ws.
    const { registerStreaming } = await import('../streaming/routes.ts');
    registerStreaming(app, ctx, options.streaming === true ? {} : options.streaming);
  } else {
    const { streamingRedirectRoutes } = await import('../streaming/redirect.ts');
    streamingRedirectRoutes(app, ctx);
  }

  return app;
}

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

function isApiPath(path: string): boolean {
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
