import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { ApiError } from '../../src/api/errors.ts';
import type { Context } from '../../src/domain/context.ts';
import { apiHarness, buildTestServer } from '../support/api.ts';

const BODY_LIMIT = 4096;

/** Routes that exist only in this test, registered on the real server as a plugin would be. */
async function withTestRoutes(app: FastifyInstance): Promise<FastifyInstance> {
  await app.register(async (scope) => {
    scope.post('/api/test/echo', async (request) => ({ body: request.body ?? null, query: request.query }));
    scope.get('/api/test/items/:id', async (request) => ({ id: (request.params as { id: string }).id }));
    scope.get('/api/test/crash', async () => {
      throw new Error('database password is hunter2 at /srv/woolly/secret.ts:42');
    });
    scope.get('/api/test/teapot', async () => {
      throw new ApiError(422, 'Validation failed: Text can\u2019t be blank', {
        extra: { details: { text: [] } },
      });
    });
    scope.get('/api/test/ip', async (request) => ({ ip: request.ip, protocol: request.protocol }));
    scope.get('/oauth/test', async () => ({ ok: true }));
  });
  return app;
}

const logLines: Record<string, unknown>[] = [];

const api = apiHarness({
  context: {
    env: { WOOLLY_BODY_LIMIT: String(BODY_LIMIT) },
    log: pino(
      { level: 'info' },
      { write: (line: string) => logLines.push(JSON.parse(line) as Record<string, unknown>) },
    ),
  },
  routes: withTestRoutes,
});

function assertJsonError(
  res: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
  message?: string,
) {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = JSON.parse(res.body) as { error?: unknown };
  assert.equal(typeof body.error, 'string');
  if (message !== undefined) assert.equal(body.error, message);
  return body;
}

describe('not found and wrong method', () => {
  test('an unknown API route is a JSON 404 "Record not found"', async () => {
    for (const url of [
      '/api/v1/nothing',
      '/api/v9/instance',
      '/api',
      '/api/v1/instance/peers',
      '/oauth/nothing',
    ]) {
      assertJsonError(await api.inject({ method: 'GET', url }), 404, 'Record not found');
    }
  });

  test('outside /api a 404 is a plain page', async () => {
    const res = await api.inject({ method: 'GET', url: '/no/such/page' });
    assert.equal(res.statusCode, 404);
    assert.match(String(res.headers['content-type']), /^text\/html/);
  });

  test('a path that exists with other methods is a 405 with Allow', async () => {
    const res = await api.inject({ method: 'DELETE', url: '/api/v2/instance' });
    assertJsonError(res, 405);
    assert.equal(res.headers.allow, 'GET, HEAD');

    const post = await api.inject({ method: 'GET', url: '/api/test/echo' });
    assertJsonError(post, 405);
    assert.equal(post.headers.allow, 'POST');

    const param = await api.inject({ method: 'PUT', url: '/api/test/items/123' });
    assertJsonError(param, 405);
    assert.equal(param.headers.allow, 'GET, HEAD');
  });

  test('API routes take no format suffix', async () => {
    for (const url of ['/api/v1/instance.json', '/api/v2/instance.xml', '/api/test/items/1.json']) {
      assertJsonError(await api.inject({ method: 'GET', url }), 404, 'Record not found');
    }
    // The same paths without the suffix exist.
    assert.equal((await api.inject({ method: 'GET', url: '/api/test/items/1' })).statusCode, 200);
    assert.equal((await api.inject({ method: 'GET', url: '/api/v2/instance' })).statusCode, 200);
  });

  test('an undecodable URL is a JSON 400 with a request id', async () => {
    for (const url of ['/api/test/items/%E0%A4%A', '/api/v1/x/%ZZ']) {
      const res = await api.inject({ method: 'GET', url });
      assertJsonError(res, 400, 'Bad request');
      assert.ok(res.headers['x-request-id']);
    }
  });

  test('a trailing slash is ignored, as in Rails', async () => {
    assert.equal((await api.inject({ method: 'GET', url: '/api/v2/instance/' })).statusCode, 200);
  });
});

