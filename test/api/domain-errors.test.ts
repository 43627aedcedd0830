import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { ActionLimitError } from '../../src/domain/action-limits.ts';
import { DomainError, type DomainErrorKind, isDomainError, notFound } from '../../src/domain/errors.ts';
import { OAuthError } from '../../src/domain/oauth/errors.ts';
import { ValidationError } from '../../src/domain/validation.ts';
import { sendError } from '../../src/http/errors.ts';

/** A bare server with only the error handler: what a thrown domain error becomes on the wire. */
async function throwing(
  error: Error,
  headers: Record<string, string> = {},
): Promise<ReturnType<FastifyInstance['inject']>> {
  const app = Fastify();
  app.setErrorHandler(sendError);
  app.post('/api/test', async () => {
    throw error;
  });
  await app.ready();
  try {
    return await app.inject({ method: 'POST', url: '/api/test', headers });
  } finally {
    await app.close();
  }
}

const KINDS: [DomainErrorKind, number][] = [
  ['not_found', 404],
  ['forbidden', 403],
  ['unprocessable', 422],
  ['conflict', 409],
  ['rate_limited', 429],
  ['unavailable', 503],
];

test('each kind is answered with its status, the message and the extra members', async () => {
  for (const [kind, status] of KINDS) {
    const res = await throwing(new DomainError(kind, `refused: ${kind}`, { hint: 1 }));
    assert.equal(res.statusCode, status, kind);
    assert.deepEqual(res.json(), { hint: 1, error: `refused: ${kind}` });
    assert.equal(res.headers['cache-control'], 'private, no-store');
  }
  const missing = await throwing(notFound());
  assert.deepEqual([missing.statusCode, missing.json()], [404, { error: 'Record not found' }]);
});

test('a ValidationError is a 422 with its details', async () => {
  const error = ValidationError.of('username', 'Username', 'ERR_TAKEN');
  assert.ok(isDomainError(error, 'unprocessable'));
  const res = await throwing(error);
  assert.equal(res.statusCode, 422);
  assert.deepEqual(res.json(), {
    details: { username: [{ error: 'ERR_TAKEN', description: 'has already been taken' }] },
    error: 'Validation failed: Username has already been taken',
  });
});

test('an exhausted action limit is a 429 with the X-RateLimit headers of its window', async () => {
  const resetAt = new Date(Date.UTC(2030, 0, 1));
  const res = await throwing(new ActionLimitError({ family: 'follows', limit: 400, remaining: 0, resetAt }));
  assert.equal(res.statusCode, 429);
  assert.deepEqual(res.json(), { error: 'Too many requests' });
  assert.equal(res.headers['x-ratelimit-limit'], '400');
  assert.equal(res.headers['x-ratelimit-remaining'], '0');
  assert.equal(new Date(String(res.headers['x-ratelimit-reset'])).getTime(), resetAt.getTime());
});

test('OAuth errors keep RFC 6749 bodies: 400, or 401 with a challenge for client authentication', async () => {
  const grant = await throwing(new OAuthError('invalid_grant'));
  assert.equal(grant.statusCode, 400);
  assert.equal(grant.json().error, 'invalid_grant');
  assert.match(grant.json().error_description, /authorization grant is invalid/);
  assert.equal(grant.headers['cache-control'], 'no-store');
  assert.equal(grant.headers.pragma, 'no-cache');
  assert.equal(grant.headers['www-authenticate'], undefined);

  const client = await throwing(new OAuthError('invalid_client'));
  assert.equal(client.statusCode, 401);
  assert.match(String(client.headers['www-authenticate']), /^Bearer realm="Woolly", error="invalid_client"/);

  // The challenge names the scheme the client authenticated with.
  const basic = Buffer.from('id:secret').toString('base64');
  const viaBasic = await throwing(new OAuthError('invalid_client'), { authorization: `Basic ${basic}` });
  assert.equal(viaBasic.statusCode, 401);
  assert.equal(viaBasic.headers['www-authenticate'], 'Basic realm="Woolly"');
});

test('isDomainError narrows by kind', () => {
  const error = new DomainError('conflict', 'x');
  assert.ok(isDomainError(error));
  assert.ok(isDomainError(error, 'conflict', 'forbidden'));
  assert.ok(!isDomainError(error, 'not_found'));
  assert.ok(!isDomainError(new Error('x')));
});
