import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { StreamViewer } from './auth.ts';
import type { Delivery } from './frames.ts';
import type { Subscription } from './hub.ts';

/**
 * The two kinds of client connection (WebSocket and server-sent events) behind one interface, so
 * the hub delivers to both the same way. Kept small: an idle connection should cost a few KiB
 * (DESIGN.md §7), so event handlers are shared functions, not closures per connection, and the
 * timers (pings, heartbeats) are the hub's, one for all connections.
 */

/** What a connection needs from the hub that owns it. */
export interface ConnectionOwner {
  /** Past this many bytes waiting to be written, a client is too slow and is disconnected. */
  readonly maxBufferedBytes: number;
  /** A text message from a WebSocket client. */
  onClientMessage(connection: WsConnection, text: string): void;
  /** The connection is gone; release what it held. Called once. */
  onConnectionClosed(connection: StreamConnection): void;
}

export type CloseReason = 'kill' | 'shutdown' | 'slow';

export type StreamConnection = WsConnection | SseConnection;

/** The close code of a WebSocket for each reason it is closed by the server. */
const WS_CLOSE: Record<CloseReason, { code: number; reason: string }> = {
  kill: { code: 1000, reason: 'Access revoked' },
  shutdown: { code: 1001, reason: 'Server shutting down' },
  slow: { code: 1008, reason: 'Client too slow' },
};

const TEXT = { binary: false } as const;

/** Client messages processed in order per connection; past this many waiting, more are refused. */
export const MAX_QUEUED_MESSAGES = 32;

export class WsConnection {
  readonly kind = 'ws';
  readonly viewer: StreamViewer;
  readonly subscriptions = new Map<string, Subscription>();
  /** Null until the upgrade completes (the connection is set up before it, see server.ts). */
  socket: WebSocket | null = null;
  /** Cleared by each ping, set by the pong: a socket that stays cleared for a round is dead. */
  alive = true;
  closed = false;
  /** Subscribe and unsubscribe run one after another, in the order the client sent them. */
  queue: Promise<void> = Promise.resolve();
  queued = 0;
  private readonly owner: ConnectionOwner;

  constructor(owner: ConnectionOwner, viewer: StreamViewer) {
    this.owner = owner;
    this.viewer = viewer;
  }

  attach(socket: WebSocket): void {
    this.socket = socket;
    (socket as SocketWithConnection)[CONNECTION] = this;
    socket.on('message', onSocketMessage);
    socket.on('pong', onSocketPong);
    socket.on('close', onSocketClose);
    socket.on('error', onSocketError);
  }

  /**
   * Writes the event's ready-made frame straight to the TCP socket: the bytes are shared by every
   * connection, where `ws.send` would frame them again for each (half the cost of a delivery).
   * Safe because compression is off, so ws's own sender writes synchronously and never holds
   * frames back: frames from both paths reach the socket in call order.
   */
  deliver(delivery: Delivery, subscription: Subscription): void {
    const socket = this.socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN) return;
    if (socket.bufferedAmount > this.owner.maxBufferedBytes) {
      this.close('slow');
      return;
    }
    tcpSocketOf(socket).write(delivery.wsFrame(subscription.streamJson));
  }

  /** A frame built by ws (errors: rare, not shared). */
  send(data: Buffer | string): void {
    const socket = this.socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN) return;
    if (socket.bufferedAmount > this.owner.maxBufferedBytes) {
      this.close('slow');
      return;
    }
    socket.send(data, TEXT);
  }

  /** One round of the keep-alive: a socket that missed the last pong is dropped. */
  ping(): void {
    const socket = this.socket;
    if (socket === null || socket.readyState !== WebSocket.OPEN) return;
    if (!this.alive) {
      socket.terminate();
      return;
    }
    this.alive = false;
    socket.ping();
  }

  close(reason: CloseReason): void {
    const socket = this.socket;
    if (socket === null) {
      this.markClosed();
      return;
    }
    // A slow client's buffer would hold the close frame back: drop it at once.
    if (reason === 'slow') socket.terminate();
    else if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
      socket.close(WS_CLOSE[reason].code, WS_CLOSE[reason].reason);
    }
    this.markClosed();
  }

  /** Ends the socket without a closing handshake (shutdown that took too long). */
  terminate(): void {
    this.socket?.terminate();
  }

  markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.onConnectionClosed(this);
  }

  messageFromClient(text: string): void {
    this.owner.onClientMessage(this, text);
  }
}

