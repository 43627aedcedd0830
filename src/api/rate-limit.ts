import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../domain/context.ts';
import { authenticateRequestToken, bearerToken } from './auth.ts';
import { ApiError } from './errors.ts';

/**
 * Mastodon's request throttles (Rack::Attack, mastodon.md §8.1): fixed windows aligned to the epoch,
 * counted in the cache (Redis in the scaled shape, so every web process shares the counts). API
 * responses carry `X-RateLimit-Limit/-Remaining/-Reset` for the most constrained throttle that
 * applied; a request over a limit gets 429 `{"error": "Too many requests"}` with the same headers.
 * Limits specific to one route that is not an API call (sign-in attempts, app registrations) use
 * `throttle()` directly in that route.
 */

export const TOO_MANY_REQUESTS = 'Too many requests';

export interface ThrottleResult {
  name: string;
  allowed: boolean;
  limit: number;
  count: number;
  remaining: number;
  /** When the window ends and the count starts again. */
  resetAt: Date;
}

/**
 * Counts one hit of `key` (an IP, a user id, an e-mail address…) against `name`'s limit. The key is
 * hashed before it reaches the cache: no address or token ends up in Redis keys.
 */
export async function throttle(
  ctx: Pick<Context, 'cache'>,
  name: string,
  key: string,
  limit: number,
  periodSeconds: number,
  now: number = Date.now(),
): Promise<ThrottleResult> {
  const [result] = await throttleMany(ctx, [{ name, key, limit, periodSeconds }], now);
  return result!;
}

/** Counts one hit against each of several throttles in one cache call (one Redis round trip). */
export async function throttleMany(
  ctx: Pick<Context, 'cache'>,
  hits: readonly { name: string; key: string; limit: number; periodSeconds: number }[],
  now: number = Date.now(),
): Promise<ThrottleResult[]> {
  const nowSeconds = Math.floor(now / 1000);
  const windows = hits.map(({ name, key, limit, periodSeconds }) => {
    const window = Math.floor(nowSeconds / periodSeconds);
    const digest = createHash('sha256').update(key).digest('base64url').slice(0, 22);
    return {
      name,
      limit,
      resetAt: new Date((window + 1) * periodSeconds * 1000),
      key: `throttle:${name}:${window}:${digest}`,
      ttlSeconds: Math.max(1, (window + 1) * periodSeconds - nowSeconds),
    };
  });
  const counters = await ctx.cache.incrMany(windows);
  return windows.map(({ name, limit, resetAt }, i) => {
    const { count } = counters[i]!;
    return { name, allowed: count <= limit, limit, count, remaining: Math.max(0, limit - count), resetAt };
  });
}

/** Mastodon's reset time format: ISO 8601 with microseconds. */
function resetHeader(date: Date): string {
  return date.toISOString().replace(/Z$/, '000Z');
}

export function rateLimitHeaders(result: ThrottleResult): Record<string, string> {
  return {
    'x-ratelimit-limit': String(result.limit),
    'x-ratelimit-remaining': String(result.remaining),
    'x-ratelimit-reset': resetHeader(result.resetAt),
  };
}

/** The 429 for a throttle that refused, with its headers. */
export function tooManyRequests(result: ThrottleResult): ApiError {
  return new ApiError(429, TOO_MANY_REQUESTS, {
    headers: { ...rateLimitHeaders(result), 'x-ratelimit-remaining': '0' },
  });
}

/** What a throttle rule sees of a request. */
export interface ThrottleRequest {
  method: string;
  path: string;
  /** The client IP, IPv6 reduced to its /64 (one household or server). */
  ip: string;
  userId: string | undefined;
  tokenId: string | undefined;
  paging: boolean;
}

export interface ThrottleRule {
  name: string;
  limit: number;
  periodSeconds: number;
  /** The counter this request adds to, or undefined when the rule does not apply. */
  key(request: ThrottleRequest): string | undefined;
}

const api = (r: ThrottleRequest) => r.path === '/api' || r.path.startsWith('/api/');
const MINUTE = 60;

