/** The shapes media rows and the API share (db/schema/media.ts, convert/to-api/media.ts). */

// The processor (infra) produces these shapes, and infra cannot import domain, so they live there.
export type { MediaDimensions, MediaMeta, MediaType } from '../../infra/media/types.ts';

export type ProcessingState = 'queued' | 'in_progress' | 'complete' | 'failed';
