import cors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * CORS for browser clients (Elk, Phanpy, …) that call the API from their own origin, as Mastodon's
 * config/initializers/cors.rb: any origin, no credentials (tokens travel in the Authorization
 * header, never in cookies), and only on the paths below — never on the HTML pages (`/oauth/authorize`,
 * `/auth/*`), whose cookies and forms must stay same-origin.
 *
 * A real preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered 204 on these
 * paths. Any other OPTIONS request goes through the normal routing, so it still gets its 404 or 405.
 */
const API_EXPOSED_HEADERS = [
  'Link',
  'Mastodon-Async-Refresh',
  'X-RateLimit-Reset',
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
  'X-Request-Id',
];

interface CorsResource {
  match: (path: string) => boolean;
  methods: string[];
  expose?: string[];
}

const RESOURCES: CorsResource[] = [
  { match: (p) => p.startsWith('/.well-known/'), methods: ['GET'] },
  { match: (p) => p.startsWith('/nodeinfo/'), methods: ['GET'] },
  { match: (p) => /^\/@[^/]+$/.test(p), methods: ['GET'] },
  { match: (p) => /^\/users\/[^/]+$/.test(p), methods: ['GET'] },
  {
    match: (p) => p.startsWith('/api/'),
    methods: ['POST', 'PUT', 'DELETE', 'GET', 'PATCH', 'OPTIONS'],
    expose: API_EXPOSED_HEADERS,
  },
  { match: (p) => p === '/oauth/token', methods: ['POST'] },
  { match: (p) => p === '/oauth/revoke', methods: ['POST'] },
  { match: (p) => p === '/oauth/userinfo', methods: ['GET', 'POST'] },
];

function pathOf(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  // Trailing slashes are ignored by the router, so `/oauth/token/` is the token endpoint too.
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

export function corsResourceFor(url: string): CorsResource | undefined {
  const path = pathOf(url);
  return RESOURCES.find((r) => r.match(path));
}

function isPreflight(request: FastifyRequest): boolean {
  return (
    request.method === 'OPTIONS' &&
    typeof request.headers.origin === 'string' &&
    typeof request.headers['access-control-request-method'] === 'string'
  );
}

/** One day: browsers cap it lower anyway (Chromium at 2 hours). */
const PREFLIGHT_MAX_AGE = 86_400;

export async function registerCors(app: FastifyInstance): Promise<void> {
  await app.register(cors, {
    hideOptionsRoute: true,
    delegator: (request, callback) => {
      const resource = corsResourceFor(request.url);
      if (resource === undefined) {
        callback(null, { origin: false });
        return;
      }
      callback(null, {
        origin: '*',
        credentials: false,
        methods: resource.methods,
        // No allowedHeaders: the request's Access-Control-Request-Headers are allowed (rack-cors's `headers: :any`).
        ...(resource.expose ? { exposedHeaders: resource.expose } : {}),
        maxAge: PREFLIGHT_MAX_AGE,
        // Only a real preflight is answered here; a bare OPTIONS is routed like any request (404/405).
        preflight: isPreflight(request),
        strictPreflight: false,
      });
    },
  });
}
