import type { OutgoingHttpHeaders } from 'node:http';
import { after, before } from 'node:test';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { RateLimitOptions } from '../../src/api/rate-limit.ts';
import type { Context } from '../../src/domain/context.ts';
import { buildServer, type ServerOptions } from '../../src/http/server.ts';
import type { Worker } from '../../src/infra/queue/queue.ts';
import { createJobRegistry } from '../../src/jobs/index.ts';
import type { TestUser } from './accounts.ts';
import { Browser } from './browser.ts';
import { createTestContext, type TestContext, type TestContextOptions } from './context.ts';
import { checkSchema } from './openapi.ts';

/**
 * The one way test files get an HTTP server (src/http/server.ts): `apiHarness()` for the file's
 * server, `buildTestServer()` for a second one with other options, `listen()` to put one on a port.
 */

/** Suites make many calls with one token: the two API-wide throttles are raised out of the way. */
const RAISED_API_THROTTLES: RateLimitOptions = {
  overrides: { per_token_api: { limit: 100_000 }, authenticated_api: { limit: 100_000 } },
};

export interface TestServerOptions {
  /** Throttle limits, instead of the raised API-wide ones; `{}` runs Woolly's own limits. */
  rateLimits?: RateLimitOptions;
  /** Serve the streaming API too, optionally tuned (heartbeats, buffers). */
  streaming?: ServerOptions['streaming'];
  /** Sees every route as it is registered. */
  onRoute?: ServerOptions['onRoute'];
  /** Registers routes only this suite has, on the real server, before it is ready. */
  routes?: (app: FastifyInstance) => Promise<unknown> | unknown;
}

/** A ready in-process server on `ctx`; the caller closes it (its context stays open). */
export async function buildTestServer(
  ctx: Context,
  options: TestServerOptions = {},
): Promise<FastifyInstance> {
  const app = await buildServer(ctx, {
    rateLimits: options.rateLimits ?? RAISED_API_THROTTLES,
    ...(options.streaming !== undefined ? { streaming: options.streaming } : {}),
    ...(options.onRoute ? { onRoute: options.onRoute } : {}),
  });
  try {
    await options.routes?.(app);
    await app.ready();
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

/** Puts a server on a loopback port; returns its HTTP and WebSocket base URLs. Closing the app stops it. */
export async function listen(app: FastifyInstance): Promise<{ http: string; ws: string }> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}` };
}

/** Runs the `mailers` queue with the real job handlers, as a worker does; the caller closes it. */
export function startMailWorker(ctx: Context): Worker {
  const registry = createJobRegistry(ctx);
  return ctx.queue.work(['mailers'], (job) => registry.dispatch(job), { concurrency: 1 });
}

export interface HarnessOptions extends TestServerOptions {
  /** Environment and logger of the file's test context (createTestContext). */
  context?: TestContextOptions;
  /** Changes the context before the server is built (a capturing mailer, say). */
  prepare?: (ctx: TestContext) => Promise<void> | void;
  /** Also run the mailers queue (startMailWorker), for suites that follow links in mails. */
  mailWorker?: boolean;
  /** Listen on a loopback port (WebSocket, SSE, fetch): `url` and `wsUrl` are set. */
  listen?: boolean;
}

export interface ApiResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body, asserted on by each test
  body: any;
  headers: OutgoingHttpHeaders;
}

export interface ApiHarness {
  /** The file's context and server, set once its `before` hook has run. */
  readonly ctx: TestContext;
  readonly app: FastifyInstance;
  /** With `listen: true`: http://127.0.0.1:port and ws://127.0.0.1:port. */
  readonly url: string;
  readonly wsUrl: string;
  /** A request as `user` (Bearer token) or anonymous, answered as JSON (undefined when empty). */
  call(
    user: TestUser | null,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    payload?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<ApiResponse>;
  /** Any request, answered as is (HTML, text, headers, status). */
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** A cookie-keeping browser on the server, for the HTML pages. */
  browser(headers?: Record<string, string>): Browser;
  /** Checks a value against an entity of the Mastodon OpenAPI description (when ../shared is there). */
  schema(value: unknown, name: string): void;
  /**
   * The file's own set-up (users, apps, seed data), run once the context and server exist. Use it
   * instead of a top-level `before`: root hooks start as they are registered, so a second one
   * would run alongside the harness's.
   */
  before(fn: () => Promise<void> | void): void;
}

/**
 * One test context and one in-process server for a test file: registers the file's `before` hook
 * (context, server, worker, port) and its `after` hook (closes them in reverse). The request
 * throttles are raised out of the way unless `rateLimits` says otherwise.
 */
export function apiHarness(options: HarnessOptions = {}): ApiHarness {
  let ctx: TestContext | undefined;
  let app: FastifyInstance | undefined;
  let worker: Worker | undefined;
  let urls: { http: string; ws: string } | undefined;
  const setups: (() => Promise<void> | void)[] = [];
  before(async () => {
    ctx = await createTestContext(options.context);
    await options.prepare?.(ctx);
    app = await buildTestServer(ctx, options);
    if (options.mailWorker) worker = startMailWorker(ctx);
    if (options.listen) urls = await listen(app);
    for (const setup of setups) await setup();
  });
  after(async () => {
    await worker?.close();
    await app?.close();
    await ctx?.close();
  });
  const server = () => {
    if (app === undefined) throw new Error('the server exists once `before` has run');
    return app;
  };
  const listening = () => {
    if (urls === undefined) throw new Error('the server listens once `before` has run, with `listen: true`');
    return urls;
  };
  return {
    get ctx() {
      if (ctx === undefined) throw new Error('the test context exists once `before` has run');
      return ctx;
    },
    get app() {
      return server();
    },
    get url() {
      return listening().http;
    },
    get wsUrl() {
      return listening().ws;
    },
    async call(user, method, url, payload, headers) {
      const response = await server().inject({
        method,
        url,
        headers: { ...(user ? { authorization: `Bearer ${user.token}` } : {}), ...headers },
        ...(payload ? { payload } : {}),
      });
      return {
        status: response.statusCode,
        body: response.body === '' ? undefined : response.json(),
        headers: response.headers,
      };
    },
    inject(request) {
      return server().inject(request);
    },
    browser(headers) {
      return new Browser(server(), headers);
    },
    schema(value, name) {
      checkSchema(value, name);
    },
    before(fn) {
      setups.push(fn);
    },
  };
}
