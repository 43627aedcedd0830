import { type Command, CommanderError } from 'commander';
import type { Config } from '../../config/config.ts';
import type {
  HousekeepingContext,
  HousekeepingCounts,
  MediaUsage,
  ProgressCallback,
} from '../../domain/media/housekeeping.ts';

// The housekeeping code (Drizzle, the storage SDKs) is imported when a media command runs, not
// when `woolly` starts (src/cli/main.ts: each command imports its own code).

/**
 * `woolly media …`, tootctl media's commands: `remove` (cached remote files), `remove-orphans`
 * (stored files no row refers to), `usage`, `lookup URL`. Arguments are checked before anything is
 * opened (usage errors exit 2); a refusal of the domain is one line and exit 1.
 */
export type MediaArgs =
  | {
      action: 'remove';
      days: number;
      pruneProfiles: boolean;
      removeHeaders: boolean;
      includeFollows: boolean;
      keepInteracted: boolean;
      dryRun: boolean;
    }
  | { action: 'remove-orphans'; prefix?: string; dryRun: boolean }
  | { action: 'usage' }
  | { action: 'lookup'; url: string }
  | {
      action: 'refresh';
      /** `user@domain` of a remote account. */
      account?: string;
      domain?: string;
      statusId?: string;
      days?: number;
      force: boolean;
      dryRun: boolean;
    };

