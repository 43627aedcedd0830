import { and, eq } from 'drizzle-orm';
import { newId } from '../../db/ids.ts';
import { accountNotes, accountPins } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { validationFailed } from '../errors.ts';
import { tooLong, ValidationError } from '../validation.ts';
import { ENDORSE_NOT_FOLLOWING_ERROR } from './errors.ts';
import { isFollowing } from './queries.ts';

/** Mastodon's AccountNote::COMMENT_SIZE_LIMIT. */
export const NOTE_MAX_LENGTH = 2_000;

/** Sets the private note about `targetId`; a blank comment removes it. */
export async function setNote(
  ctx: Pick<Context, 'database'>,
  accountId: string,
  targetId: string,
  comment: string,
): Promise<void> {
  const where = and(eq(accountNotes.accountId, accountId), eq(accountNotes.targetAccountId, targetId));
  if (comment.trim() === '') {
    await ctx.database.db.delete(accountNotes).where(where);
    return;
  }
  // Rails counts characters (code points) for a length validation.
  if ([...comment].length > NOTE_MAX_LENGTH) {
    throw ValidationError.of('comment', 'Comment', 'ERR_TOO_LONG', tooLong(NOTE_MAX_LENGTH));
  }
  await ctx.database.db
    .insert(accountNotes)
    .values({ id: newId(), accountId, targetAccountId: targetId, comment })
    .onConflictDoUpdate({ target: [accountNotes.accountId, accountNotes.targetAccountId], set: { comment } });
}

/** Features `targetId` on the profile; only an account one follows can be endorsed. */
export async function endorse(
  ctx: Pick<Context, 'database'>,
  accountId: string,
  targetId: string,
): Promise<void> {
  if (!(await isFollowing(ctx, accountId, targetId))) {
    throw validationFailed(ENDORSE_NOT_FOLLOWING_ERROR);
  }
  await ctx.database.db
    .insert(accountPins)
    .values({ id: newId(), accountId, targetAccountId: targetId })
    .onConflictDoNothing();
}

export async function unendorse(
  ctx: Pick<Context, 'database'>,
  accountId: string,
  targetId: string,
): Promise<void> {
  await ctx.database.db
    .delete(accountPins)
    .where(and(eq(accountPins.accountId, accountId), eq(accountPins.targetAccountId, targetId)));
}
