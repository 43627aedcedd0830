/**
 * One load-generator thread of bench/streaming: opens its share of the WebSocket clients at a
 * limited rate, subscribes each to its streams, and measures each event's send→receive latency
 * from the send time the publisher wrote into the status (`wbsent=<ms since the epoch>`).
 *
 * The main thread drives it with messages (see ClientCommand) and receives ClientReport answers.
 * Latencies go into fixed histograms (0.1 ms buckets up to 10 s), so memory stays flat however many
 * events arrive.
 *
 * The client side must cost far less than the server, on the same cores: a general WebSocket
 * client (ws) spends more per frame than the server does, so this is a minimal RFC 6455 client on
 * raw sockets that only splits frames, searches text frames for the send time as bytes (no
 * decoding, no JSON), answers pings and close frames, and masks what it sends.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import {
  BUCKET_MS,
  BUCKETS,
  type ClientCommand,
  type ClientReport,
  type ClientSetup,
  type StreamStats,
} from './protocol.ts';

const setup = workerData as ClientSetup;
const port = parentPort!;
const now = () => performance.timeOrigin + performance.now();

const MARKER = Buffer.from('wbsent=');
/** How a frame names its stream, as Mastodon writes it: `"stream":["user"]`, `["public"]`, … */
const STREAM_NAMES = setup.streams.map((name) => ({ name, bytes: Buffer.from(`["${name}"`) }));

let stats: Record<string, StreamStats> = {};
let other = 0;
let errors = 0;
let firstErrorFrame: string | undefined;
const closedByServer: Record<string, number> = {};
const clients = new Set<Client>();
let closing = false;

function resetStats(): void {
  stats = {};
  for (const { name } of STREAM_NAMES)
    stats[name] = {
      received: 0,
      histogram: new Uint32Array(BUCKETS + 1),
      max: 0,
      firstAt: 0,
      lastAt: 0,
    };
  other = 0;
  errors = 0;
  firstErrorFrame = undefined;
}
resetStats();

/** A text frame's payload, `data[start, end)`: one event (or an error) from the server. */
function onText(data: Buffer, start: number, end: number): void {
  const at = now();
  const frame = data.subarray(start, end);
  const i = frame.indexOf(MARKER);
  if (i === -1) {
    // `{"error":…,"status":…}` answers a bad subscription; anything else is an event we did not send.
    if (frame.indexOf('"error"') !== -1) {
      errors++;
      firstErrorFrame ??= frame.toString('utf8', 0, 300);
    } else other++;
    return;
  }
  const sent = Number.parseFloat(frame.toString('latin1', i + MARKER.length, i + MARKER.length + 20));
  // The stream tuple comes first in the frame (`{"stream":["public"],…`).
  const head = frame.subarray(0, 64);
  let s: StreamStats | undefined;
  for (const candidate of STREAM_NAMES) {
    if (head.indexOf(candidate.bytes) !== -1) {
      s = stats[candidate.name];
      break;
    }
  }
  if (s === undefined || !Number.isFinite(sent)) {
    other++;
    return;
  }
  const latency = Math.max(0, at - sent);
  s.received++;
  s.histogram[Math.min(BUCKETS, Math.floor(latency / BUCKET_MS))]!++;
  if (latency > s.max) s.max = latency;
  if (s.firstAt === 0) s.firstAt = at;
  s.lastAt = at;
}

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;

