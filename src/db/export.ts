import { existsSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { PGlite } from '@electric-sql/pglite';
import { pgDump } from '@electric-sql/pglite-tools/pg_dump';
import type { Config } from '../config/config.ts';
import { paths } from '../config/data-dir-layout.ts';
import { acquireLock, lockOwner, prepareDataDir } from './data-dir.ts';
import { openPGlite } from './pglite.ts';
import type { PGliteGate } from './pglite-gate.ts';

/**
 * `woolly db export`: the embedded database as plain SQL that psql loads into an empty PostgreSQL
 * (15 or newer) — the way from the embedded shape to the scaled one (docs/moving-to-postgresql.md).
 *
 * pg_dump runs as WebAssembly against a PGlite instance. When the server owns the database, running
 * pg_dump inside it would interleave its snapshot transaction with the server's own queries (PGlite
 * is one session), so the command instead asks the server, over a control socket in run/, for a
 * consistent copy of the data directory, opens that copy in memory and dumps it.
 */
export async function exportDatabase(config: Config): Promise<string> {
  if (config.database.kind !== 'pglite') {
    throw new Error('woolly db export dumps the embedded database; with PostgreSQL configured, use pg_dump');
  }
  prepareDataDir(config.dataDir);
  const p = paths(config.dataDir);
  if (lockOwner(config.dataDir) !== undefined) {
    if (!existsSync(controlSocket(config.dataDir))) {
      throw new Error(
        'the Woolly process that owns this data directory does not answer on its control socket; stop it and run the export again',
      );
    }
    const snapshot = await fetchSnapshot(config.dataDir);
    const pg = await openPGlite({ loadDataDir: new Blob([new Uint8Array(snapshot)]) });
    try {
      return await dumpSql(pg);
    } finally {
      await pg.close();
    }
  }
  const release = acquireLock(config.dataDir, 'export');
  try {
    const pg = await openPGlite({ dataDir: p.db });
    try {
      return await dumpSql(pg);
    } finally {
      await pg.close();
    }
  } finally {
    release();
  }
}

async function dumpSql(pg: PGlite): Promise<string> {
  const file = await pgDump({ pg, args: ['--no-owner', '--no-privileges'] });
  return portableSql(await file.text());
}

/**
 * PGlite is PostgreSQL 18; the dump must load into 15. `transaction_timeout` exists from 17 on and
 * psql stops at it with ON_ERROR_STOP, so it goes (it only resets a default anyway).
 */
export function portableSql(sql: string): string {
  return sql.replace(/^SET transaction_timeout = 0;\n/m, '');
}

export const controlSocket = (dataDir: string) => `${paths(dataDir).run}/control.sock`;

/**
 * What the owner relays for commands once its roles run: in the embedded shape pub/sub is
 * in-process, so a command (`woolly accounts modify --disable`) that must reach the server's live
 * streams hands its messages to the owner, which publishes them on its own bus.
 */
export interface ControlRelay {
  publish?: (channel: string, message: string) => Promise<void>;
}

/** The largest message a command may hand over for publishing. */
const RELAY_MAX_BYTES = 1024 * 1024;

/**
 * The owner's control socket (mode 0600 inside the 0700 run/ directory): answers GET /snapshot with
 * a gzipped tarball of the data directory taken by PGlite between two queries, POST /lend (below),
 * and POST /publish `{"channel","message"}` through `relay`.
 */
export async function serveControlSocket(
  pg: PGlite,
  dataDir: string,
  gate: PGliteGate,
  relay: ControlRelay = {},
): Promise<Server> {
  const path = controlSocket(dataDir);
  if (existsSync(path)) rmSync(path, { force: true });
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/snapshot') {
      pg.dumpDataDir('gzip').then(
        async (blob) => {
          res.writeHead(200, { 'content-type': 'application/gzip' });
          res.end(Buffer.from(await blob.arrayBuffer()));
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(error));
        },
      );
      return;
    }
    if (req.method === 'POST' && req.url === '/lend') {
      // Lent until the command's connection closes (it exits, or crashes), or at most LEND_MAX_MS.
      gate.lend().then((release) => {
        const timer = setTimeout(release, LEND_MAX_MS);
        timer.unref();
        res.on('close', () => {
          clearTimeout(timer);
          release();
        });
        if (res.destroyed) {
          release();
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('lent\n');
      });
      return;
    }
    if (req.method === 'POST' && req.url === '/publish') {
      relayPublish(req, res, relay);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return server;
}

function relayPublish(req: IncomingMessage, res: ServerResponse, relay: ControlRelay): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > RELAY_MAX_BYTES) {
      res.writeHead(413).end();
      req.destroy();
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (res.headersSent) return;
    let body: { channel?: unknown; message?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end('invalid JSON');
      return;
    }
    if (typeof body?.channel !== 'string' || typeof body.message !== 'string') {
      res.writeHead(400).end('channel and message must be strings');
      return;
    }
    if (relay.publish === undefined) {
      res.writeHead(503).end('the server is not running its roles yet');
      return;
    }
    relay.publish(body.channel, body.message).then(
      () => res.writeHead(204).end(),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
}

/**
 * Hands a pub/sub message to the server that owns `dataDir`, which publishes it on its in-process
 * bus (see ControlRelay).
 */
export function publishThroughOwner(dataDir: string, channel: string, message: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: controlSocket(dataDir), path: '/publish', method: 'POST' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode === 204) resolve();
        else
          reject(
            new Error(
              `the running server did not publish (HTTP ${res.statusCode}): ${Buffer.concat(chunks)}`,
            ),
          );
      });
    });
    req.on('error', reject);
    req.setHeader('content-type', 'application/json');
    req.end(JSON.stringify({ channel, message }));
  });
}

/** A command holding the database longer than this gives it back anyway: the server must go on. */
const LEND_MAX_MS = 5 * 60 * 1000;

/**
 * Asks the server that owns `dataDir` to lend its database to this command (see
 * src/db/pglite-gate.ts); resolves, once lent, with the function that gives it back.
 */
export function borrowDatabase(dataDir: string): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: controlSocket(dataDir), path: '/lend', method: 'POST' }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`the running server refused to lend its database (HTTP ${res.statusCode})`));
        res.resume();
        return;
      }
      res.once('data', () => resolve(() => req.destroy()));
      res.on('error', () => {});
    });
    req.on('error', reject);
    req.end();
  });
}

function fetchSnapshot(dataDir: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: controlSocket(dataDir), path: '/snapshot', method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        if (res.statusCode === 200) resolve(body);
        else reject(new Error(`the server could not take a snapshot: ${body.toString()}`));
      });
    });
    req.on('error', reject);
    req.end();
  });
}
