import { eq } from 'drizzle-orm';
import { mediaAttachments, statuses } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { isPubliclyVisible } from '../visibility/visibility.ts';

/**
 * The stored file behind a local attachment's `/media/:shortcode` link, when anyone may see it:
 * attached to a public or unlisted status (an upload not yet posted, or a private post's, is not
 * shown to whoever guesses the link).
 */
export async function mediaByShortcode(
  ctx: Pick<Context, 'database'>,
  shortcode: string,
): Promise<string | undefined> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(shortcode)) return undefined;
  const [row] = await ctx.database.db
    .select({ fileKey: mediaAttachments.fileKey, visibility: statuses.visibility })
    .from(mediaAttachments)
    .innerJoin(statuses, eq(statuses.id, mediaAttachments.statusId))
    .where(eq(mediaAttachments.shortcode, shortcode));
  if (row === undefined || row.fileKey === null || !isPubliclyVisible(row.visibility)) return undefined;
  return row.fileKey;
}
