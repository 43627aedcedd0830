import { type ClientRequest, type IncomingMessage, request } from 'node:http';
import WebSocket from 'ws';

/**
 * Streaming clients for the tests: a WebSocket and an EventSource-like reader that queue what they
 * receive, so a test awaits the next frame instead of sleeping.
 */

export interface WsFrame {
  stream?: string[];
  event?: string;
  payload?: string;
  error?: string;
  status?: number;
}

class Inbox<T> {
  private readonly items: T[] = [];
  private readonly waiters: { resolve: (item: T) => void; reject: (error: Error) => void }[] = [];
  private ended: Error | undefined;

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(item);
    else this.items.push(item);
  }

  end(error: Error): void {
    this.ended = error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  next(): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  get pending(): number {
    return this.items.length;
  }
}

export interface WsClient {
  socket: WebSocket;
  next(): Promise<WsFrame>;
  send(message: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export interface RefusedUpgrade {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Opens a WebSocket; resolves once open, rejects with the HTTP response when the upgrade is refused. */
export function openWs(
  url: string,
  options: { headers?: Record<string, string>; protocols?: string[]; autoPong?: boolean } = {},
): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options.protocols ?? [], {
      headers: options.headers,
      autoPong: options.autoPong ?? true,
    });
    const inbox = new Inbox<WsFrame>();
    const closed = new Promise<{ code: number; reason: string }>((done) => {
      socket.on('close', (code, reason) => {
        inbox.end(new Error(`socket closed (${code})`));
        done({ code, reason: reason.toString() });
      });
    });
    socket.on('message', (data) => inbox.push(JSON.parse(data.toString()) as WsFrame));
    socket.on('unexpected-response', (_req: ClientRequest, res: IncomingMessage) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => reject({ status: res.statusCode, headers: res.headers, body } as RefusedUpgrade));
    });
    socket.on('error', (error) => reject(error));
    socket.on('open', () =>
      resolve({
        socket,
        next: () => inbox.next(),
        send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
        closed,
        close: () => socket.close(),
      }),
    );
  });
}

export interface SseEvent {
  event: string;
  data: string;
}

export interface SseClient {
  response: IncomingMessage;
  /** The next event (comments other than the heartbeat are skipped). */
  next(): Promise<SseEvent>;
  /** Resolves at the next `:thump` heartbeat. */
  heartbeat(): Promise<void>;
  ended: Promise<void>;
  close(): void;
}

export interface SseRefusal {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Opens an event stream; resolves once its first line (`:)`) arrived, rejects with a non-200 response. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
      response.setEncoding('utf8');
      if (response.statusCode !== 200) {
        let body = '';
        response.on('data', (d: string) => (body += d));
        response.on('end', () =>
          reject({ status: response.statusCode, headers: response.headers, body } as SseRefusal),
        );
        return;
      }
      const events = new Inbox<SseEvent>();
      const thumps = new Inbox<true>();
      let buffer = '';
      let opened = false;
      const ended = new Promise<void>((done) => {
        response.on('close', () => {
          events.end(new Error('event stream ended'));
          thumps.end(new Error('event stream ended'));
          done();
        });
      });
      response.on('data', (chunk: string) => {
        buffer += chunk;
        if (!opened) {
          if (!buffer.startsWith(':)\n')) return;
          buffer = buffer.slice(3);
          opened = true;
          resolve({
            response,
            next: () => events.next(),
            heartbeat: () => thumps.next().then(() => undefined),
            ended,
            close: () => req.destroy(),
          });
        }
        for (;;) {
          const end = buffer.indexOf('\n\n');
          if (end === -1) break;
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block === ':thump') {
            thumps.push(true);
            continue;
          }
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          events.push({ event, data: data.join('\n') });
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}
