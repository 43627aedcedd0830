import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { users } from '../../src/db/schema/index.ts';
import { issueAccessToken, revokeAccessToken } from '../../src/domain/auth/tokens.ts';
import { presenceKey } from '../../src/domain/streaming/channels.ts';
import { fanOutStatus } from '../../src/domain/timelines/distribution.ts';
import type { PubSub } from '../../src/infra/pubsub/pubsub.ts';
import { streamingHub } from '../../src/streaming/routes.ts';
import { createTestUser, type TestUser } from '../support/accounts.ts';
import { apiHarness, buildTestServer, listen } from '../support/api.ts';
import { createTestContext } from '../support/context.ts';
import { block, mute } from '../support/graph.ts';
import {
  openSse,
  openWs,
  type RefusedUpgrade,
  type SseClient,
  type SseRefusal,
  type WsClient,
  type WsFrame,
} from './clients.ts';

const api = apiHarness({ streaming: true, listen: true });

const publish = (channel: string, event: string, payload?: unknown) =>
  api.ctx.pubsub.publish(channel, JSON.stringify(payload === undefined ? { event } : { event, payload }));

let serial = 0;

/** A Status entity as the publishers put it on the wire (only what the streams read matters). */
function status(
  author: { id: string; acct: string },
  options: { mentions?: string[]; language?: string | null } = {},
): Record<string, unknown> {
  serial++;
  return {
    id: `9${serial}`,
    content: `<p>status ${serial}</p>`,
    language: options.language === undefined ? 'en' : options.language,
    account: { id: author.id, username: author.acct.split('@')[0], acct: author.acct },
    mentions: (options.mentions ?? []).map((id) => ({ id, username: `u${id}`, acct: `u${id}` })),
  };
}

const local = (user: TestUser) => ({ id: user.account.id, acct: user.account.username });

/** Sends a subscription that fails and waits for its error: every earlier message has been applied. */
async function barrier(client: WsClient): Promise<void> {
  client.send({ type: 'subscribe', stream: 'barrier' });
  const frame = await client.next();
  // Unknown stream, or the scope error for a token without read:statuses.
  assert.equal(typeof frame.error, 'string', `expected the barrier's error, got ${JSON.stringify(frame)}`);
}

/** Publishes a `delete` on the channel and expects it as the next frame: nothing else came before. */
async function expectNothingBefore(client: WsClient, channel: string): Promise<void> {
  const id = `sentinel-${++serial}`;
  await publish(channel, 'delete', id);
  const frame = await client.next();
  assert.equal(frame.event, 'delete', `expected nothing before the sentinel, got ${JSON.stringify(frame)}`);
  assert.equal(frame.payload, id);
}

const bearer = (user: TestUser) => ({ authorization: `Bearer ${user.token}` });

describe('health', { timeout: 60_000 }, () => {
  test('GET /api/v1/streaming/health answers OK', async () => {
    const res = await fetch(`${api.url}/api/v1/streaming/health`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'OK');
    assert.equal(res.headers.get('cache-control'), 'private, no-store');
  });
});