const CONNECTION = Symbol('woolly.streaming.connection');

/** The socket under a WebSocket (ws keeps it in `_socket`; its types do not declare it). */
function tcpSocketOf(socket: WebSocket): Socket {
  return (socket as unknown as { _socket: Socket })._socket;
}

type SocketWithConnection = WebSocket & { [CONNECTION]?: WsConnection };

function connectionOf(socket: WebSocket): WsConnection | undefined {
  return (socket as SocketWithConnection)[CONNECTION];
}

function onSocketMessage(this: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
  const connection = connectionOf(this);
  if (connection === undefined) return;
  if (isBinary) {
    this.close(1003, 'Binary messages are not supported');
    return;
  }
  const text = Array.isArray(data)
    ? Buffer.concat(data).toString('utf8')
    : Buffer.from(data as ArrayBuffer).toString('utf8');
  connection.messageFromClient(text);
}

function onSocketPong(this: WebSocket): void {
  const connection = connectionOf(this);
  if (connection !== undefined) connection.alive = true;
}

function onSocketClose(this: WebSocket): void {
  connectionOf(this)?.markClosed();
}

function onSocketError(this: WebSocket): void {
  // 'close' follows every 'error'; the socket is cleaned up there.
}

export class SseConnection {
  readonly kind = 'sse';
  readonly viewer: StreamViewer;
  readonly subscriptions = new Map<string, Subscription>();
  closed = false;
  response: ServerResponse | null = null;
  private readonly owner: ConnectionOwner;

  constructor(owner: ConnectionOwner, viewer: StreamViewer) {
    this.owner = owner;
    this.viewer = viewer;
  }

  /**
   * Frames that arrived while the stream was being opened (its channels are live before the
   * response starts); written right after `:)`. Null once started.
   */
  private pending: Buffer[] | null = [];

  attach(response: ServerResponse): void {
    this.response = response;
    (response as ResponseWithConnection)[CONNECTION] = this;
    response.on('close', onResponseClose);
  }

  /**
   * Sends the headers and the first line once the stream is live, then what arrived meanwhile:
   * nothing may be written before (a heartbeat would start the response without its headers).
   */
  start(headers: Record<string, string>): void {
    const response = this.response;
    const pending = this.pending;
    this.pending = null;
    if (response === null || response.writableEnded || response.destroyed) return;
    response.writeHead(200, headers);
    response.write(':)\n');
    for (const frame of pending ?? []) this.send(frame);
  }

  private pendingBytes = 0;

  deliver(delivery: Delivery): void {
    const frame = delivery.sseFrame();
    if (this.pending === null) {
      this.send(frame);
      return;
    }
    this.pendingBytes += frame.length;
    if (this.pendingBytes > this.owner.maxBufferedBytes) this.close('slow');
    else this.pending.push(frame);
  }

  heartbeat(): void {
    if (this.pending === null) this.send(THUMP);
  }

  send(data: Buffer): void {
    const response = this.response;
    if (response === null || response.writableEnded || response.destroyed) return;
    if (response.writableLength > this.owner.maxBufferedBytes) {
      this.close('slow');
      return;
    }
    response.write(data);
  }

  close(reason: CloseReason): void {
    const response = this.response;
    if (response !== null) {
      if (reason === 'slow') response.destroy();
      else response.end();
    }
    this.markClosed();
  }

  terminate(): void {
    this.response?.destroy();
  }

  markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.onConnectionClosed(this);
  }
}

const THUMP = Buffer.from(':thump\n\n');

type ResponseWithConnection = ServerResponse & { [CONNECTION]?: SseConnection };

function onResponseClose(this: ServerResponse): void {
  (this as ResponseWithConnection)[CONNECTION]?.markClosed();
}
