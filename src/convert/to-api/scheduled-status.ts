import type { Config } from '../../config/config.ts';
import type { MediaAttachmentRecord } from '../../domain/media/records.ts';
import type { ScheduledStatusRecord } from '../../domain/statuses/scheduled.ts';
import { serializeMediaAttachment } from './media.ts';

/** The ScheduledStatus entity (REST::ScheduledStatusSerializer): the stored creation parameters. */
export function serializeScheduledStatus(
  row: ScheduledStatusRecord,
  config: Config,
  media: readonly MediaAttachmentRecord[],
) {
  return {
    id: row.id,
    scheduled_at: row.scheduledAt.toISOString(),
    params: row.params,
    media_attachments: media.map((m) => serializeMediaAttachment(m, config)),
  };
}
