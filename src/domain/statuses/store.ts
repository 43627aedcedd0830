import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { accountStats, mentions, statuses, statusTags, tags } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { enqueueJob, JOBS } from '../jobs.ts';
import { attachMedia } from '../media/attach.ts';
import { notify } from '../notifications/notify.ts';
import { isPubliclyVisible } from '../visibility/visibility.ts';
import { insertPoll, type NewPoll, schedulePollEnd } from './polls.ts';
import type { StatusRecord } from './views.ts';

/**
 * The one way a status comes to exist, whoever wrote it: `storeStatus` writes it, `afterStore`
 * lets the rest of the server know. Both take what is already decided — the HTML, the resolved
 * mentions and tags, the id and URIs — so a local post (compose.ts renders its text first), a
 * scheduled post, a boost, and a remote status arriving by federation all go through them.
 */

/** A status ready to be written. */
export interface NewStatus {
  /** Minted by the caller: a local status's URIs are built from it. */
  id: string;
  accountId: string;
  uri: string;
  url: string | null;
  local: boolean;
  /** The source text (local statuses; remote ones have none). */
  text: string;
  /** The HTML clients get: rendered from `text` (local) or sanitised (remote). */
  content: string;
  spoilerText: string;
  visibility: string;
  sensitive: boolean;
  language: string | null;
  inReplyToId: string | null;
  inReplyToAccountId: string | null;
  /** The thread's root (a new thread: its own id); null for a boost. */
  conversationId: string | null;
  reblogOfId: string | null;
  applicationId: string | null;
  /** The mentioned accounts, resolved, in the order mentioned. */
  mentionedAccountIds: readonly string[];
  /** Hashtags by normalised name, with the spelling first used. */
  tags: readonly { name: string; displayName: string }[];
  poll: NewPoll | null;
  /** Attachments already stored unattached (local uploads, or a remote status's files), in order. */
  mediaAttachmentIds?: readonly string[];
  createdAt: Date;
}

/** Writes a status with its mentions, tags and poll, and moves the counters, in one transaction. */
export async function storeStatus(ctx: Pick<Context, 'database'>, s: NewStatus): Promise<StatusRecord> {
  return ctx.database.transaction(async (tx) => {
    const pollId = s.poll ? await insertPoll(tx, s.accountId, s.id, s.poll, s.createdAt) : null;
    const [status] = await tx
      .insert(statuses)
      .values({
        id: s.id,
        accountId: s.accountId,
        uri: s.uri,
        url: s.url,
        text: s.text,
        content: s.content,
        spoilerText: s.spoilerText,
        visibility: s.visibility,
        sensitive: s.sensitive,
        language: s.language,
        inReplyToId: s.inReplyToId,
        inReplyToAccountId: s.inReplyToAccountId,
        conversationId: s.conversationId,
        reblogOfId: s.reblogOfId,
        applicationId: s.applicationId,
        local: s.local,
        pollId,
        orderedMediaAttachmentIds: s.mediaAttachmentIds?.length ? [...s.mediaAttachmentIds] : null,
        createdAt: s.createdAt,
        updatedAt: s.createdAt,
      })
      .returning();
    if (s.reblogOfId === null) {
      await attachMedia(tx, s.id, s.accountId, s.mediaAttachmentIds ?? []);
      await writeMentions(tx, s.id, s.mentionedAccountIds);
      await writeTags(tx, s.id, s.tags);
    }
    await bumpCounters(tx, status!, 1);
    return status!;
  });
}

/**
 * After the commit: the fan-out to home feeds and streams (a queued job), the notifications of
 * the mentioned accounts or of the boosted status's author, the poll's end.
 */
export async function afterStore(
  ctx: Context,
  status: StatusRecord,
  related: { mentionedAccountIds: readonly string[]; reblogged?: StatusRecord },
): Promise<void> {
  await distributeStatus(ctx, status.id);
  if (related.reblogged !== undefined) {
    await notify(ctx, {
      type: 'reblog',
      recipientAccountId: related.reblogged.accountId,
      fromAccountId: status.accountId,
      statusId: related.reblogged.id,
    });
  }
  for (const accountId of related.mentionedAccountIds) {
    if (accountId === status.accountId) continue;
    await notify(ctx, {
      type: 'mention',
      recipientAccountId: accountId,
      fromAccountId: status.accountId,
      statusId: status.id,
    });
  }
  if (status.pollId !== null) await schedulePollEnd(ctx, status.pollId);
}