describe('WebSocket authentication', { timeout: 60_000 }, () => {
  test('by header, by access_token and by Sec-WebSocket-Protocol (echoed back)', async () => {
    const user = await createTestUser(api.ctx);
    const byHeader = await openWs(`${api.wsUrl}/api/v1/streaming?stream=public`, { headers: bearer(user) });
    const byQuery = await openWs(`${api.wsUrl}/api/v1/streaming?stream=public&access_token=${user.token}`);
    const byProtocol = await openWs(`${api.wsUrl}/api/v1/streaming?stream=public`, {
      protocols: [user.token],
    });
    assert.equal(byProtocol.socket.protocol, user.token);
    const entity = status(local(user));
    await publish('timeline:public', 'update', entity);
    for (const client of [byHeader, byQuery, byProtocol]) {
      const frame = await client.next();
      assert.deepEqual(frame.stream, ['public']);
      assert.equal(frame.event, 'update');
      // Object payloads are JSON text inside the JSON frame, as Mastodon sends them.
      assert.equal(typeof frame.payload, 'string');
      assert.deepEqual(JSON.parse(frame.payload!), entity);
      client.close();
    }
  });

  async function refused(url: string, headers: Record<string, string> = {}): Promise<RefusedUpgrade> {
    try {
      const client = await openWs(url, { headers });
      client.close();
    } catch (error) {
      return error as RefusedUpgrade;
    }
    assert.fail('the upgrade was accepted');
  }

  test('refuses missing, unknown, revoked and app-only tokens with 401 before the upgrade', async () => {
    const missing = await refused(`${api.wsUrl}/api/v1/streaming?stream=public`);
    assert.equal(missing.status, 401);
    assert.equal(missing.headers['x-error-message'], 'Missing access token');
    assert.deepEqual(JSON.parse(missing.body), { error: 'Missing access token' });

    const unknown = await refused(`${api.wsUrl}/api/v1/streaming`, { authorization: 'Bearer nope' });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.headers['x-error-message'], 'Invalid access token');

    const user = await createTestUser(api.ctx);
    await revokeAccessToken(api.ctx, user.token);
    const revoked = await refused(`${api.wsUrl}/api/v1/streaming`, bearer(user));
    assert.equal(revoked.status, 401);
    assert.equal(revoked.headers['x-error-message'], 'Invalid access token');

    const appOnly = await issueAccessToken(api.ctx, { applicationId: null, userId: null, scopes: ['read'] });
    const app401 = await refused(`${api.wsUrl}/api/v1/streaming`, {
      authorization: `Bearer ${appOnly.accessToken}`,
    });
    assert.equal(app401.status, 401);

    const disabled = await createTestUser(api.ctx);
    await api.ctx.database.db.update(users).set({ disabled: true }).where(eq(users.id, disabled.user.id));
    assert.equal((await refused(`${api.wsUrl}/api/v1/streaming`, bearer(disabled))).status, 401);
  });

  test('an upgrade on another path is refused with 404', async () => {
    const user = await createTestUser(api.ctx);
    const other = await refused(`${api.wsUrl}/api/v1/timelines/public`, bearer(user));
    assert.equal(other.status, 404);
  });
});

