import type { PGlite } from '@electric-sql/pglite';

/**
 * PGlite is one PostgreSQL session. While the server owns it, `woolly` commands reach it through
 * the socket (src/db/pglite.ts); pglite-socket keeps one client's transaction together against other
 * socket clients, but the server's own queries would still run inside that transaction (or commit
 * it half-done with one of their own). So a command first asks the server to lend it the database
 * (control socket, `POST /lend`): the server lets its in-flight queries finish, holds new ones at
 * this gate, and opens the gate again when the command's control connection closes.
 */
export interface PGliteGate {
  /** The PGlite to give Drizzle and the executor: every call waits while the database is lent. */
  readonly client: PGlite;
  /** Waits until nothing of the server's own is running, closes the gate; returns the release. */
  lend(): Promise<() => void>;
}

const GATED = new Set(['query', 'exec', 'transaction', 'sql', 'dumpDataDir']);

export function gatePGlite(pg: PGlite): PGliteGate {
  let inFlight = 0;
  let idle: (() => void) | undefined;
  let gate: Promise<void> = Promise.resolve();
  let lendQueue: Promise<unknown> = Promise.resolve();

  const client = new Proxy(pg, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (typeof prop !== 'string' || !GATED.has(prop)) return value.bind(target);
      return async (...args: unknown[]) => {
        await gate;
        inFlight++;
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          inFlight--;
          if (inFlight === 0) idle?.();
        }
      };
    },
  });

  const lend = (): Promise<() => void> => {
    // One command at a time: a second waits for the first to give the database back.
    const turn = lendQueue.then(async () => {
      let open!: () => void;
      gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
      idle = undefined;
      let released = false;
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      return {
        release: () => {
          if (released) return;
          released = true;
          open();
          done();
        },
        finished,
      };
    });
    lendQueue = turn.then((t) => t.finished);
    return turn.then((t) => t.release);
  };

  return { client, lend };
}