/*
 * The fan-out jobs are enqueued here, by their names in src/domain/jobs.ts, and run by
 * src/domain/timelines/distribution.ts, so that statuses never imports timelines: timelines reads
 * statuses (views, hashtags) to build its pages, and a status only needs to say that it exists.
 */

/** Queues the fan-out of a status; one job per status (a repeat while it waits adds nothing). */
export async function distributeStatus(ctx: Pick<Context, 'queue'>, statusId: string): Promise<void> {
  await enqueueJob(ctx, JOBS.distribute, { statusId }, { jobId: `distribute-${statusId}`, attempts: 5 });
}

/**
 * Queues the streaming of an edit (`status.update`), as Mastodon re-runs its fan-out with
 * `update: true` in a job: finding and rendering for thousands of homes does not hold up the edit.
 * One job per edit, so a later edit is never swallowed by an earlier one's job id.
 */
export async function distributeStatusUpdate(ctx: Pick<Context, 'queue'>, statusId: string): Promise<void> {
  await enqueueJob(
    ctx,
    JOBS.distributeUpdate,
    { statusId },
    { jobId: `distribute-update-${statusId}-${Date.now()}`, attempts: 3 },
  );
}

/** Replaces a status's mentions. */
export async function writeMentions(tx: Db, statusId: string, accountIds: readonly string[]): Promise<void> {
  await tx.delete(mentions).where(eq(mentions.statusId, statusId));
  if (accountIds.length === 0) return;
  await tx.insert(mentions).values(accountIds.map((accountId) => ({ id: newId(), statusId, accountId })));
}

/** Records hashtags by normalised name (the first spelling becomes the display name). */
export async function writeTags(
  tx: Db,
  statusId: string,
  hashtags: readonly { name: string; displayName: string }[],
): Promise<void> {
  await tx.delete(statusTags).where(eq(statusTags.statusId, statusId));
  if (hashtags.length === 0) return;
  await tx
    .insert(tags)
    .values(hashtags.map((h) => ({ id: newId(), name: h.name, displayName: h.displayName })))
    .onConflictDoNothing({ target: tags.name });
  const rows = await tx
    .select({ id: tags.id })
    .from(tags)
    .where(
      inArray(
        tags.name,
        hashtags.map((h) => h.name),
      ),
    );
  await tx
    .insert(statusTags)
    .values(rows.map((r) => ({ statusId, tagId: r.id })))
    .onConflictDoNothing();
}

/**
 * Counters moved with a status's creation (+1) or deletion (−1), as Mastodon's: direct statuses
 * count nowhere; a reblog counts on its original; a publicly visible reply on its parent.
 */
export async function bumpCounters(tx: Db, status: StatusRecord, delta: 1 | -1): Promise<void> {
  if (status.visibility === 'direct') return;
  const start = Math.max(delta, 0);
  await tx
    .insert(accountStats)
    .values({
      accountId: status.accountId,
      statusesCount: start,
      lastStatusAt: delta > 0 ? status.createdAt : null,
    })
    .onConflictDoUpdate({
      target: accountStats.accountId,
      set:
        delta > 0
          ? { statusesCount: sql`account_stats.statuses_count + 1`, lastStatusAt: status.createdAt }
          : { statusesCount: sql`greatest(account_stats.statuses_count - 1, 0)` },
    });
  if (status.reblogOfId !== null) {
    await tx
      .update(statuses)
      .set({ reblogsCount: sql`greatest(${statuses.reblogsCount} + ${delta}, 0)` })
      .where(eq(statuses.id, status.reblogOfId));
  }
  if (status.inReplyToId !== null && isPubliclyVisible(status.visibility)) {
    await tx
      .update(statuses)
      .set({ repliesCount: sql`greatest(${statuses.repliesCount} + ${delta}, 0)` })
      .where(eq(statuses.id, status.inReplyToId));
  }
}