describe('WebSocket streams', { timeout: 60_000 }, () => {
  test('multiplexed subscribe and unsubscribe; hashtags by any spelling', async () => {
    const user = await createTestUser(api.ctx);
    const client = await openWs(`${api.wsUrl}/api/v1/streaming`, { headers: bearer(user) });
    client.send({ type: 'subscribe', stream: 'hashtag', tag: 'Café' });
    client.send({ type: 'subscribe', stream: 'public:local' });
    await barrier(client);
    const tagged = status(local(user));
    await publish('timeline:hashtag:cafe', 'update', tagged);
    const frame = await client.next();
    assert.deepEqual(frame.stream, ['hashtag', 'Café']);
    assert.deepEqual(JSON.parse(frame.payload!), tagged);
    await publish('timeline:public:local', 'delete', '123');
    assert.deepEqual(await client.next(), { stream: ['public:local'], event: 'delete', payload: '123' });

    client.send({ type: 'unsubscribe', stream: 'hashtag', tag: 'cafe' });
    await barrier(client);
    await publish('timeline:hashtag:cafe', 'update', status(local(user)));
    await expectNothingBefore(client, 'timeline:public:local');
    client.close();
  });

  test('the user stream carries home and notifications; user:notification needs read:notifications', async () => {
    const user = await createTestUser(api.ctx);
    const client = await openWs(`${api.wsUrl}/api/v1/streaming?stream=user`, { headers: bearer(user) });
    const home = `timeline:${user.account.id}`;
    const notifications = `timeline:${user.account.id}:notifications`;
    await publish(notifications, 'notification', { id: '5', type: 'mention' });
    const frame = await client.next();
    assert.deepEqual(frame.stream, ['user']);
    assert.equal(frame.event, 'notification');
    assert.deepEqual(JSON.parse(frame.payload!), { id: '5', type: 'mention' });
    await publish(home, 'notifications_merged', '1');
    assert.deepEqual(await client.next(), { stream: ['user'], event: 'notifications_merged', payload: '1' });
    // Presence: publishers render per-user payloads only while this key exists.
    assert.equal(await api.ctx.cache.get(presenceKey(home)), '1');
    assert.equal(await api.ctx.cache.get(presenceKey(notifications)), '1');
    client.close();

    const statusesOnly = await createTestUser(api.ctx, { scopes: ['read:statuses'] });
    const narrow = await openWs(`${api.wsUrl}/api/v1/streaming?stream=user`, {
      headers: bearer(statusesOnly),
    });
    await publish(`timeline:${statusesOnly.account.id}:notifications`, 'notification', { id: '6' });
    await expectNothingBefore(narrow, `timeline:${statusesOnly.account.id}`);
    narrow.send({ type: 'subscribe', stream: 'user:notification' });
    assert.deepEqual(await narrow.next(), {
      error: 'Access token does not have the required scopes',
      status: 401,
    });
    narrow.close();

    const notificationsOnly = await createTestUser(api.ctx, { scopes: ['read:notifications'] });
    const other = await openWs(`${api.wsUrl}/api/v1/streaming`, { headers: bearer(notificationsOnly) });
    other.send({ type: 'subscribe', stream: 'public' });
    assert.equal((await other.next()).status, 401);
    other.send({ type: 'subscribe', stream: 'user:notification' });
    await barrier(other);
    await publish(`timeline:${notificationsOnly.account.id}:notifications`, 'notification', { id: '7' });
    assert.deepEqual((await other.next()).stream, ['user:notification']);
    other.close();
  });

  test('bad requests get an error frame and the connection stays open', async () => {
    const user = await createTestUser(api.ctx);
    const client = await openWs(`${api.wsUrl}/api/v1/streaming?stream=nonsense`, { headers: bearer(user) });
    assert.deepEqual(await client.next(), { error: 'Unknown stream type', status: 400 });
    client.send({ type: 'subscribe', stream: 'hashtag' });
    assert.deepEqual(await client.next(), { error: 'Missing tag name parameter', status: 400 });
    client.send({ type: 'subscribe', stream: 'list', list: '1' });
    assert.deepEqual(await client.next(), { error: 'Not authorized to stream this list', status: 401 });
    client.send('{not json');
    assert.equal((await client.next()).status, 400);
    client.send({ type: 'dance' });
    assert.equal((await client.next()).status, 400);
    client.send({ type: 'unsubscribe', stream: 'nonsense' });
    assert.equal((await client.next()).error, 'Error unsubscribing from channel');
    // Still open and working.
    client.send({ type: 'subscribe', stream: 'public:remote' });
    await barrier(client);
    await publish('timeline:public:remote', 'delete', '42');
    assert.deepEqual(await client.next(), { stream: ['public:remote'], event: 'delete', payload: '42' });
    client.close();
  });

  test('frames of every length encoding reach the client intact', async () => {
    const user = await createTestUser(api.ctx);
    const client = await openWs(`${api.wsUrl}/api/v1/streaming?stream=public`, { headers: bearer(user) });
    for (const size of [10, 300, 70_000]) {
      const entity = { ...status(local(user)), content: `<p>${'é'.repeat(size)}</p>` };
      await publish('timeline:public', 'update', entity);
      assert.deepEqual(JSON.parse((await client.next()).payload!), entity);
    }
    client.close();
  });

  test('a binary frame closes the connection with 1003', async () => {
    const user = await createTestUser(api.ctx);
    const client = await openWs(`${api.wsUrl}/api/v1/streaming`, { headers: bearer(user) });
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await client.closed).code, 1003);
  });

  test('kill on the token channel closes that token’s connections only', async () => {
    const user = await createTestUser(api.ctx);
    const second = await issueAccessToken(api.ctx, {
      applicationId: null,
      userId: user.user.id,
      scopes: ['read'],
    });
    const killed = await openWs(`${api.wsUrl}/api/v1/streaming?stream=public`, { headers: bearer(user) });
    const kept = await openWs(`${api.wsUrl}/api/v1/streaming?stream=public`, {
      headers: { authorization: `Bearer ${second.accessToken}` },
    });
    const tokenId = (
      await api.ctx.database.query<{ id: unknown }>(
        `select id from oauth_access_tokens where user_id = $1 order by id limit 1`,
        [user.user.id],
      )
    )[0]!.id;
    await publish(`timeline:access_token:${String(tokenId)}`, 'kill');
    await killed.closed;
    await expectNothingBefore(kept, 'timeline:public');
    kept.close();
  });

  test('revoking a token through the domain closes its streams', async () => {
    const user = await createTestUser(api.ctx);
    const client = await openWs(`${api.wsUrl}/api/v1/streaming?stream=public`, { headers: bearer(user) });
    await revokeAccessToken(api.ctx, user.token);
    await client.closed;
  });

  test('kill on the system channel closes every connection of the account, WebSocket and SSE', async () => {
    const user = await createTestUser(api.ctx);
    const bystander = await createTestUser(api.ctx);
    const a = await openWs(`${api.wsUrl}/api/v1/streaming?stream=public`, { headers: bearer(user) });
    const b = await openWs(`${api.wsUrl}/api/v1/streaming?stream=user`, { headers: bearer(user) });
    const c = await openSse(`${api.url}/api/v1/streaming/public`, bearer(user));
    const other = await openWs(`${api.wsUrl}/api/v1/streaming?stream=public`, { headers: bearer(bystander) });
    await publish(`timeline:system:${user.account.id}`, 'kill');
    await Promise.all([a.closed, b.closed, c.ended]);
    await expectNothingBefore(other, 'timeline:public');
    other.close();
  });
});

