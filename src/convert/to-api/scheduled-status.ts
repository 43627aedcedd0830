import type { ScheduledStatusRecord } from '../../domain/statuses/scheduled.ts';

/** The ScheduledStatus entity (REST::ScheduledStatusSerializer): the stored creation parameters. */
export function serializeScheduledStatus(row: ScheduledStatusRecord) {
  return {
    id: row.id,
    scheduled_at: row.scheduledAt.toISOString(),
    params: row.params,
    media_attachments: [],
  };
}
