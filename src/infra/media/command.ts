/**
 * Running ffmpeg and ffprobe: a child process with an argument list (never a shell), a bounded
 * number at once, a timeout, and the tail of stderr kept for the error.
 */
import { spawn } from 'node:child_process';

/** A counting semaphore: at most `limit` holders, the rest wait in order. */
export class Semaphore {
  readonly #limit: number;
  #held = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`semaphore limit must be ≥ 1, got ${limit}`);
    this.#limit = limit;
  }

  get held(): number {
    return this.#held;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#held >= this.#limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#held++;
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter, so `held` stays counted.
      if (next) next();
      else this.#held--;
    }
  }
}

export class CommandError extends Error {
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** The binary could not be started at all (ENOENT, EACCES). */
  readonly notFound: boolean;

  constructor(
    message: string,
    details: {
      exitCode: number | null;
      stderr: string;
      timedOut: boolean;
      notFound: boolean;
      cause?: unknown;
    },
  ) {
    super(message, { cause: details.cause });
    this.name = 'CommandError';
    this.exitCode = details.exitCode;
    this.stderr = details.stderr;
    this.timedOut = details.timedOut;
    this.notFound = details.notFound;
  }
}

/** stderr kept for the error message: ffmpeg's last lines say what went wrong. */
const STDERR_TAIL_BYTES = 4096;

export interface RunOptions {
  timeoutMs: number;
  /** stdout is collected up to this many bytes (ffprobe's JSON); beyond it the run fails. */
  maxStdoutBytes?: number;
}

export function runCommand(
  binary: string,
  args: readonly string[],
  options: RunOptions,
): Promise<{ stdout: Buffer; stderr: string }> {
  const maxStdout = options.maxStdoutBytes ?? 4 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(binary, args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      reject(
        new CommandError(`${binary} could not be started`, {
          exitCode: null,
          stderr: '',
          timedOut: false,
          notFound: true,
          cause: error,
        }),
      );
      return;
    }
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stdoutOverflow = false;
    let stderr = '';
    let timedOut = false;
    let settled = false;

    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);

    child.stdout!.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdout) {
        stdoutOverflow = true;
        child.kill('SIGKILL');
        return;
      }
      stdout.push(chunk);
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL_BYTES);
    });

    child.on('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const notFound = error.code === 'ENOENT' || error.code === 'EACCES';
      reject(
        new CommandError(`${binary} could not be run: ${error.message}`, {
          exitCode: null,
          stderr,
          timedOut: false,
          notFound,
          cause: error,
        }),
      );
    });

    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (code === 0 && !stdoutOverflow) {
        resolve({ stdout: Buffer.concat(stdout), stderr });
        return;
      }
      const why = timedOut
        ? `timed out after ${options.timeoutMs} ms`
        : stdoutOverflow
          ? `wrote more than ${maxStdout} bytes of output`
          : signal
            ? `was killed by ${signal}`
            : `exited with code ${code}`;
      const tail = stderr.trim();
      reject(
        new CommandError(`${binary} ${why}${tail ? `: ${tail}` : ''}`, {
          exitCode: code,
          stderr,
          timedOut,
          notFound: false,
        }),
      );
    });
  });
}
