import {
  isQueueName,
  type JobState,
  QUEUE_NAMES,
  type QueueBackend,
  type QueueName,
} from '../../infra/queue/queue.ts';

export type QueuesAction = 'status' | 'dead' | 'retry' | 'clear';

export interface QueuesArgs {
  action: QueuesAction;
  /** Required for dead/retry/clear; narrows status to one queue. Checked here, so a raw string is fine. */
  queue?: string;
  /** retry/clear: one dead job instead of all of the queue's. */
  id?: string;
}

const STATES: readonly JobState[] = ['waiting', 'delayed', 'active', 'completed', 'dead'];
const DEAD_LIMIT = 100;
const ERROR_WIDTH = 160;

/** Columns padded to their widest cell; numeric columns are right-aligned. */
function table(rows: string[][], numeric: ReadonlySet<number> = new Set()): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => {
        const last = i === row.length - 1;
        if (numeric.has(i)) return cell.padStart(widths[i] ?? 0);
        return last ? cell : cell.padEnd(widths[i] ?? 0);
      })
      .join('  ')
      .trimEnd(),
  );
}

function oneLine(text: string | null): string {
  if (text === null || text === '') return '-';
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > ERROR_WIDTH ? `${line.slice(0, ERROR_WIDTH - 1)}…` : line;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * `woolly queues …`: job counts per queue and state, and the dead jobs (list, retry, clear). Returns
 * the exit code: 0 done, 1 nothing matched the given id, 2 bad arguments.
 */
export async function queuesCommand(
  backend: QueueBackend,
  args: QueuesArgs,
  out: (line: string) => void,
): Promise<number> {
  let queue: QueueName | undefined;
  if (args.queue !== undefined) {
    if (!isQueueName(args.queue)) {
      out(`unknown queue "${args.queue}": valid queues are ${QUEUE_NAMES.join(', ')}`);
      return 2;
    }
    queue = args.queue;
  } else if (args.action !== 'status') {
    out(`${args.action} needs a queue: one of ${QUEUE_NAMES.join(', ')}`);
    return 2;
  }

  switch (args.action) {
    case 'status': {
      const counts = await backend.counts();
      const names = queue === undefined ? QUEUE_NAMES : [queue];
      const rows = [
        ['queue', ...STATES],
        ...names.map((name) => [name, ...STATES.map((s) => String(counts[name][s]))]),
      ];
      for (const line of table(rows, new Set([1, 2, 3, 4, 5]))) out(line);
      return 0;
    }
    case 'dead': {
      const q = queue as QueueName;
      const dead = await backend.dead(q, DEAD_LIMIT);
      if (dead.length === 0) {
        out(`no dead jobs in ${q}`);
        return 0;
      }
      const rows = [
        ['id', 'name', 'attempts', 'failed at', 'error'],
        ...dead.map((job) => [
          job.id,
          job.name,
          String(job.attempts),
          job.failedAt === null ? '-' : job.failedAt.toISOString(),
          oneLine(job.error),
        ]),
      ];
      for (const line of table(rows, new Set([2]))) out(line);
      const total = (await backend.counts())[q].dead;
      if (total > dead.length) out(`(the ${dead.length} most recent of ${total} dead jobs)`);
      return 0;
    }
    case 'retry':
    case 'clear': {
      const q = queue as QueueName;
      const n =
        args.action === 'retry' ? await backend.retryDead(q, args.id) : await backend.clearDead(q, args.id);
      const verb = args.action === 'retry' ? 'retried' : 'deleted';
      if (args.id !== undefined) {
        if (n === 0) {
          out(`no dead job ${args.id} in ${q}`);
          return 1;
        }
        out(`${verb} dead job ${args.id} in ${q}`);
        return 0;
      }
      out(`${verb} ${plural(n, 'dead job')} in ${q}`);
      return 0;
    }
    default: {
      const action: never = args.action;
      out(`unknown action "${String(action)}": use status, dead, retry or clear`);
      return 2;
    }
  }
}
