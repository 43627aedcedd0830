import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { polls, pollVotes } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { notFound, validationFailed } from '../errors.ts';
import { enqueueJob, JOBS } from '../jobs.ts';
import { POLL_LIMITS } from '../limits.ts';
import { notify } from '../notifications/notify.ts';
import type { Validator } from '../validation.ts';
import { blockedEitherWay } from '../visibility/visibility.ts';
import { graphemeLength } from './text.ts';
import { type PollRecord, type PollView, visibleStatus } from './views.ts';

/** A poll as a local author asks for it (POST /api/v1/statuses, PUT …/:id). */
export interface PollParams {
  options: string[];
  /** Seconds; null when absent. */
  expiresIn: number | null;
  multiple: boolean;
  hideTotals: boolean;
}

/** A poll to store, its end already decided (a remote poll brings its own end time). */
export interface NewPoll {
  options: readonly string[];
  multiple: boolean;
  hideTotals: boolean;
  expiresAt: Date;
}

/** A local poll's end, counted from `now`. */
export function newPoll(poll: PollParams, now: Date): NewPoll {
  return {
    options: poll.options,
    multiple: poll.multiple,
    hideTotals: poll.hideTotals,
    expiresAt: new Date(now.getTime() + (poll.expiresIn ?? POLL_LIMITS.minExpiration) * 1000),
  };
}

export function validatePoll(v: Validator, poll: PollParams): void {
  const { options } = poll;
  if (options.length < 2)
    v.add('poll.options', 'Poll options', 'ERR_TOO_SHORT', 'must have more than one item');
  if (options.length > POLL_LIMITS.maxOptions)
    v.add(
      'poll.options',
      'Poll options',
      'ERR_TOO_LONG',
      `can't contain more than ${POLL_LIMITS.maxOptions} items`,
    );
  if (options.some((o) => graphemeLength(o) > POLL_LIMITS.maxCharactersPerOption))
    v.add(
      'poll.options',
      'Poll options',
      'ERR_TOO_LONG',
      `cannot be longer than ${POLL_LIMITS.maxCharactersPerOption} characters each`,
    );
  if (new Set(options).size !== options.length)
    v.add('poll.options', 'Poll options', 'ERR_TAKEN', 'contain duplicate items');
  if (poll.expiresIn === null) v.add('poll.expires_in', 'Poll expires in', 'ERR_BLANK');
  else if (poll.expiresIn > POLL_LIMITS.maxExpiration)
    v.add('poll.expires_in', 'Poll expires in', 'ERR_TOO_LONG', 'is too far into the future');
  else if (poll.expiresIn < POLL_LIMITS.minExpiration)
    v.add('poll.expires_in', 'Poll expires in', 'ERR_TOO_SHORT', 'is too soon');
}

/** Inserts a status's poll (inside the status's transaction); returns its id. */
export async function insertPoll(
  tx: Db,
  accountId: string,
  statusId: string,
  poll: NewPoll,
  now: Date,
): Promise<string> {
  const id = newId(now);
  await tx.insert(polls).values({
    id,
    accountId,
    statusId,
    options: [...poll.options],
    votesPerOption: poll.options.map(() => 0),
    multiple: poll.multiple,
    hideTotals: poll.hideTotals,
    expiresAt: poll.expiresAt,
    createdAt: now,
    updatedAt: now,
  });
  return id;
}

/** Notifies the poll's author and voters when it ends (src/jobs/statuses.ts runs the job). */
export async function schedulePollEnd(ctx: Context, pollId: string): Promise<void> {
  const [poll] = await ctx.database.db
    .select({ expiresAt: polls.expiresAt })
    .from(polls)
    .where(eq(polls.id, pollId));
  if (!poll?.expiresAt) return;
  const delayMs = Math.max(0, poll.expiresAt.getTime() - Date.now());
  await enqueueJob(
    ctx,
    JOBS.pollExpiration,
    { pollId, expiresAt: poll.expiresAt.toISOString() },
    {
      delayMs,
      jobId: `poll-expiration-${pollId}-${poll.expiresAt.getTime()}`,
      attempts: 3,
    },
  );
}

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
    throw validationFailed('The poll has already ended');
  if (unique.some((c) => !Number.isInteger(c) || c < 0 || c >= poll.options.length)) {
    throw validationFailed('The chosen vote option does not exist');
  }
  if (poll.accountId === voter) throw validationFailed('You cannot vote in your own polls');
  if (!poll.multiple && unique.length > 1) throw validationFailed('You have already voted on this poll');
  return ctx.database.transaction(async (tx) => {
    // Serialises votes on this poll, so counters and the single-vote rule hold under concurrency.
    await tx.execute(sql`select id from polls where id = ${poll.id} for update`);
    const previous = await tx
      .select({ choice: pollVotes.choice })
      .from(pollVotes)
      .where(and(eq(pollVotes.pollId, poll.id), eq(pollVotes.accountId, voter)));
    if (previous.length > 0 && (!poll.multiple || previous.some((p) => unique.includes(p.choice)))) {
      throw validationFailed('You have already voted on this poll');
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