/** A client frame: FIN, the opcode, masked as RFC 6455 requires of clients. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const extended = payload.length < 126 ? 0 : 2;
  const frame = Buffer.allocUnsafe(2 + extended + 4 + payload.length);
  frame[0] = 0x80 | opcode;
  if (extended === 0) frame[1] = 0x80 | payload.length;
  else {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(payload.length, 2);
  }
  const maskAt = 2 + extended;
  randomBytes(4).copy(frame, maskAt);
  for (let i = 0; i < payload.length; i++) frame[maskAt + 4 + i] = payload[i]! ^ frame[maskAt + (i & 3)]!;
  return frame;
}

class Client {
  readonly socket: Socket;
  /** Bytes of a frame (or of the HTTP response) not complete yet. */
  private rest: Buffer | null = null;
  private upgraded = false;
  private closeCode = 1006;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  /** Feeds bytes read after the handshake; returns nothing, acts on each whole frame. */
  read(chunk: Buffer): void {
    const buf = this.rest === null ? chunk : Buffer.concat([this.rest, chunk]);
    this.rest = null;
    let off = 0;
    while (off + 2 <= buf.length) {
      const opcode = buf[off]! & 0x0f;
      let length = buf[off + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        if (off + 4 > buf.length) break;
        length = buf.readUInt16BE(off + 2);
        header = 4;
      } else if (length === 127) {
        if (off + 10 > buf.length) break;
        length = Number(buf.readBigUInt64BE(off + 2));
        header = 10;
      }
      // Frames from a server are never masked.
      const start = off + header;
      const end = start + length;
      if (end > buf.length) break;
      if (opcode === OP_TEXT || opcode === OP_CONTINUATION) onText(buf, start, end);
      else if (opcode === OP_PING) this.socket.write(clientFrame(0xa, buf.subarray(start, end)));
      else if (opcode === OP_CLOSE) {
        this.closeCode = length >= 2 ? buf.readUInt16BE(start) : 1005;
        this.socket.end(clientFrame(OP_CLOSE, buf.subarray(start, Math.min(end, start + 2))));
      }
      off = end;
    }
    // Copied: a view would keep the whole chunk alive.
    if (off < buf.length) this.rest = Buffer.from(buf.subarray(off));
  }

  /** The HTTP answer to the upgrade; undefined once it is complete and 101, else an error or 'more'. */
  handshake(chunk: Buffer): string | undefined | 'more' {
    const buf = this.rest === null ? chunk : Buffer.concat([this.rest, chunk]);
    this.rest = null;
    const headerEnd = buf.indexOf('\r\n\r\n');
    if (headerEnd === -1) {
      this.rest = buf;
      return 'more';
    }
    const head = buf.toString('latin1', 0, headerEnd);
    const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
    if (status !== '101') {
      const message = /\r\nx-error-message: *([^\r]*)/i.exec(head)?.[1];
      return `HTTP ${status ?? '?'}${message ? `: ${message}` : ''}`;
    }
    this.upgraded = true;
    if (headerEnd + 4 < buf.length) this.read(buf.subarray(headerEnd + 4));
    return undefined;
  }

  get isUpgraded(): boolean {
    return this.upgraded;
  }

  get code(): number {
    return this.closeCode;
  }

  send(text: string): void {
    this.socket.write(clientFrame(OP_TEXT, Buffer.from(text)));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      const code = Buffer.alloc(2);
      code.writeUInt16BE(1000);
      this.socket.end(clientFrame(OP_CLOSE, code));
      // A server that does not answer the close handshake is not waited for.
      setTimeout(() => this.socket.destroy(), 5000).unref();
    });
  }
}

const target = new URL(setup.url);

function open(token: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const [first, ...rest] = setup.streams;
    const socket = connect({ host: target.hostname, port: Number(target.port), noDelay: true });
    const client = new Client(socket);
    let settled = false;
    const settle = (error: string | undefined) => {
      if (settled) return;
      settled = true;
      resolve(error);
    };
    socket.setTimeout(30_000, () => {
      if (!client.isUpgraded) {
        settle('handshake timed out');
        socket.destroy();
      }
    });
    socket.on('connect', () => {
      socket.write(
        `GET ${target.pathname}?stream=${encodeURIComponent(first!)} HTTP/1.1\r\n` +
          `Host: ${target.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
          `Authorization: Bearer ${token}\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      if (client.isUpgraded) {
        client.read(chunk);
        return;
      }
      const answer = client.handshake(chunk);
      if (answer === 'more') return;
      if (answer !== undefined) {
        settle(answer);
        socket.destroy();
        return;
      }
      socket.setTimeout(0);
      clients.add(client);
      for (const stream of rest) client.send(JSON.stringify({ type: 'subscribe', stream }));
      settle(undefined);
    });
    socket.on('error', (error: Error) => settle(error.message));
    socket.on('close', () => {
      settle('connection closed during the handshake');
      if (clients.delete(client) && !closing)
        closedByServer[client.code] = (closedByServer[client.code] ?? 0) + 1;
    });
  });
}

/** Per thread; below the usual listen backlog (511) with two threads. */
const MAX_HANDSHAKES_IN_FLIGHT = 200;

async function connectAll(): Promise<void> {
  const t0 = performance.now();
  let failed = 0;
  let firstError: string | undefined;
  const pending = new Set<Promise<void>>();
  // Batches every 10 ms at the connection rate, and a cap on handshakes in flight: a burst of
  // 10,000 would overflow the server's accept queue and measure that, not the server.
  const perTick = Math.max(1, Math.round(setup.connectRate / 100));
  let i = 0;
  while (i < setup.tokens.length) {
    const room = Math.min(perTick, MAX_HANDSHAKES_IN_FLIGHT - pending.size);
    for (const token of setup.tokens.slice(i, i + Math.max(0, room))) {
      const handshake: Promise<void> = open(token).then((error) => {
        pending.delete(handshake);
        if (error !== undefined) {
          failed++;
          firstError ??= error;
        }
      });
      pending.add(handshake);
    }
    i += Math.max(0, room);
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all([...pending]);
  port.postMessage({
    type: 'connected',
    open: clients.size,
    failed,
    firstError,
    ms: performance.now() - t0,
  } satisfies ClientReport);
}

port.on('message', (command: ClientCommand) => {
  if (command.type === 'reset') {
    resetStats();
  } else if (command.type === 'report') {
    port.postMessage({
      type: 'report',
      open: clients.size,
      closedByServer: { ...closedByServer },
      streams: stats,
      other,
      errors,
      firstErrorFrame,
    } satisfies ClientReport);
  } else if (command.type === 'close') {
    closing = true;
    const closed = [...clients].map((client) => client.close());
    void Promise.all(closed).then(() => port.postMessage({ type: 'closed' } satisfies ClientReport));
  }
});

await connectAll();
