import type { EnqueueOptions, EnqueueResult, JsonValue, QueueName } from '../infra/queue/queue.ts';
import type { Context } from './context.ts';

/**
 * Every job Woolly runs, named once: its queue (Mastodon's: default, push, pull, ingress, mailers,
 * scheduler) and its name, as `woolly queues` shows them. The domain enqueues with these, the
 * handlers in src/jobs register under them, and the data type travels with the name so that what is
 * enqueued and what a handler expects cannot drift apart. Handlers still check the data they get:
 * a job may have been enqueued by an older version of Woolly.
 */
export interface JobType<Data extends JsonValue> {
  readonly queue: QueueName;
  readonly name: string;
  /** Never set: carries the data type of the job to `enqueueJob` and the handlers. */
  readonly data?: Data;
}

const job = <Data extends JsonValue>(queue: QueueName, name: string): JobType<Data> => ({ queue, name });

export const JOBS = {
  /** The fan-out of a new status into its readers' homes (src/domain/timelines/distribution.ts). */
  distribute: job<{ statusId: string }>('default', 'distribute'),
  /** The streaming of an edit to the homes that hold the status. */
  distributeUpdate: job<{ statusId: string }>('default', 'distribute_update'),
  /** The end of a timed mute (Mastodon's DeleteMuteWorker). */
  muteExpired: job<{ accountId: string; targetId: string }>('default', 'mute_expired'),
  /** A poll ended: its author and voters are notified. */
  pollExpiration: job<{ pollId: string; expiresAt: string }>('default', 'poll_expiration'),
  /** An upload stored as is (video, audio, GIF) is processed into what clients play. */
  processMedia: job<{ mediaAttachmentId: string }>('default', 'process_media'),
  /** Stored files whose rows are gone (a deleted account's media, avatar and header). */
  removeMediaFiles: job<{ keys: string[] }>('default', 'remove_media_files'),
  /** A remote attachment's file is fetched into the cache (Mastodon's RedownloadMediaWorker). */
  fetchRemoteMedia: job<{ mediaAttachmentId: string }>('pull', 'fetch_remote_media'),
  /** A remote account's avatar and header are fetched into the cache. */
  fetchRemoteProfileImages: job<{ accountId: string }>('pull', 'fetch_remote_profile_images'),
  /** The e-mail confirmation link; its token is made when the mail is rendered. */
  confirmationInstructions: job<{ userId: string }>('mailers', 'confirmation_instructions'),
  /** The password reset link; its token is made when the mail is rendered. */
  passwordReset: job<{ userId: string }>('mailers', 'password_reset'),
  /** A message rendered by its caller, sent as is. */
  sendMail: job<{ to: string; subject: string; text: string; html?: string }>('mailers', 'send'),
  /** Periodic: publishes the scheduled statuses that are due. */
  scheduledStatuses: job<null>('scheduler', 'scheduled_statuses'),
  /** Periodic: prunes completed jobs of the database queue. */
  housekeeping: job<null>('scheduler', 'housekeeping'),
  /** Periodic, daily: deletes local uploads never attached, a day after their upload. */
  mediaCleanup: job<null>('scheduler', 'media_cleanup'),
  /** Periodic, daily when MEDIA_CACHE_RETENTION_PERIOD is set: drops cached remote files past it. */
  mediaCacheRetention: job<null>('scheduler', 'media_cache_retention'),
} as const;

/** Enqueues a job of one of the types above, with its data type checked. */
export function enqueueJob<Data extends JsonValue>(
  ctx: Pick<Context, 'queue'>,
  type: JobType<Data>,
  data: Data,
  options?: EnqueueOptions,
): Promise<EnqueueResult> {
  return ctx.queue.enqueue(type.queue, type.name, data, options);
}
