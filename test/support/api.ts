import type { OutgoingHttpHeaders } from 'node:http';
import { after, before } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/http/server.ts';
import type { TestUser } from './accounts.ts';
import { createTestContext, type TestContext } from './context.ts';
import { assertMatchesSchema, schemaSkipReason } from './openapi.ts';

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
  /** A request as `user` (Bearer token) or anonymous, answered as JSON. */
  call(
    user: TestUser | null,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    payload?: Record<string, unknown>,
  ): Promise<ApiResponse>;
  /** Checks a value against an entity of the Mastodon OpenAPI description (when ../shared is there). */
  schema(value: unknown, name: string): void;
}

/**
 * One test context and one in-process API server for a test file: registers the file's `before`
 * and `after` hooks. The request throttles are raised out of the way; suites about them build
 * their own server.
 */
export function apiHarness(): ApiHarness {
  let ctx: TestContext | undefined;
  let app: FastifyInstance | undefined;
  before(async () => {
    ctx = await createTestContext();
    app = await buildServer(ctx, {
      rateLimits: {
        overrides: { per_token_api: { limit: 100_000 }, authenticated_api: { limit: 100_000 } },
      },
    });
    await app.ready();
  });
  after(async () => {
    await app?.close();
    await ctx?.close();
  });
  return {
    get ctx() {
      if (ctx === undefined) throw new Error('the test context exists once `before` has run');
      return ctx;
    },
    get app() {
      if (app === undefined) throw new Error('the server exists once `before` has run');
      return app;
    },
    async call(user, method, url, payload) {
      const response = await app!.inject({
        method,
        url,
        ...(user ? { headers: { authorization: `Bearer ${user.token}` } } : {}),
        ...(payload ? { payload } : {}),
      });
      return { status: response.statusCode, body: response.json(), headers: response.headers };
    },
    schema(value, name) {
      if (schemaSkipReason === undefined) assertMatchesSchema(value, name);
    },
  };
}
