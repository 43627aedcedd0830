import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { runCli } from '../../src/cli/main.ts';

/** The real `woolly` command as an operator runs it, in its own process. */
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const BIN = new URL('../../bin/woolly.js', import.meta.url).pathname;

/** An environment with none of the shape-selecting variables of the test run itself. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (
      /^(DATABASE_URL|DB_|REDIS_|LOCAL_DOMAIN|WEB_DOMAIN|PORT$|BIND$|WOOLLY_|S3_|SMTP_|SECRET_KEY_BASE|VAPID_|OTP_SECRET|ACTIVE_RECORD_)/.test(
        k,
      )
    )
      continue;
    env[k] = v;
  }
  return { ...env, LOG_LEVEL: 'warn', ...extra };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** The whole environment of the command (default: cleanEnv()). */
  env?: Record<string, string>;
  /** Its working directory (default: the temp directory). */
  cwd?: string;
  /** Its standard input. */
  input?: string;
}

/**
 * Runs `woolly <args>` in this test's process, through the same entry as the binary (runCli of
 * src/cli/main.ts) with its own environment, working directory and standard streams: the same
 * parsing, commands, output and exit status, without paying a Node start-up and a PGlite WebAssembly
 * compile per command. Server roles (`start`, `web`, …) take over the process when they succeed:
 * start them with startWoolly, or in-process only where they must fail.
 */
export async function runWoollyInProcess(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(args, {
    env: options.env ?? cleanEnv(),
    cwd: options.cwd ?? tmpdir(),
    stdin: Readable.from(options.input ? [options.input] : []),
    stdout,
    stderr,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A command's stdout or stderr, kept as text. */
class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Runs the real `woolly` process (bin/woolly.js with `bin: true`, else src/cli/main.ts). */
export function runWoolly(args: string[], options: RunOptions & { bin?: boolean } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.bin ? BIN : MAIN, ...args], {
      env: options.env ?? cleanEnv(),
      cwd: options.cwd ?? tmpdir(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

let held: Promise<number> | undefined;

/**
 * A port this test process holds open (unref'd: it does not keep the process alive). A server role
 * run in-process where it must be refused is given it as PORT: should the refusal regress, the role
 * fails at listen instead of serving from the test process.
 */
export function heldPort(): Promise<number> {
  held ??= new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      server.unref();
      resolve((server.address() as { port: number }).port);
    });
  });
  return held;
}

export const tempDir = (prefix = 'woolly-cli-') => mkdtempSync(join(tmpdir(), prefix));

export interface Server {
  child: ChildProcess;
  port: number;
  url: string;
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `woolly <args>` and resolves once /health answers (or rejects with its output if it exits). */
export async function startWoolly(
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<Server> {
  const port = Number(env.PORT);
  const child = spawn(process.execPath, [MAIN, ...args], {
    env,
    cwd: options.cwd ?? tmpdir(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // A first start initialises the database (PGlite's initdb): tens of seconds on a busy machine.
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exited;
  };
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`woolly ${args.join(' ')} exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`woolly ${args.join(' ')} did not become healthy:\n${output}`);
    }
    if (args[0] === 'worker') {
      if (/ready/.test(output)) break;
    } else {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        if (res.ok) break;
      } catch {
        // not yet
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, port, url: `http://127.0.0.1:${port}`, output: () => output, stop };
}

/** The lines a command printed (out, err) and its progress bar's frames, for in-process commands. */
export function captureCommandOutput() {
  const lines: string[] = [];
  const errors: string[] = [];
  const bar: string[] = [];
  return {
    lines,
    errors,
    bar,
    io: {
      out: (l: string) => lines.push(l),
      err: (l: string) => errors.push(l),
      progress: (t: string) => bar.push(t),
    },
  };
}
