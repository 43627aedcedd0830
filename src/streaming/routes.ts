import { randomUUID } from 'node:crypto';
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WebSocketServer } from 'ws';
import type { Context } from '../domain/context.ts';
import { castBoolean } from '../domain/validation.ts';
import { authenticateStream, errorStatusAndMessage, requestToken, type StreamViewer } from './auth.ts';
import { SseConnection, WsConnection } from './connections.ts';
import { Hub, type HubOptions } from './hub.ts';
import { checkStreamScopes, type ResolvedStream, resolveStream, streamFromPath } from './streams.ts';

/**
 * Mastodon's streaming API (mastodon.md §3) on a Fastify app: a WebSocket at `/api/v1/streaming`
 * (the `upgrade` event of the app's HTTP server, handled here so that a refused upgrade gets a
 * plain HTTP error with `X-Error-Message`), server-sent events under `/api/v1/streaming/…` and
 * `/api/v1/streaming/health`. Closing the app closes every stream (WebSockets with 1001).
 */
export type StreamingOptions = HubOptions;

const hubs = new WeakMap<FastifyInstance, Hub>();

/** The hub serving an app's streams (tests and metrics read its counts). */
export function streamingHub(app: FastifyInstance): Hub | undefined {
  return hubs.get(app);
}

/** Client → server WebSocket messages are a few hundred bytes; anything large is abuse. */
const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

export function registerStreaming(app: FastifyInstance, ctx: Context, options: StreamingOptions = {}): void {
  const hub = new Hub(ctx, options);
  hubs.set(app, hub);
  const log = ctx.log.child({ component: 'streaming' });
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
  });

  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrade(request, socket, head).catch((err: unknown) => {
      log.error({ err }, 'WebSocket upgrade failed');
      refuseUpgrade(socket, 500, errorStatusAndMessage(err).message);
    });
  });

  async function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    // Until the handshake completes, a client that goes away must not crash the process.
    socket.on('error', ignoreSocketError);
    const url = new URL(request.url ?? '/', 'http://streaming.invalid');
    if (!isStreamingPath(url.pathname)) {
      refuseUpgrade(socket, 404, 'Not found');
      return;
    }
    let viewer: StreamViewer;
    try {
      viewer = await authenticateStream(ctx, requestToken(request, url.searchParams)?.token);
    } catch (error) {
      const { status, message } = errorStatusAndMessage(error);
      if (status >= 500) log.error({ err: error }, 'streaming authentication failed');
      refuseUpgrade(socket, status, message);
      logUpgrade(request, status);
      return;
    }
    const connection = new WsConnection(hub, viewer);
    const onEarlyClose = () => connection.markClosed();
    socket.once('close', onEarlyClose);
    try {
      await hub.open(connection);
    } catch (error) {
      socket.off('close', onEarlyClose);
      const { status, message } = errorStatusAndMessage(error);
      if (status >= 500) log.error({ err: error }, 'opening a stream failed');
      refuseUpgrade(socket, status, message);
      logUpgrade(request, status);
      return;
    }
    // The initial `?stream=` is live before the handshake completes: a client that sees `open`
    // already gets its events. Its errors are sent as frames once the socket is open, as Mastodon's.
    let initialError: string | undefined;
    const initial = url.searchParams.get('stream');
    if (initial !== null) {
      initialError = await hub.subscribeByName(connection, initial, {
        tag: url.searchParams.get('tag') ?? undefined,
        list: url.searchParams.get('list') ?? undefined,
      });
    }
    socket.off('close', onEarlyClose);
    if (connection.closed || socket.destroyed) {
      connection.markClosed();
      socket.destroy();
      return;
    }
    let upgraded = false;
    wss.handleUpgrade(request, socket, head, (ws) => {
      upgraded = true;
      socket.off('error', ignoreSocketError);
      connection.attach(ws);
      if (initialError !== undefined) connection.send(initialError);
    });
    // A malformed handshake is answered by ws itself (400), without the callback.
    if (!upgraded) connection.markClosed();
    logUpgrade(request, upgraded ? 101 : 400);
  }

  function logUpgrade(request: IncomingMessage, statusCode: number): void {
    log.info(
      {
        method: request.method,
        url: redactUrl(request.url ?? ''),
        statusCode,
        ip: request.socket.remoteAddress,
      },
      'websocket',
    );
  }

  app.get('/api/v1/streaming/health', async (_request, reply) =>
    reply.type('text/plain').header('cache-control', 'private, no-store').send('OK'),
  );
  app.get('/api/v1/streaming', eventStream);
  app.get('/api/v1/streaming/*', eventStream);

  async function eventStream(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const url = new URL(request.raw.url ?? '/', 'http://streaming.invalid');
    const query = url.searchParams;
    const name = streamFromPath(url.pathname, castBoolean(query.get('only_media')) === true);
    if (name === undefined) return sendError(reply, 400, 'Unknown channel requested');
    let viewer: StreamViewer;
    let stream: ResolvedStream;
    try {
      viewer = await authenticateStream(ctx, requestToken(request.raw, query)?.token);
      checkStreamScopes(viewer, name);
      stream = await resolveStream(
        ctx,
        viewer,
        name,
        { tag: query.get('tag') ?? undefined, list: query.get('list') ?? undefined },
        { authorize: true },
      );
    } catch (error) {
      const { status, message } = errorStatusAndMessage(error);
      if (status >= 500) request.log.error({ err: error }, 'streaming request failed');
      return sendError(reply, status, message);
    }
    reply.hijack();
    const response = reply.raw;
    const connection = new SseConnection(hub, viewer);
    connection.attach(response);
    try {
      await hub.open(connection);
      await hub.subscribe(connection, stream);
    } catch (error) {
      const { status, message } = errorStatusAndMessage(error);
      if (status >= 500) request.log.error({ err: error }, 'opening a stream failed');
      connection.markClosed();
      if (!response.headersSent && !response.destroyed) {
        response.writeHead(status, {
          'content-type': 'application/json; charset=utf-8',
          'cache-control': 'private, no-store',
          'x-error-message': message,
          'x-request-id': request.id,
        });
        response.end(JSON.stringify({ error: message }));
      }
      return;
    }
    if (connection.closed) return;
    // Headers and the first line go out once the stream is live: a client reading `:)` gets every
    // event published from then on.
    connection.start({
      'content-type': 'text/event-stream',
      'cache-control': 'private, no-store',
      'access-control-allow-origin': '*',
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    });
  }

  app.addHook('preClose', async () => {
    wss.close();
    await hub.shutdown();
  });
}

function sendError(reply: FastifyReply, status: number, message: string): void {
  reply
    .code(status)
    .header('cache-control', 'private, no-store')
    .header('x-error-message', message)
    .send({ error: message });
}

function isStreamingPath(path: string): boolean {
  return path === '/api/v1/streaming' || path.startsWith('/api/v1/streaming/');
}

/** A refused upgrade: a plain HTTP response on the raw socket, then the socket is closed. */
function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Error-Message: ${message}\r\n` +
      `X-Request-Id: ${randomUUID()}\r\n` +
      '\r\n' +
      body,
  );
  socket.once('finish', () => socket.destroy());
}

function ignoreSocketError(): void {}

/** Tokens must not reach the log (streaming clients often put theirs in the query). */
function redactUrl(url: string): string {
  return url.replace(/([?&]access_token=)[^&]*/gi, '$1[redacted]');
}
