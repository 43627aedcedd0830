import { filterFacts, type StreamedStatusFacts } from '../domain/streaming/status-facts.ts';
import type { StatusFacts } from '../domain/streaming/viewer-state.ts';
import { statusFacts } from './entity-facts.ts';

/**
 * One pub/sub message on its way to every connection listening: parsed once, and each client frame
 * built once and shared by every connection that gets the same frame (the WebSocket frame depends
 * only on the `stream` tuple, the SSE frame on nothing), DESIGN.md §8.
 */
export class Delivery {
  readonly event: string;
  readonly payload: unknown;
  /** The payload as clients get it: object payloads are JSON text, ids stay as they are. */
  private readonly payloadText: string | undefined;
  private sse: Buffer | undefined;
  private ws: Map<string, Buffer> | undefined;
  /** The facts the publisher sent beside the payload (null: none, as from Mastodon's publisher). */
  private readonly streamed: StreamedStatusFacts | null;
  private facts: StatusFacts | null | undefined;

  constructor(event: string, payload: unknown, streamed: StreamedStatusFacts | null = null) {
    this.event = event;
    this.payload = payload;
    this.streamed = streamed;
    this.payloadText =
      payload === undefined || payload === null
        ? undefined
        : typeof payload === 'object'
          ? JSON.stringify(payload)
          : String(payload);
  }

  /**
   * The WebSocket frame on the wire (header included) of `{"stream":[…],"event":…,"payload":"<JSON
   * text>"}`; `streamJson` is the tuple already encoded. Framed here once for every connection, so
   * a delivery is one socket write of shared bytes.
   */
  wsFrame(streamJson: string): Buffer {
    this.ws ??= new Map();
    let frame = this.ws.get(streamJson);
    if (frame === undefined) {
      const payload = this.payloadText === undefined ? '' : `,"payload":${JSON.stringify(this.payloadText)}`;
      frame = textFrame(`{"stream":${streamJson},"event":${JSON.stringify(this.event)}${payload}}`);
      this.ws.set(streamJson, frame);
    }
    return frame;
  }

  /** `event: …` then one `data:` line per line of the payload, then a blank line. */
  sseFrame(): Buffer {
    if (this.sse === undefined) {
      const lines = (this.payloadText ?? '').split(/\r\n|\r|\n/);
      this.sse = Buffer.from(`event: ${this.event}\n${lines.map((l) => `data: ${l}\n`).join('')}\n`);
    }
    return this.sse;
  }

  /**
   * The status facts the per-viewer filter reads: those the publisher sent, else (a message
   * without them) read from the entity; null when the payload is not a status.
   */
  statusFacts(): StatusFacts | null {
    if (this.facts === undefined)
      this.facts = this.streamed !== null ? filterFacts(this.streamed) : statusFacts(this.payload);
    return this.facts;
  }

  /** Whether a status payload belongs to the local half of a feed (the author has no domain). */
  isLocal(): boolean {
    return this.statusFacts()?.domain === null;
  }
}

/**
 * An unmasked, unfragmented WebSocket text frame (RFC 6455 §5.2) as a server sends it: FIN and
 * opcode 1, then the payload length in 7, 7+16 or 7+64 bits, then the UTF-8 payload.
 */
export function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.write(text, header, 'utf8');
  return frame;
}

/** Frames of errors sent on a WebSocket (`{"error": …, "status": …}`), as Mastodon's. */
export function errorFrame(message: string, status: number): string {
  return JSON.stringify({ error: message, status });
}
