import { and, eq, sql } from 'drizzle-orm';
import { newId } from '../../db/ids.ts';
import { polls, pollVotes } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { notify } from '../notifications/notify.ts';
import { blockedEitherWay } from '../visibility/visibility.ts';
import { visibleStatus } from './actions.ts';
import { notFound, StatusError } from './errors.ts';
import type { PollRecord, PollView } from './views.ts';

const invalid = (message: string) => new StatusError('unprocessable', `Validation failed: ${message}`);

/** A poll whose status the viewer sees, and that status's id; else 404. */
export async function visiblePoll(
  ctx: Context,
  viewer: string | null,
  id: string,
): Promise<{ poll: PollRecord; statusId: string }> {
  if (!/^\d{1,19}$/.test(id)) throw notFound();
  const [poll] = await ctx.database.db.select().from(polls).where(eq(polls.id, id));
  if (poll?.statusId == null) throw notFound();
  const status = await visibleStatus(ctx, viewer, poll.statusId);
  return { poll, statusId: status.id };
}

/**
 * Votes (Mastodon's VoteService + VoteValidator): not in one's own poll, not after it ended, only
 * existing choices, one vote in a single-choice poll, each choice once in a multiple-choice one.
 */
export async function vote(
  ctx: Context,
  voter: string,
  pollId: string,
  choices: readonly number[],
): Promise<PollRecord> {
  const { poll } = await visiblePoll(ctx, voter, pollId);
  if (await blockedEitherWay(ctx, voter, poll.accountId)) throw notFound();
  if (choices.length === 0) return poll;
  const unique = [...new Set(choices)];
  if (poll.expiresAt !== null && poll.expiresAt.getTime() <= Date.now())
    throw invalid('The poll has already ended');
  if (unique.some((c) => !Number.isInteger(c) || c < 0 || c >= poll.options.length)) {
    throw invalid('The chosen vote option does not exist');
  }
  if (poll.accountId === voter) throw invalid('You cannot vote in your own polls');
  if (!poll.multiple && unique.length > 1) throw invalid('You have already voted on this poll');
  return ctx.database.transaction(async (tx) => {
    // Serialises votes on this poll, so counters and the single-vote rule hold under concurrency.
    await tx.execute(sql`select id from polls where id = ${poll.id} for update`);
    const previous = await tx
      .select({ choice: pollVotes.choice })
      .from(pollVotes)
      .where(and(eq(pollVotes.pollId, poll.id), eq(pollVotes.accountId, voter)));
    if (previous.length > 0 && (!poll.multiple || previous.some((p) => unique.includes(p.choice)))) {
      throw invalid('You have already voted on this poll');
    }
    await tx
      .insert(pollVotes)
      .values(unique.map((choice) => ({ id: newId(), pollId: poll.id, accountId: voter, choice })));
    const [current] = await tx.select().from(polls).where(eq(polls.id, poll.id));
    const perOption = [...current!.votesPerOption];
    for (const c of unique) perOption[c] = (perOption[c] ?? 0) + 1;
    const [updated] = await tx
      .update(polls)
      .set({
        votesPerOption: perOption,
        votesCount: sql`${polls.votesCount} + ${unique.length}`,
        votersCount: previous.length === 0 ? sql`${polls.votersCount} + 1` : polls.votersCount,
        updatedAt: new Date(),
      })
      .where(eq(polls.id, poll.id))
      .returning();
    return updated!;
  });
}

/**
 * The `poll_expiration` job: when a poll ends, its author and every local voter get a `poll`
 * notification. A poll edited since (another end time) or deleted is skipped.
 */
export async function notifyPollEnded(
  ctx: Context,
  pollId: string,
  expiresAt: string | undefined,
): Promise<void> {
  const [poll] = await ctx.database.db.select().from(polls).where(eq(polls.id, pollId));
  if (poll?.statusId == null || poll.expiresAt === null) return;
  if (expiresAt !== undefined && poll.expiresAt.toISOString() !== expiresAt) return;
  if (poll.expiresAt.getTime() > Date.now()) return;
  const voters = await ctx.database.db
    .selectDistinct({ accountId: pollVotes.accountId })
    .from(pollVotes)
    .where(eq(pollVotes.pollId, poll.id));
  const recipients = [poll.accountId, ...voters.map((v) => v.accountId).filter((a) => a !== poll.accountId)];
  for (const recipient of recipients) {
    await notify(ctx, {
      type: 'poll',
      recipientAccountId: recipient,
      fromAccountId: poll.accountId,
      statusId: poll.statusId,
    });
  }
}

/** A poll as one viewer sees it (their own votes). */
export async function pollView(ctx: Context, viewer: string | null, poll: PollRecord): Promise<PollView> {
  if (viewer === null) return { poll, ownVotes: null, own: false };
  const rows = await ctx.database.db
    .select({ choice: pollVotes.choice })
    .from(pollVotes)
    .where(and(eq(pollVotes.pollId, poll.id), eq(pollVotes.accountId, viewer)))
    .orderBy(pollVotes.choice);
  return { poll, ownVotes: rows.map((r) => r.choice), own: poll.accountId === viewer };
}
