import type { mediaAttachments } from '../../db/schema/index.ts';

export type MediaAttachmentRecord = typeof mediaAttachments.$inferSelect;
