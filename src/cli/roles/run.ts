import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/config.ts';
import { ConfigError } from '../../config/errors.ts';
import { resolveSecrets } from '../../config/secrets.ts';
import { prepareDataDir } from '../../db/data-dir.ts';
import { openOwnedDatabase } from '../../db/index.ts';
import { assertSchemaCurrent, migrate } from '../../db/migrate.ts';
import { checkLocalDomain } from '../../domain/instance/identity.ts';
import { createLogger } from '../../infra/log.ts';
import type { QueueName, Worker } from '../../infra/queue/queue.ts';
import { createJobRegistry } from '../../jobs/index.ts';
import { buildContext } from './context.ts';
import { StartupError } from './errors.ts';

export interface RoleOptions {
  /** What this process is called in logs and the lock file: start, web, worker, streaming. */
  role: string;
  web: boolean;
  /**
   * Serve the streaming API: on the web server's port when `web` is set too (`woolly start`), else
   * alone on STREAMING_PORT (`woolly streaming`).
   */
  streaming: boolean;
  worker: { queues: readonly QueueName[]; concurrency: number } | undefined;
  /** Apply pending migrations first (`woolly start`); other roles refuse a schema that is behind. */
  migrate: boolean;
  /** Say things to the operator (stderr), apart from the JSON logs. */
  say?: (line: string) => void;
}

export interface RunningRoles {
  url: string | undefined;
  /** Drains: stops accepting requests and jobs, lets running ones finish, closes connections. */
  stop(): Promise<void>;
}

/** How long a shutdown waits for running jobs before handing them back to the queue. */
const SHUTDOWN_JOB_GRACE_MS = 25_000;

/** Starts the roles that `options` asks for in this process, on the shape `config` describes. */
export async function runRoles(config: Config, options: RoleOptions): Promise<RunningRoles> {
  const say = options.say ?? (() => {});
  const log = createLogger(config, options.role);
  if (options.role !== 'start' && config.redis === undefined) {
    throw new ConfigError(
      `\`woolly ${options.role}\` runs one role of a multi-process deployment, which needs PostgreSQL and Redis (DB_HOST/DATABASE_URL and REDIS_URL). ` +
        'Without them, run every role in one process with `woolly start`.',
      'REDIS_URL',
    );
  }

  // A data directory that is not Woolly's is refused before anything is written into it; then
  // secrets, so that a missing one stops start-up before the database is opened.
  if (config.shape === 'embedded') prepareDataDir(config.dataDir);
  const secrets = resolveSecrets(config);
  const { database, relay } = await openOwnedDatabase(config, options.role);
  let web: FastifyInstance | undefined;
  let worker: Worker | undefined;
  let ctx: Awaited<ReturnType<typeof buildContext>> | undefined;
  const stop = async () => {
    // Order matters: stop taking new work, let what runs finish, then close what it used.
    await web?.close().catch((err: unknown) => log.warn({ err }, 'closing the HTTP server failed'));
    await worker
      ?.close(SHUTDOWN_JOB_GRACE_MS)
      .catch((err: unknown) => log.warn({ err }, 'closing the worker failed'));
    await ctx?.closeAdapters();
    await database.close();
  };
  try {
    if (options.migrate) {
      const applied = await migrate(database, (line) => log.info(line));
      if (applied.length > 0) log.info({ applied }, 'database migrated');
    } else {
      await assertSchemaCurrent(database);
    }
    const identity = await checkLocalDomain(database, config.localDomain);
    if (identity.firstStart) {
      say(
        `This server's domain is ${config.localDomain}${config.localDomainDefaulted ? ' (the embedded default; set LOCAL_DOMAIN to choose another)' : ''}. ` +
          'It is permanent: it is part of every account address and every ActivityPub URI this server publishes, and cannot change later.',
      );
    }
    ctx = await buildContext(config, secrets, database, log);
    // Embedded: commands run in other processes hand their stream events (a disabled account's
    // `kill`) to this one over the control socket, to publish on the in-process bus.
    if (relay !== undefined) {
      const bus = ctx.pubsub;
      relay.publish = (channel, message) => bus.publish(channel, message);
    }

    if (options.worker !== undefined) {
      const registry = createJobRegistry(ctx);
      worker = ctx.queue.work(options.worker.queues, (job) => registry.dispatch(job), {
        concurrency: options.worker.concurrency,
      });
      for (const periodic of registry.periodicJobs()) {
        if (options.worker.queues.includes(periodic.queue)) await ctx.queue.schedule(periodic);
      }
      log.info({ queues: options.worker.queues, concurrency: options.worker.concurrency }, 'worker started');
    }

    let url: string | undefined;
    if (options.web || options.streaming) {
      const alone = !options.web;
      const { port, bind } = alone
        ? { port: config.streaming.port, bind: config.http.bind }
        : { port: config.http.port, bind: config.http.bind };
      const portVariable = alone ? 'STREAMING_PORT' : 'PORT';
      // Each role loads only its own server (DESIGN.md §8): `woolly streaming` never loads the API.
      if (alone) {
        const { buildStreamingServer } = await import('../../http/streaming-server.ts');
        web = await buildStreamingServer(ctx);
      } else {
        const { buildServer } = await import('../../http/server.ts');
        web = await buildServer(ctx, { streaming: options.streaming });
      }
      try {
        await web.listen({ port, host: bind });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new StartupError(
            `Port ${port} on ${bind} is already in use: stop what uses it, or set ${portVariable} to another port.`,
          );
        }
        if ((error as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') {
          throw new StartupError(`BIND=${bind} is not an address of this machine.`);
        }
        throw error;
      }
      url = `http://${bind.includes(':') ? `[${bind}]` : bind}:${port}`;
    }
    return { url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