/** Mastodon's throttles for what Woolly serves; web-form throttles live with their pages. */
export const THROTTLE_RULES: readonly ThrottleRule[] = [
  {
    name: 'authenticated_api',
    limit: 1500,
    periodSeconds: 5 * MINUTE,
    key: (r) => (api(r) ? r.userId : undefined),
  },
  {
    name: 'per_token_api',
    limit: 300,
    periodSeconds: 5 * MINUTE,
    key: (r) => (api(r) ? r.tokenId : undefined),
  },
  {
    name: 'unauthenticated_api',
    limit: 300,
    periodSeconds: 5 * MINUTE,
    key: (r) => (api(r) && r.userId === undefined ? r.ip : undefined),
  },
  {
    name: 'api_media',
    limit: 30,
    periodSeconds: 30 * MINUTE,
    key: (r) => (r.method === 'POST' && /^\/api\/v\d+\/media$/i.test(r.path) ? r.userId : undefined),
  },
  {
    name: 'api_sign_up',
    limit: 5,
    periodSeconds: 30 * MINUTE,
    key: (r) => (r.method === 'POST' && r.path === '/api/v1/accounts' ? r.ip : undefined),
  },
  {
    name: 'authenticated_paging',
    limit: 300,
    periodSeconds: 15 * MINUTE,
    key: (r) => (r.paging ? r.userId : undefined),
  },
  {
    name: 'unauthenticated_paging',
    limit: 300,
    periodSeconds: 15 * MINUTE,
    key: (r) => (r.paging && r.userId === undefined ? r.ip : undefined),
  },
  {
    name: 'api_delete',
    limit: 30,
    periodSeconds: 30 * MINUTE,
    key: (r) =>
      (r.method === 'POST' && /^\/api\/v1\/statuses\/\d+\/unreblog$/.test(r.path)) ||
      (r.method === 'DELETE' && /^\/api\/v1\/statuses\/\d+$/.test(r.path))
        ? r.userId
        : undefined,
  },
  {
    name: 'email_confirmations/ip',
    limit: 25,
    periodSeconds: 5 * MINUTE,
    key: (r) => (r.method === 'POST' && r.path === '/api/v1/emails/confirmations' ? r.ip : undefined),
  },
  {
    name: 'email_confirmations/email',
    limit: 5,
    periodSeconds: 30 * MINUTE,
    key: (r) => (r.method === 'POST' && r.path === '/api/v1/emails/confirmations' ? r.userId : undefined),
  },
];

export interface RateLimitOptions {
  /** Other limits for some rules, by name (tests use small ones). */
  overrides?: Record<string, { limit?: number; periodSeconds?: number }>;
}

/** IPv6 clients are counted per /64, as Mastodon does; IPv4-mapped addresses as IPv4. */
export function throttleIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

const PAGING_KEYS = ['page', 'min_id', 'max_id', 'since_id'];

export function registerRateLimits(app: FastifyInstance, ctx: Context, options: RateLimitOptions = {}): void {
  const rules = THROTTLE_RULES.map((rule) => ({ ...rule, ...options.overrides?.[rule.name] }));

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method === 'OPTIONS') return; // CORS preflights are not calls
    const path = pathOf(request.url);
    const isApi = path === '/api' || path.startsWith('/api/');
    const query = (request.query ?? {}) as Record<string, unknown>;
    let userId: string | undefined;
    let tokenId: string | undefined;
    if (isApi) {
      // The token is resolved here, as Rack::Attack does, before any route reads it; the route's
      // authorization reuses the answer. An invalid token counts as no token (per IP).
      const bearer = bearerToken(request);
      if (bearer !== undefined) {
        const auth = await authenticateRequestToken(ctx, request, bearer);
        tokenId = auth?.tokenId;
        userId = auth?.user?.id;
      }
    }
    const subject: ThrottleRequest = {
      method: request.method,
      path,
      ip: throttleIp(request.ip),
      userId,
      tokenId,
      paging: PAGING_KEYS.some((k) => query[k] !== undefined && query[k] !== ''),
    };
    const applicable = rules.flatMap((rule) => {
      const key = rule.key(subject);
      return key === undefined ? [] : [{ rule, key }];
    });
    if (applicable.length === 0) return;
    let results: ThrottleResult[];
    try {
      results = await throttleMany(
        ctx,
        applicable.map(({ rule, key }) => ({
          name: rule.name,
          key,
          limit: rule.limit,
          periodSeconds: rule.periodSeconds,
        })),
      );
    } catch (err) {
      // Counters are a safeguard: when the cache is unreachable the request goes on (as Rack::Attack).
      request.log.warn({ err }, 'rate limit counters unavailable');
      return;
    }
    const refused = results.find((r) => !r.allowed);
    if (refused !== undefined) throw tooManyRequests(refused);
    if (isApi) {
      const tightest = results.reduce((a, b) => (b.remaining < a.remaining ? b : a));
      reply.headers(rateLimitHeaders(tightest));
    }
  });
}