export interface MediaOutput {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Where the progress bar goes when the output is a terminal (null: no bar). */
  progress?: ((text: string) => void) | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export async function mediaCommand(
  deps: HousekeepingContext,
  args: MediaArgs,
  io: MediaOutput,
): Promise<number> {
  const housekeeping = await import('../../domain/media/housekeeping.ts');
  const { DomainError } = await import('../../domain/errors.ts');
  const bar = progressBar(io.progress ?? null);
  try {
    switch (args.action) {
      case 'remove': {
        const profiles = args.pruneProfiles || args.removeHeaders;
        const counts = await housekeeping.removeRemoteMediaCache(deps, {
          olderThan: new Date(Date.now() - args.days * DAY_MS),
          pruneProfiles: args.pruneProfiles,
          removeHeaders: args.removeHeaders,
          includeFollows: args.includeFollows,
          keepInteracted: args.keepInteracted,
          dryRun: args.dryRun,
          onProgress: bar.update,
        });
        bar.done();
        const what = profiles
          ? plural(counts.records, 'account')
          : plural(counts.records, 'media attachment');
        io.out(`${summary(counts)} of ${what}${dryRunSuffix(args.dryRun)}`);
        return 0;
      }
      case 'remove-orphans': {
        const counts = await housekeeping.removeOrphans(deps, {
          ...(args.prefix !== undefined ? { prefix: args.prefix } : {}),
          dryRun: args.dryRun,
          onProgress: bar.update,
          onObject: ({ key, outcome }) => {
            bar.clear();
            io.err(outcome === 'orphan' ? `Orphan: ${key}` : `Not a media file, kept: ${key}`);
          },
        });
        bar.done();
        const kept = counts.unrecognized > 0 ? `; ${plural(counts.unrecognized, 'other file')} kept` : '';
        io.out(
          `Removed ${plural(counts.files, 'orphan')} (${humanSize(counts.bytes)}) of ${plural(counts.scanned, 'file')} scanned${kept}${dryRunSuffix(args.dryRun)}`,
        );
        return 0;
      }
      case 'usage': {
        for (const line of usageTable(await housekeeping.mediaUsage(deps))) io.out(line);
        const storage = deps.config.storage;
        io.out(
          storage.kind === 'local'
            ? `Files are stored in ${storage.root}`
            : `Files are stored in the S3 bucket ${storage.bucket}${storage.keyPrefix ? ` under ${storage.keyPrefix}/` : ''}`,
        );
        return 0;
      }
      case 'refresh': {
        const { refreshRemoteMedia } = await import('../../domain/media/remote.ts');
        let accountId: string | undefined;
        if (args.account !== undefined) {
          accountId = await housekeeping.remoteAccountId(deps, args.account);
          if (accountId === undefined) {
            io.err(`error: No remote account ${args.account}`);
            return 1;
          }
        }
        const result = await refreshRemoteMedia(
          deps,
          {
            ...(accountId !== undefined ? { accountId } : {}),
            ...(args.domain !== undefined ? { domain: args.domain } : {}),
            ...(args.statusId !== undefined ? { statusId: args.statusId } : {}),
            ...(args.days !== undefined ? { days: args.days } : {}),
          },
          { force: args.force, dryRun: args.dryRun, onProgress: bar.update },
        );
        bar.done();
        const failed = result.failed > 0 ? `; ${plural(result.failed, 'file')} could not be fetched` : '';
        io.out(
          `${args.dryRun ? 'Would fetch' : 'Fetched'} ${plural(result.fetched, 'media attachment')} of ${result.considered}${failed}${dryRunSuffix(args.dryRun)}`,
        );
        return 0;
      }
      case 'lookup': {
        const found = await housekeeping.lookupMedia(deps, args.url);
        if (found.kind === 'account') {
          io.out(found.accountUrl);
          io.out(`${describeFile(found.file)} of account ${found.acct} (id ${found.accountId})`);
        } else {
          if (found.statusUrl !== null) io.out(found.statusUrl);
          const attached =
            found.statusId !== null
              ? `status ${found.statusId}`
              : found.scheduledStatusId !== null
                ? `scheduled status ${found.scheduledStatusId}`
                : 'no status (not attached)';
          io.out(
            `${describeFile(found.file)} of media attachment ${found.attachmentId} (account ${found.accountId}), attached to ${attached}`,
          );
        }
        if (found.file === null)
          io.err('This file is no longer used by its record: `woolly media remove-orphans` removes it.');
        return 0;
      }
    }
  } catch (error) {
    bar.clear();
    if (error instanceof DomainError) {
      io.err(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

function describeFile(file: string | null): string {
  return file === null ? 'A former file' : `The ${file.replace('_', ' ')} file`;
}

function summary(counts: HousekeepingCounts): string {
  return `Removed ${plural(counts.files, 'file')} (${humanSize(counts.bytes)})`;
}

const dryRunSuffix = (dryRun: boolean) => (dryRun ? ' (DRY RUN)' : '');

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** Bytes as Rails' number_to_human_size shows them: 1024-based, up to one decimal. */
export function humanSize(bytes: number): string {
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes;
  let unit = 'B';
  for (const next of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return `${Number(value.toFixed(1))} ${unit}`;
}

function usageTable(usage: MediaUsage): string[] {
  const rows: [string, { count: number; bytes: number }][] = [
    ['Local attachments', usage.localAttachments],
    ['Remote attachments (cache)', usage.remoteAttachments],
    ['Local avatars', usage.localAvatars],
    ['Remote avatars (cache)', usage.remoteAvatars],
    ['Local headers', usage.localHeaders],
    ['Remote headers (cache)', usage.remoteHeaders],
  ];
  const total = rows.reduce(
    (sum, [, line]) => ({ count: sum.count + line.count, bytes: sum.bytes + line.bytes }),
    {
      count: 0,
      bytes: 0,
    },
  );
  const cells = [
    ['Object', 'Files', 'Size'],
    ...[...rows, ['Total', total] as const].map(([name, line]) => [
      name,
      String(line.count),
      humanSize(line.bytes),
    ]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map(([name, count, size]) =>
    `${name!.padEnd(widths[0]!)}  ${count!.padStart(widths[1]!)}  ${size!.padStart(widths[2]!)}`.trimEnd(),
  );
}

/** A one-line bar redrawn in place (`\r`); with no known total, a running count. */
function progressBar(write: ((text: string) => void) | null): {
  update: ProgressCallback;
  clear: () => void;
  done: () => void;
} {
  let drawn = false;
  const width = 30;
  return {
    update: (done, total) => {
      if (write === null) return;
      drawn = true;
      if (total === null) {
        write(`\r${done} files scanned`);
        return;
      }
      const ratio = total === 0 ? 1 : Math.min(done / total, 1);
      const filled = Math.round(ratio * width);
      write(
        `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(ratio * 100)}% ${done}/${total}`,
      );
    },
    // Erases the line so that a message printed in between stands alone.
    clear: () => {
      if (write !== null && drawn) write('\r\x1b[2K');
      drawn = false;
    },
    done: () => {
      if (write !== null && drawn) write('\n');
      drawn = false;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Registration (src/cli/main.ts)

const usage = (message: string) => new CommanderError(2, 'woolly.media', `error: ${message}`);

function parseDays(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 36_500)
    throw usage('--days expects a whole number of days (0 to 36500)');
  return Number(value);
}

/** Registers `woolly media …`; every option is checked before the database or storage is opened. */
/** What a command line's run gives the command: its configuration, output and exit status. */
export interface CommandRun {
  config(): Config;
  out(line: string): void;
  say(line: string): void;
  io: { stderr: { write(text: string): unknown; isTTY?: boolean } };
  exitCode: number;
}

export function registerMediaCommand(program: Command, cli: CommandRun): void {
  const out = cli.out;
  const err = cli.say;
  const run = async (args: MediaArgs) => {
    cli.exitCode = await withMediaContext(cli.config(), (deps) =>
      mediaCommand(deps, args, {
        out,
        err,
        progress: cli.io.stderr.isTTY ? (text) => cli.io.stderr.write(text) : null,
      }),
    );
  };
  const media = program
    .command('media')
    .description('media files: remove cached remote files and orphans, refresh the cache, usage, lookup');

  media
    .command('remove')
    .description(
      'remove cached copies of remote media attachments (or, with --prune-profiles / --remove-headers, of remote avatars and headers); they are fetched again when needed',
    )
    .option('-d, --days <n>', 'only files created (and not changed) more than this many days ago', '7')
    .option('--prune-profiles', 'remove remote avatars and headers instead of attachments')
    .option('--remove-headers', 'remove remote headers instead of attachments')
    .option(
      '--include-follows',
      'with --prune-profiles or --remove-headers: also accounts with a local follow',
    )
    .option(
      '--keep-interacted',
      'keep the media of statuses local users favourited, bookmarked, boosted or replied to',
    )
    .option('--dry-run', 'count what would be removed, remove nothing')
    .action(
      (opts: {
        days: string;
        pruneProfiles?: boolean;
        removeHeaders?: boolean;
        includeFollows?: boolean;
        keepInteracted?: boolean;
        dryRun?: boolean;
      }) => {
        const days = parseDays(opts.days);
        if (opts.pruneProfiles && opts.removeHeaders)
          throw usage('--prune-profiles and --remove-headers cannot be used together');
        if (opts.includeFollows && !(opts.pruneProfiles || opts.removeHeaders))
          throw usage('--include-follows needs --prune-profiles or --remove-headers');
        if (opts.keepInteracted && (opts.pruneProfiles || opts.removeHeaders))
          throw usage(
            '--keep-interacted applies to attachments, not with --prune-profiles or --remove-headers',
          );
        return run({
          action: 'remove',
          days,
          pruneProfiles: opts.pruneProfiles === true,
          removeHeaders: opts.removeHeaders === true,
          includeFollows: opts.includeFollows === true,
          keepInteracted: opts.keepInteracted === true,
          dryRun: opts.dryRun === true,
        });
      },
    );

  media
    .command('remove-orphans')
    .description(
      'walk the stored files and remove those no attachment or account refers to (slow on large buckets)',
    )
    .option('--prefix <prefix>', 'only keys starting with this (default: the media folders)')
    .option('--dry-run', 'list and count what would be removed, remove nothing')
    .action((opts: { prefix?: string; dryRun?: boolean }) =>
      run({
        action: 'remove-orphans',
        ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}),
        dryRun: opts.dryRun === true,
      }),
    );

  media
    .command('usage')
    .description('files and bytes of local and remote media, avatars and headers')
    .action(() => run({ action: 'usage' }));

  media
    .command('refresh')
    .description(
      'fetch remote media attachments into the cache again: those not cached, or all with --force (give at least one of --account, --domain, --status, --days)',
    )
    .option('--account <acct>', 'the attachments of one remote account (user@domain)')
    .option('--domain <domain>', 'the attachments of every account of a domain')
    .option('--status <id>', "one status's attachments")
    .option('-d, --days <n>', 'attachments created in the last N days')
    .option('--force', 'fetch again even what is cached')
    .option('--dry-run', 'count what would be fetched, fetch nothing')
    .action(
      (opts: {
        account?: string;
        domain?: string;
        status?: string;
        days?: string;
        force?: boolean;
        dryRun?: boolean;
      }) => {
        if (
          opts.account === undefined &&
          opts.domain === undefined &&
          opts.status === undefined &&
          opts.days === undefined
        )
          throw usage('Specify the source of media attachments: --account, --domain, --status or --days');
        if (opts.status !== undefined && !/^\d{1,19}$/.test(opts.status))
          throw usage('--status expects a status id');
        if (opts.account !== undefined && !/^@?[^@\s]+@[^@\s]+$/.test(opts.account))
          throw usage('--account expects a remote account as user@domain');
        return run({
          action: 'refresh',
          ...(opts.account !== undefined ? { account: opts.account.replace(/^@/, '') } : {}),
          ...(opts.domain !== undefined ? { domain: opts.domain } : {}),
          ...(opts.status !== undefined ? { statusId: opts.status } : {}),
          ...(opts.days !== undefined ? { days: parseDays(opts.days) } : {}),
          force: opts.force === true,
          dryRun: opts.dryRun === true,
        });
      },
    );

  media
    .command('lookup <url>')
    .description('find the status or account a media URL belongs to')
    .action(async (url: string) => {
      // A URL that names no media file is refused before anything is opened.
      const { DomainError } = await import('../../domain/errors.ts');
      const { keyOfUrl } = await import('../../domain/media/housekeeping.ts');
      try {
        if (keyOfUrl(url) === null) throw new DomainError('unprocessable', 'Not a media URL');
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        err(`error: ${error.message}`);
        cli.exitCode = 1;
        return;
      }
      return run({ action: 'lookup', url });
    });
}

/**
 * Opens the database (through a running embedded server's socket when there is one, which holds
 * the server's queries while the command runs) and the storage, for one command.
 */
async function withMediaContext(
  config: Config,
  fn: (deps: HousekeepingContext) => Promise<number>,
): Promise<number> {
  const { openDatabaseForCommand } = await import('../../db/index.ts');
  const { assertSchemaCurrent } = await import('../../db/migrate.ts');
  const { createStorage } = await import('../../infra/storage/index.ts');
  const { createLogger } = await import('../../infra/log.ts');
  const { database } = await openDatabaseForCommand(config);
  try {
    await assertSchemaCurrent(database);
    const storage = await createStorage(config.storage, config.baseUrl);
    try {
      return await fn({ database, storage, config, log: createLogger(config, 'media') });
    } finally {
      await storage.close();
    }
  } finally {
    await database.close();
  }
}