describe('filtering of public and hashtag statuses', { timeout: 60_000 }, () => {
  test('blocked author, muted mention, author blocking the viewer, chosen languages', async () => {
    const viewer = await createTestUser(api.ctx);
    const blocked = await createTestUser(api.ctx);
    const muted = await createTestUser(api.ctx);
    const blocker = await createTestUser(api.ctx);
    const friend = await createTestUser(api.ctx);
    await block(api.ctx, viewer.account.id, blocked.account.id);
    await mute(api.ctx, viewer.account.id, muted.account.id);
    await mute(api.ctx, viewer.account.id, friend.account.id, { expiresAt: new Date(Date.now() - 60_000) }); // expired
    await block(api.ctx, blocker.account.id, viewer.account.id);
    await api.ctx.database.db
      .update(users)
      .set({ settings: { chosen_languages: ['en', 'de'] } })
      .where(eq(users.id, viewer.user.id));

    const client = await openWs(`${api.wsUrl}/api/v1/streaming?stream=public`, { headers: bearer(viewer) });
    client.send({ type: 'subscribe', stream: 'hashtag', tag: 'woolly' });
    await barrier(client);
    for (const channel of ['timeline:public', 'timeline:hashtag:woolly']) {
      await publish(channel, 'update', status(local(blocked)));
      await publish(channel, 'status.update', status(local(friend), { mentions: [muted.account.id] }));
      await publish(channel, 'update', status(local(blocker)));
      await publish(channel, 'update', status(local(friend), { language: 'fr' }));
      await publish(channel, 'update', status(local(friend), { language: null }));
      await expectNothingBefore(client, channel);
      // What passes: a friend in a chosen language, mentioning someone unblocked.
      const fine = status(local(friend), { language: 'de', mentions: [blocker.account.id] });
      await publish(channel, 'update', fine);
      assert.deepEqual(JSON.parse((await client.next()).payload!), fine);
      // Deletes are never filtered.
      await publish(channel, 'delete', '77');
      assert.equal((await client.next()).payload, '77');
    }
    client.close();
  });

  test('other accounts are not affected by one viewer’s blocks', async () => {
    const viewer = await createTestUser(api.ctx);
    const other = await createTestUser(api.ctx);
    const author = await createTestUser(api.ctx);
    await block(api.ctx, viewer.account.id, author.account.id);
    const blocking = await openWs(`${api.wsUrl}/api/v1/streaming?stream=public`, { headers: bearer(viewer) });
    const open = await openSse(`${api.url}/api/v1/streaming/public`, bearer(other));
    const entity = status(local(author));
    await publish('timeline:public', 'update', entity);
    const event = await open.next();
    assert.deepEqual(JSON.parse(event.data), entity);
    await expectNothingBefore(blocking, 'timeline:public');
    blocking.close();
    open.close();
  });

  test('viewer_state_changed reloads the viewer’s state', async () => {
    const viewer = await createTestUser(api.ctx);
    const author = await createTestUser(api.ctx);
    const client = await openWs(`${api.wsUrl}/api/v1/streaming?stream=public`, { headers: bearer(viewer) });
    const first = status(local(author));
    await publish('timeline:public', 'update', first);
    assert.deepEqual(JSON.parse((await client.next()).payload!), first);

    await block(api.ctx, viewer.account.id, author.account.id);
    await publish(`timeline:system:${viewer.account.id}`, 'viewer_state_changed', '1');
    // The reload runs in the background: statuses keep coming until it lands, then none do.
    await untilFiltered(client, () => status(local(author)), true);

    await api.ctx.database.query('delete from blocks where account_id = $1', [viewer.account.id]);
    await publish(`timeline:system:${viewer.account.id}`, 'viewer_state_changed', '1');
    await untilFiltered(client, () => status(local(author)), false);
    client.close();
  });
});