describe('request bodies', () => {
  test('JSON bodies are parsed', async () => {
    const res = await api.inject({
      method: 'POST',
      url: '/api/test/echo',
      payload: { status: 'hi', media_ids: ['1'] },
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().body, { status: 'hi', media_ids: ['1'] });
  });

  test('form bodies are parsed with Rails-style nested keys and arrays', async () => {
    const res = await api.inject({
      method: 'POST',
      url: '/api/test/echo?types[]=mention&types[]=follow&limit=5',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      payload:
        'subscription[endpoint]=https%3A%2F%2Fpush.example%2Fx&subscription[keys][p256dh]=abc&data[alerts][follow]=true' +
        '&ids[]=1&ids[]=2&fields_attributes[0][name]=a&fields_attributes[0][value]=b&status=caf%C3%A9+au+lait',
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), {
      body: {
        subscription: { endpoint: 'https://push.example/x', keys: { p256dh: 'abc' } },
        data: { alerts: { follow: 'true' } },
        ids: ['1', '2'],
        fields_attributes: { '0': { name: 'a', value: 'b' } },
        status: 'café au lait',
      },
      query: { types: ['mention', 'follow'], limit: '5' },
    });
  });

  test('a form body whose keys conflict is a 400', async () => {
    const res = await api.inject({
      method: 'POST',
      url: '/api/test/echo',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'a=1&a[b]=2',
    });
    assertJsonError(res, 400);
  });

  test('a bodiless POST is accepted whatever its Content-Type says', async () => {
    for (const type of ['application/json', 'application/x-www-form-urlencoded', 'text/plain', undefined]) {
      const res = await api.inject({
        method: 'POST',
        url: '/api/test/echo',
        headers: type ? { 'content-type': type } : {},
      });
      assert.equal(res.statusCode, 200, `${type}: ${res.body}`);
      // No body, or an empty form: handlers treat a missing body as no parameters.
      assert.ok(
        res.json().body === null || Object.keys(res.json().body).length === 0,
        `${type}: ${res.body}`,
      );
    }
  });

  test('malformed JSON is a JSON 400', async () => {
    for (const payload of ['{"status": "unterminated', '{status: 1}', '[1,]']) {
      const res = await api.inject({
        method: 'POST',
        url: '/api/test/echo',
        headers: { 'content-type': 'application/json' },
        payload,
      });
      assertJsonError(res, 400);
    }
  });

  test('JSON with prototype poisoning is refused', async () => {
    const res = await api.inject({
      method: 'POST',
      url: '/api/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"__proto__": {"admin": true}}',
    });
    assertJsonError(res, 400);
    assert.equal(({} as Record<string, unknown>).admin, undefined);
  });

  test('a body over the configured limit is a JSON 413', async () => {
    assert.equal(api.ctx.config.http.bodyLimit, BODY_LIMIT);
    const fits = await api.inject({
      method: 'POST',
      url: '/api/test/echo',
      payload: { text: 'x'.repeat(BODY_LIMIT - 100) },
    });
    assert.equal(fits.statusCode, 200);
    const json = await api.inject({
      method: 'POST',
      url: '/api/test/echo',
      payload: { text: 'x'.repeat(BODY_LIMIT + 1) },
    });
    assertJsonError(json, 413);
    const form = await api.inject({
      method: 'POST',
      url: '/api/test/echo',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `text=${'x'.repeat(BODY_LIMIT + 1)}`,
    });
    assertJsonError(form, 413);
  });

  test('an unsupported content type with a body is a JSON 415', async () => {
    const res = await api.inject({
      method: 'POST',
      url: '/api/test/echo',
      headers: { 'content-type': 'text/plain' },
      payload: 'hello',
    });
    assertJsonError(res, 415);
    const xml = await api.inject({
      method: 'POST',
      url: '/api/test/echo',
      headers: { 'content-type': 'application/xml' },
      payload: '<a/>',
    });
    assertJsonError(xml, 415);
  });
});

describe('crashes and thrown errors', () => {
  test('a route that throws is a JSON 500 without internals, logged with the request id', async () => {
    const res = await api.inject({
      method: 'GET',
      url: '/api/test/crash',
      headers: { 'x-request-id': 'crash-test-1' },
    });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json(), { error: 'Internal server error' });
    assert.doesNotMatch(res.body, /hunter2|secret\.ts|at |stack/);
    assert.equal(res.headers['x-request-id'], 'crash-test-1');
    const logged = logLines.find((l) => l.reqId === 'crash-test-1' && l.level === 50);
    assert.ok(logged, 'the crash is logged at error level with the request id');
    assert.match(JSON.stringify(logged.err), /hunter2/);
  });

  test('an ApiError keeps its status, message and extra members', async () => {
    const res = await api.inject({ method: 'GET', url: '/api/test/teapot' });
    const body = assertJsonError(res, 422, 'Validation failed: Text can\u2019t be blank');
    assert.deepEqual((body as { details?: unknown }).details, { text: [] });
  });

  test('errors under /oauth are JSON too', async () => {
    assertJsonError(await api.inject({ method: 'POST', url: '/oauth/test' }), 405);
  });
});

