import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMediaProcessor, type MediaProcessor } from '../../infra/media/index.ts';
import type { Context } from '../context.ts';

/**
 * The process's media processor, made on first use from the configuration (it probes ffmpeg once).
 * Keyed by the configuration object, which a role builds once and shares with every context.
 */
/** What storing and processing media needs: commands that run without a whole server use it too. */
export type MediaContext = Pick<Context, 'config' | 'database' | 'storage' | 'log'>;

const processors = new WeakMap<object, Promise<MediaProcessor>>();

export function mediaProcessor(ctx: Pick<Context, 'config'>): Promise<MediaProcessor> {
  let processor = processors.get(ctx.config);
  if (processor === undefined) {
    processor = createMediaProcessor({
      ffmpegBinary: ctx.config.media.ffmpegBinary,
      ffprobeBinary: ctx.config.media.ffprobeBinary,
      maxFfmpegProcesses: ctx.config.media.maxFfmpegProcesses,
      tempDir: join(tmpdir(), 'woolly-media'),
    });
    processors.set(ctx.config, processor);
  }
  return processor;
}