/**
 * Publishes statuses until one is (or is no longer) filtered out, as a state reload lands between
 * two of them. Each round ends with a sentinel, so frames never mix between rounds.
 */
async function untilFiltered(
  client: WsClient,
  make: () => Record<string, unknown>,
  filtered: boolean,
): Promise<void> {
  for (let round = 0; round < 500; round++) {
    await publish('timeline:public', 'update', make());
    const sentinel = `sentinel-${++serial}`;
    await publish('timeline:public', 'delete', sentinel);
    const frame = await client.next();
    const wasFiltered = frame.event === 'delete';
    if (!wasFiltered) assert.equal((await client.next()).payload, sentinel);
    if (wasFiltered === filtered) return;
  }
  assert.fail(`the viewer state was not reloaded (${filtered ? 'still delivered' : 'still filtered'})`);
}

describe('server-sent events', { timeout: 60_000 }, () => {
  const paths: [string, string, string][] = [
    ['/api/v1/streaming/public', 'timeline:public', 'update'],
    ['/api/v1/streaming/public?only_media=true', 'timeline:public:media', 'update'],
    ['/api/v1/streaming/public/local', 'timeline:public:local', 'update'],
    ['/api/v1/streaming/public/local?only_media=1', 'timeline:public:local:media', 'update'],
    ['/api/v1/streaming/public/remote', 'timeline:public:remote', 'delete'],
    ['/api/v1/streaming/public/remote?only_media=true', 'timeline:public:remote:media', 'delete'],
    ['/api/v1/streaming/hashtag?tag=Woolly', 'timeline:hashtag:woolly', 'update'],
    ['/api/v1/streaming/hashtag/local?tag=woolly', 'timeline:hashtag:woolly:local', 'update'],
  ];
  for (const [path, channel, event] of paths) {
    test(`${path} streams ${channel}`, async () => {
      const user = await createTestUser(api.ctx);
      const client = await openSse(`${api.url}${path}`, bearer(user));
      assert.equal(client.response.headers['content-type'], 'text/event-stream');
      assert.equal(client.response.headers['cache-control'], 'private, no-store');
      const payload = event === 'delete' ? '12345' : status(local(user));
      await publish(channel, event, payload);
      const received = await client.next();
      assert.equal(received.event, event);
      assert.equal(received.data, typeof payload === 'string' ? payload : JSON.stringify(payload));
      client.close();
    });
  }

  test('user, user/notification and direct stream the viewer’s own channels', async () => {
    const user = await createTestUser(api.ctx);
    const cases: [string, string][] = [
      ['/api/v1/streaming/user', `timeline:${user.account.id}`],
      ['/api/v1/streaming/user', `timeline:${user.account.id}:notifications`],
      ['/api/v1/streaming/user/notification', `timeline:${user.account.id}:notifications`],
      ['/api/v1/streaming/direct', `timeline:direct:${user.account.id}`],
    ];
    for (const [path, channel] of cases) {
      const client = await openSse(`${api.url}${path}?access_token=${user.token}`);
      await publish(channel, 'conversation', { id: channel });
      const received = await client.next();
      assert.deepEqual(JSON.parse(received.data), { id: channel }, path);
      client.close();
    }
  });

  async function refusal(path: string, headers: Record<string, string> = {}): Promise<SseRefusal> {
    try {
      const client = await openSse(`${api.url}${path}`, headers);
      client.close();
    } catch (error) {
      return error as SseRefusal;
    }
    assert.fail('the stream was opened');
  }

  test('bad requests: unknown stream, no token, scopes, missing tag, someone else’s list', async () => {
    const user = await createTestUser(api.ctx);
    const unknown = await refusal('/api/v1/streaming/nope', bearer(user));
    assert.equal(unknown.status, 400);
    assert.deepEqual(JSON.parse(unknown.body), { error: 'Unknown channel requested' });
    assert.equal(unknown.headers['x-error-message'], 'Unknown channel requested');
    const noToken = await refusal('/api/v1/streaming/public');
    assert.equal(noToken.status, 401);
    assert.deepEqual(JSON.parse(noToken.body), { error: 'Missing access token' });
    const invalid = await refusal('/api/v1/streaming/public', { authorization: 'Bearer bad' });
    assert.equal(invalid.status, 401);
    const narrow = await createTestUser(api.ctx, { scopes: ['read:statuses'] });
    const scope = await refusal('/api/v1/streaming/user/notification', bearer(narrow));
    assert.equal(scope.status, 401);
    assert.equal(scope.headers['x-error-message'], 'Access token does not have the required scopes');
    const tagless = await refusal('/api/v1/streaming/hashtag', bearer(user));
    assert.equal(tagless.status, 400);
    assert.deepEqual(JSON.parse(tagless.body), { error: 'Missing tag name parameter' });
    const list = await refusal('/api/v1/streaming/list?list=1', bearer(user));
    assert.equal(list.status, 401);
    assert.deepEqual(JSON.parse(list.body), { error: 'Not authorized to stream this list' });
  });
});