describe('request ids', () => {
  test('a safe incoming X-Request-Id is echoed and logged', async () => {
    const res = await api.inject({
      method: 'GET',
      url: '/api/v2/instance',
      headers: { 'x-request-id': 'abc-123_DEF.4:5' },
    });
    assert.equal(res.headers['x-request-id'], 'abc-123_DEF.4:5');
    assert.ok(
      logLines.some((l) => l.reqId === 'abc-123_DEF.4:5' && l.msg === 'request' && l.statusCode === 200),
    );
  });

  test('an unsafe or missing one is replaced by a generated id', async () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const incoming of ['has space', 'x'.repeat(200), 'evil"\\', '']) {
      const res = await api.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': incoming } });
      assert.match(String(res.headers['x-request-id']), uuid);
    }
    const a = await api.inject({ method: 'GET', url: '/api/nothing' });
    const b = await api.inject({ method: 'GET', url: '/api/nothing' });
    assert.match(String(a.headers['x-request-id']), uuid);
    assert.notEqual(a.headers['x-request-id'], b.headers['x-request-id']);
  });

  test('error responses carry the request id too', async () => {
    for (const [method, url] of [
      ['GET', '/api/nothing'],
      ['DELETE', '/api/v2/instance'],
      ['GET', '/api/test/crash'],
    ] as const) {
      const res = await api.inject({ method, url, headers: { 'x-request-id': `err-${method}` } });
      assert.equal(res.headers['x-request-id'], `err-${method}`);
    }
  });
});

describe('trusted proxies', () => {
  const forwarded = { 'x-forwarded-for': '198.51.100.9', 'x-forwarded-proto': 'https' };

  test('X-Forwarded-For/-Proto are honoured from loopback', async () => {
    const res = await api.inject({
      method: 'GET',
      url: '/api/test/ip',
      headers: forwarded,
      remoteAddress: '127.0.0.1',
    });
    assert.deepEqual(res.json(), { ip: '198.51.100.9', protocol: 'https' });
  });

  test('they are ignored from a peer that is not a trusted proxy', async () => {
    const res = await api.inject({
      method: 'GET',
      url: '/api/test/ip',
      headers: forwarded,
      remoteAddress: '203.0.113.7',
    });
    assert.deepEqual(res.json(), { ip: '203.0.113.7', protocol: 'http' });
  });

  test('they are honoured from a peer in TRUSTED_PROXY_IP', async () => {
    const behindProxy: Context = {
      ...api.ctx,
      config: { ...api.ctx.config, http: { ...api.ctx.config.http, trustedProxies: ['203.0.113.0/24'] } },
    };
    const proxied = await buildTestServer(behindProxy, { routes: withTestRoutes });
    try {
      const res = await proxied.inject({
        method: 'GET',
        url: '/api/test/ip',
        headers: forwarded,
        remoteAddress: '203.0.113.7',
      });
      assert.deepEqual(res.json(), { ip: '198.51.100.9', protocol: 'https' });
      const other = await proxied.inject({
        method: 'GET',
        url: '/api/test/ip',
        headers: forwarded,
        remoteAddress: '192.0.2.1',
      });
      assert.deepEqual(other.json(), { ip: '192.0.2.1', protocol: 'http' });
    } finally {
      await proxied.close();
    }
  });
});

describe('health and caching', () => {
  test('GET and HEAD /health answer 200 OK as text', async () => {
    const res = await api.inject({ method: 'GET', url: '/health' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, 'OK');
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    const head = await api.inject({ method: 'HEAD', url: '/health' });
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, '');
  });

  test('API responses are private and not stored unless a route says otherwise', async () => {
    const res = await api.inject({ method: 'POST', url: '/api/test/echo', payload: {} });
    assert.equal(res.headers['cache-control'], 'private, no-store');
    const error = await api.inject({ method: 'GET', url: '/api/nothing' });
    assert.equal(error.headers['cache-control'], 'private, no-store');
  });
});

describe('over a real socket', () => {
  test('health, a 413 and a 415 answer cleanly over HTTP', async () => {
    const server = await buildTestServer(api.ctx, { routes: withTestRoutes });
    try {
      const address = await server.listen({ host: '127.0.0.1', port: 0 });
      const health = await fetch(`${address}/health`);
      assert.equal(health.status, 200);
      assert.equal(await health.text(), 'OK');
      const big = await fetch(`${address}/api/test/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'x'.repeat(BODY_LIMIT * 4) }),
      });
      assert.equal(big.status, 413);
      assert.equal(typeof ((await big.json()) as { error: unknown }).error, 'string');
      const text = await fetch(`${address}/api/test/echo`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'hi',
      });
      assert.equal(text.status, 415);
      assert.ok(text.headers.get('x-request-id'));
    } finally {
      await server.close();
    }
  });
});
