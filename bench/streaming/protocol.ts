/** Messages between bench/streaming/run.ts and its client threads (clients.ts). */

export interface ClientSetup {
  /** ws://host:port/api/v1/streaming */
  url: string;
  /** One per client, round-robin over the accounts; several clients may share one. */
  tokens: string[];
  /** Streams each client subscribes to: the first in the URL, the rest by subscribe messages. */
  streams: string[];
  /** Connections this thread opens per second. */
  connectRate: number;
}

export type ClientCommand = { type: 'reset' } | { type: 'report' } | { type: 'close' };

export interface StreamStats {
  received: number;
  /** Count per 0.1 ms bucket; index BUCKETS holds everything slower than 10 s. */
  histogram: Uint32Array;
  max: number;
  firstAt: number;
  lastAt: number;
}

export type ClientReport =
  | { type: 'connected'; open: number; failed: number; firstError: string | undefined; ms: number }
  | {
      type: 'report';
      open: number;
      /** Connections the server closed after they were open, by close code. */
      closedByServer: Record<string, number>;
      /** Frames per stream name with a send time in them. */
      streams: Record<string, StreamStats>;
      /** Frames without a send time (other events), and error frames from the server. */
      other: number;
      errors: number;
      firstErrorFrame: string | undefined;
    }
  | { type: 'closed' };

export const BUCKET_MS = 0.1;
export const BUCKETS = 100_000;