describe('end to end', { timeout: 60_000 }, () => {
  test('a status posted through the API reaches the public stream as `update`', async () => {
    const author = await createTestUser(api.ctx);
    const watcher = await createTestUser(api.ctx);
    const client = await openWs(`${api.wsUrl}/api/v1/streaming?stream=public:local`, {
      headers: bearer(watcher),
    });
    const res = await fetch(`${api.url}/api/v1/statuses`, {
      method: 'POST',
      headers: { ...bearer(author), 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'hello streams', visibility: 'public' }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const posted = (await res.json()) as { id: string };
    // What the distribution job does in a worker.
    await fanOutStatus(api.ctx, posted.id);
    const frame: WsFrame = await client.next();
    assert.equal(frame.event, 'update');
    const entity = JSON.parse(frame.payload!) as { id: string; content: string };
    assert.equal(entity.id, posted.id);
    assert.match(entity.content, /hello streams/);
    client.close();
  });
});

describe('web role without streaming', { timeout: 60_000 }, () => {
  test('answers /api/v1/streaming with 404 on the same host, 301 to another', async () => {
    const web = await buildTestServer(api.ctx);
    const same = await web.inject({ url: '/api/v1/streaming/public', headers: { host: 'woolly.test' } });
    assert.equal(same.statusCode, 404);
    await web.close();

    const other = await createTestContext({ env: { STREAMING_API_BASE_URL: 'wss://streaming.woolly.test' } });
    try {
      const redirecting = await buildTestServer(other);
      const res = await redirecting.inject({
        url: '/api/v1/streaming/hashtag?tag=x',
        headers: { host: 'woolly.test' },
      });
      assert.equal(res.statusCode, 301);
      assert.equal(res.headers.location, 'http://streaming.woolly.test/api/v1/streaming/hashtag?tag=x');
      await redirecting.close();
    } finally {
      await other.close();
    }
  });
});

describe('liveness, backpressure and shutdown', { timeout: 60_000 }, () => {
  // Two servers: one with fast heartbeats and pings for the liveness tests, one with a small
  // write buffer and Mastodon's intervals for the backpressure tests — there a 20 ms ping would
  // drop a client for a late pong (or for not reading pings) instead of for its backlog.
  let tuned: FastifyInstance;
  let tunedHttp: string;
  let tunedWs: string;
  let buffered: FastifyInstance;
  let bufferedHttp: string;
  let bufferedWs: string;

  before(async () => {
    tuned = await buildTestServer(api.ctx, { streaming: { heartbeatIntervalMs: 20, pingIntervalMs: 20 } });
    ({ http: tunedHttp, ws: tunedWs } = await listen(tuned));
    buffered = await buildTestServer(api.ctx, { streaming: { maxBufferedBytes: 64 * 1024 } });
    ({ http: bufferedHttp, ws: bufferedWs } = await listen(buffered));
  });
  const extraApps: FastifyInstance[] = [];
  after(async () => {
    await tuned?.close();
    await buffered?.close();
    for (const extra of extraApps) await extra.close();
  });

  test('SSE heartbeats', async () => {
    const user = await createTestUser(api.ctx);
    const client = await openSse(`${tunedHttp}/api/v1/streaming/public`, bearer(user));
    await client.heartbeat();
    await client.heartbeat();
    client.close();
  });

  test('an event stream starts with its headers and `:)` even when heartbeats and events come while it opens', async () => {
    // A pub/sub whose `timeline:public` subscription takes its time: the channel is live at once,
    // the hub hears of it only when `release` is called, with heartbeats every 5 ms meanwhile.
    let live!: () => void;
    const subscribed = new Promise<void>((resolve) => (live = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: PubSub = {
      publish: (channel, message) => api.ctx.pubsub.publish(channel, message),
      async subscribe(channel, handler) {
        const unsubscribe = await api.ctx.pubsub.subscribe(channel, handler);
        if (channel !== 'timeline:public') return unsubscribe;
        live();
        await gate;
        return unsubscribe;
      },
      close: async () => {},
    };
    const slowApp = await buildTestServer(
      { ...api.ctx, pubsub: slow },
      { streaming: { heartbeatIntervalMs: 5 } },
    );
    extraApps.push(slowApp); // closed by `after` even if this test times out
    const slowUrls = await listen(slowApp);
    {
      const user = await createTestUser(api.ctx);
      const opening = openSse(`${slowUrls.http}/api/v1/streaming/public`, bearer(user));
      await subscribed;
      const entity = status(local(user));
      await publish('timeline:public', 'update', entity);
      await new Promise((resolve) => setTimeout(resolve, 50)); // several heartbeat rounds
      release();
      const client = await opening;
      assert.equal(client.response.headers['content-type'], 'text/event-stream');
      const event = await client.next();
      assert.equal(event.event, 'update', 'the event that came while opening follows `:)`');
      assert.deepEqual(JSON.parse(event.data), entity);
      await client.heartbeat();
      client.close();
    }
  });

  test('a WebSocket that answers pings stays; one that does not is dropped', async () => {
    const user = await createTestUser(api.ctx);
    const alive = await openWs(`${tunedWs}/api/v1/streaming?stream=public`, { headers: bearer(user) });
    const dead = await openWs(`${tunedWs}/api/v1/streaming?stream=public`, {
      headers: bearer(user),
      autoPong: false,
    });
    const closed = await dead.closed;
    assert.equal(closed.code, 1006); // terminated, no closing handshake
    await expectNothingBefore(alive, 'timeline:public');
    alive.close();
  });

  test('a WebSocket client that does not read is disconnected, not buffered without bound', async () => {
    const user = await createTestUser(api.ctx);
    const raw = await rawWebSocket(bufferedHttp, user.token);
    const reader = await openWs(`${bufferedWs}/api/v1/streaming?stream=user`, { headers: bearer(user) });
    const big = { ...status(local(user)), content: 'x'.repeat(256 * 1024) };
    const hub = streamingHub(buffered)!;
    const before = hub.connectionCount.websocket;
    for (let i = 0; i < 200 && hub.connectionCount.websocket === before; i++) {
      await publish('timeline:public', 'update', big);
      // Every message is dispatched before the next round: the reader sees the marker after it.
      await publish(`timeline:${user.account.id}`, 'delete', `marker-${i}`);
      assert.equal((await reader.next()).payload, `marker-${i}`);
    }
    assert.equal(hub.connectionCount.websocket, before - 1, 'the slow client was disconnected');
    raw.destroy();
    reader.close();
  });

  test('an SSE client that does not read is disconnected', async () => {
    const user = await createTestUser(api.ctx);
    const hub = streamingHub(buffered)!;
    const stalled = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = request(`${bufferedHttp}/api/v1/streaming/public`, { headers: bearer(user) }, (res) => {
        res.once('data', () => {
          res.pause();
          resolve(res);
        });
      });
      req.on('error', reject);
      req.end();
    });
    const reader = await openWs(`${bufferedWs}/api/v1/streaming?stream=user`, { headers: bearer(user) });
    const big = { ...status(local(user)), content: 'y'.repeat(256 * 1024) };
    const before = hub.connectionCount.eventsource;
    for (let i = 0; i < 200 && hub.connectionCount.eventsource === before; i++) {
      await publish('timeline:public', 'update', big);
      await publish(`timeline:${user.account.id}`, 'delete', `marker-${i}`);
      assert.equal((await reader.next()).payload, `marker-${i}`);
    }
    assert.equal(hub.connectionCount.eventsource, before - 1, 'the slow client was disconnected');
    stalled.destroy();
    reader.close();
  });

  test('closing the app closes WebSockets with 1001 and ends event streams', async () => {
    const own = await buildTestServer(api.ctx, { streaming: true });
    const ownUrls = await listen(own);
    const user = await createTestUser(api.ctx);
    const socket = await openWs(`${ownUrls.ws}/api/v1/streaming?stream=public`, {
      headers: bearer(user),
    });
    const events: SseClient = await openSse(`${ownUrls.http}/api/v1/streaming/public`, bearer(user));
    await own.close();
    assert.equal((await socket.closed).code, 1001);
    await events.ended;
    assert.equal(streamingHub(own)!.channelCount, 0);
  });
});

/** A WebSocket handshake on a raw socket that then never reads: the kernel buffers fill up. */
async function rawWebSocket(base: string, token: string): Promise<import('node:net').Socket> {
  const { port } = new URL(base);
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(
        'GET /api/v1/streaming?stream=public HTTP/1.1\r\n' +
          `Host: 127.0.0.1:${port}\r\n` +
          'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
          `Authorization: Bearer ${token}\r\n\r\n`,
      );
    });
    socket.once('data', (data) => {
      if (!data.toString().startsWith('HTTP/1.1 101')) reject(new Error(data.toString()));
      socket.pause();
      resolve(socket);
    });
    socket.on('error', () => {});
  });
}
