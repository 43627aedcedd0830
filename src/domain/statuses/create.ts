import { and, count, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import {
  accountStats,
  accounts,
  mentions,
  polls,
  scheduledStatuses,
  statuses,
  statusTags,
  tags,
  users,
} from '../../db/schema/index.ts';
import { postingLanguage, userPreferences } from '../accounts/profile.ts';
import type { AccountRecord, UserRecord } from '../accounts/records.ts';
import { assertActionAllowed, recordAction } from '../action-limits.ts';
import type { Context } from '../context.ts';
import { isIso6391 } from '../instance/languages.ts';
import { notify } from '../notifications/notify.ts';
import { distributeStatus } from '../timelines/distribution.ts';
import { localStatusUris } from '../uris.ts';
import { Validator } from '../validation.ts';
import { canReply, isStatusVisibility } from '../visibility/visibility.ts';
import { IN_REPLY_NOT_FOUND, RETRY_LATER, StatusError } from './errors.ts';
import {
  countableLength,
  graphemeLength,
  hashtagsOf,
  isLocalDomain,
  MAX_STATUS_CHARS,
  mentionsOf,
  renderStatusHtml,
} from './text.ts';
import { findStatus, type StatusRecord } from './views.ts';

export const MAX_MEDIA_ATTACHMENTS = 4;
export const POLL_MAX_OPTIONS = 4;
export const POLL_MAX_OPTION_CHARS = 50;
export const POLL_MIN_EXPIRATION = 300;
/** One month, as Mastodon's (1.month in seconds). */
export const POLL_MAX_EXPIRATION = 2_629_746;
export const SCHEDULED_MIN_OFFSET_MS = 5 * 60 * 1000;
export const SCHEDULED_TOTAL_LIMIT = 300;
export const SCHEDULED_DAILY_LIMIT = 25;
const IDEMPOTENCY_TTL = 3600;

export type ScheduledStatusRecord = typeof scheduledStatuses.$inferSelect;

export interface PollParams {
  options: string[];
  /** Seconds; null when absent. */
  expiresIn: number | null;
  multiple: boolean;
  hideTotals: boolean;
}

/** A new status as the client asked for it, already parsed from the request. */
export interface StatusParams {
  text: string;
  spoilerText: string;
  /** Null: the user's default. */
  sensitive: boolean | null;
  /** Null: the user's default. Validated here. */
  visibility: string | null;
  /** Null or not ISO 639-1: the user's default. */
  language: string | null;
  inReplyToId: string | null;
  mediaIds: string[];
  poll: PollParams | null;
  /** Ids of the accounts the client expects the status to mention (null: anyone). */
  allowedMentions: string[] | null;
}

export interface Author {
  account: AccountRecord;
  user: UserRecord;
}

export type PostResult =
  | { kind: 'status'; status: StatusRecord }
  | { kind: 'scheduled'; scheduled: ScheduledStatusRecord };

/**
 * Posts a status now, or schedules it when `scheduledAt` is in the future (Mastodon's
 * PostStatusService). With an idempotency key, a repeat within an hour returns what the first
 * request made.
 */
export async function postStatus(
  ctx: Context,
  author: Author,
  params: StatusParams,
  options: { applicationId: string | null; idempotencyKey?: string | null; scheduledAt?: string | null },
): Promise<PostResult> {
  const key = options.idempotencyKey?.trim();
  if (!key) return postUnguarded(ctx, author, params, { ...options, countAction: true });
  const cacheKey = `idempotency:status:${author.account.id}:${key}`;
  const previous = await findIdempotent(ctx, author.account.id, await ctx.cache.get(cacheKey));
  if (previous) return previous;
  const lockKey = `idempotency:lock:status:${author.account.id}:${key}`;
  if (!(await ctx.cache.setIfAbsent(lockKey, '1', 30))) throw new StatusError('unavailable', RETRY_LATER);
  try {
    const again = await findIdempotent(ctx, author.account.id, await ctx.cache.get(cacheKey));
    if (again) return again;
    const result = await postUnguarded(ctx, author, params, { ...options, countAction: true });
    const made = result.kind === 'status' ? `status:${result.status.id}` : `scheduled:${result.scheduled.id}`;
    await ctx.cache.set(cacheKey, made, IDEMPOTENCY_TTL);
    return result;
  } finally {
    await ctx.cache.del(lockKey);
  }
}

async function findIdempotent(
  ctx: Context,
  accountId: string,
  value: string | null,
): Promise<PostResult | undefined> {
  if (value === null) return undefined;
  const [kind, id] = value.split(':');
  if (id === undefined) return undefined;
  if (kind === 'status') {
    const status = await findStatus(ctx, id);
    return status && status.accountId === accountId ? { kind: 'status', status } : undefined;
  }
  const [scheduled] = await ctx.database.db
    .select()
    .from(scheduledStatuses)
    .where(and(eq(scheduledStatuses.id, id), eq(scheduledStatuses.accountId, accountId)));
  return scheduled ? { kind: 'scheduled', scheduled } : undefined;
}

async function postUnguarded(
  ctx: Context,
  author: Author,
  params: StatusParams,
  options: {
    applicationId: string | null;
    scheduledAt?: string | null;
    /** Count it against the author's action limit (API posts; not the scheduler's). */
    countAction?: boolean;
  },
): Promise<PostResult> {
  let scheduledAt: Date | null = null;
  if (options.scheduledAt) {
    scheduledAt = parseScheduledAt(options.scheduledAt);
    // A time already past means "now", as Mastodon's.
    if (scheduledAt.getTime() <= Date.now()) scheduledAt = null;
  }
  const prepared = await prepareStatus(ctx, author, params);
  if (scheduledAt !== null)
    return {
      kind: 'scheduled',
      scheduled: await schedule(ctx, author, params, scheduledAt, options.applicationId),
    };
  if (options.countAction) await assertActionAllowed(ctx, author.account.id, 'statuses');
  const status = await insertStatus(ctx, author, prepared, options.applicationId);
  if (options.countAction) await recordAction(ctx, author.account.id, 'statuses');
  await afterCreate(ctx, status, prepared.mentioned);
  return { kind: 'status', status };
}

export function parseScheduledAt(value: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new StatusError('unprocessable', 'Invalid date supplied');
  return date;
}

export interface PreparedStatus {
  text: string;
  spoilerText: string;
  sensitive: boolean;
  visibility: string;
  language: string | null;
  thread: StatusRecord | null;
  mentioned: AccountRecord[];
  hashtags: { name: string; displayName: string }[];
  poll: PollParams | null;
  content: string;
}

/** Validates a new status and resolves what it refers to; throws before anything is written. */
export async function prepareStatus(
  ctx: Context,
  author: Author,
  params: StatusParams,
): Promise<PreparedStatus> {
  checkMedia(params.mediaIds);
  const prefs = userPreferences(author.user, author.account);
  let text = params.text.trim();
  let spoilerText = params.spoilerText.trim();
  // A content warning alone becomes the text (Mastodon's composer lets one post just a CW).
  if (text === '' && spoilerText !== '') {
    text = spoilerText;
    spoilerText = '';
  }
  const sensitive =
    (params.sensitive ?? prefs.defaultSensitive) || spoilerText !== '' || params.spoilerText.trim() !== '';
  const visibility = params.visibility ?? prefs.defaultPrivacy;
  const v = new Validator();
  if (!isStatusVisibility(visibility)) v.add('visibility', 'Visibility', 'ERR_INCLUSION');
  if (text === '') v.add('text', 'Text', 'ERR_BLANK');
  else if (countableLength(text, spoilerText) > MAX_STATUS_CHARS)
    v.add('text', 'Text', 'ERR_TOO_LONG', `character limit of ${MAX_STATUS_CHARS} exceeded`);
  if (params.poll) validatePoll(v, params.poll);
  v.check();

  let thread: StatusRecord | null = null;
  if (params.inReplyToId !== null) {
    let found = await findStatus(ctx, params.inReplyToId);
    if (found?.reblogOfId) found = await findStatus(ctx, found.reblogOfId);
    if (found === undefined || !(await canReply(ctx, author.account.id, found))) {
      throw new StatusError('not_found', IN_REPLY_NOT_FOUND);
    }
    thread = found;
  }

  const mentioned = await resolveMentions(ctx, text);
  if (params.allowedMentions !== null) {
    const allowed = new Set(params.allowedMentions);
    const unexpected = mentioned.filter((a) => !allowed.has(a.id));
    if (unexpected.length > 0) {
      throw new StatusError('unprocessable', 'Post would be sent to unexpected accounts', {
        unexpectedAccountIds: unexpected.map((a) => a.id),
      });
    }
  }
  const language =
    params.language !== null && isIso6391(params.language.toLowerCase())
      ? params.language.toLowerCase()
      : postingLanguage(author.user, author.account, ctx.config.defaultLocale);
  return {
    text,
    spoilerText,
    sensitive,
    visibility,
    language,
    thread,
    mentioned,
    hashtags: hashtagsOf(text),
    poll: params.poll,
    content: renderStatusHtml(text, ctx.config, mentioned),
  };
}

/** Media arrive with a later issue: any id names no attachment of this user (Mastodon's 422). */
function checkMedia(mediaIds: string[]): void {
  if (mediaIds.length > MAX_MEDIA_ATTACHMENTS)
    throw new StatusError('unprocessable', 'Cannot attach more than 4 files');
  if (mediaIds.length > 0) {
    throw new StatusError(
      'unprocessable',
      `Media ${mediaIds.join(', ')} not found or already attached to another post`,
    );
  }
}

export function validatePoll(v: Validator, poll: PollParams): void {
  const { options } = poll;
  if (options.length < 2)
    v.add('poll.options', 'Poll options', 'ERR_TOO_SHORT', 'must have more than one item');
  if (options.length > POLL_MAX_OPTIONS)
    v.add(
      'poll.options',
      'Poll options',
      'ERR_TOO_LONG',
      `can't contain more than ${POLL_MAX_OPTIONS} items`,
    );
  if (options.some((o) => graphemeLength(o) > POLL_MAX_OPTION_CHARS))
    v.add(
      'poll.options',
      'Poll options',
      'ERR_TOO_LONG',
      `cannot be longer than ${POLL_MAX_OPTION_CHARS} characters each`,
    );
  if (new Set(options).size !== options.length)
    v.add('poll.options', 'Poll options', 'ERR_TAKEN', 'contain duplicate items');
  if (poll.expiresIn === null) v.add('poll.expires_in', 'Poll expires in', 'ERR_BLANK');
  else if (poll.expiresIn > POLL_MAX_EXPIRATION)
    v.add('poll.expires_in', 'Poll expires in', 'ERR_TOO_LONG', 'is too far into the future');
  else if (poll.expiresIn < POLL_MIN_EXPIRATION)
    v.add('poll.expires_in', 'Poll expires in', 'ERR_TOO_SHORT', 'is too soon');
}

/**
 * The local accounts a text mentions (`@user`, `@user@this.domain`), confirmed and not suspended;
 * remote mentions wait for federation, unknown ones stay text.
 */
export async function resolveMentions(
  ctx: Pick<Context, 'database' | 'config'>,
  text: string,
): Promise<AccountRecord[]> {
  const names = mentionsOf(text)
    .filter((m) => isLocalDomain(m.domain, ctx.config))
    .map((m) => m.username.toLowerCase());
  if (names.length === 0) return [];
  const rows = await ctx.database.db
    .select({ account: accounts })
    .from(accounts)
    .innerJoin(users, eq(users.accountId, accounts.id))
    .where(
      and(
        isNull(accounts.domain),
        isNull(accounts.suspendedAt),
        sql`lower(${accounts.username}) in ${[...new Set(names)]}`,
        sql`${users.confirmedAt} is not null`,
        eq(users.approved, true),
      ),
    );
  // In the order they appear in the text.
  const byName = new Map(rows.map((r) => [r.account.username.toLowerCase(), r.account]));
  return [...new Set(names)].flatMap((n) => {
    const a = byName.get(n);
    return a ? [a] : [];
  });
}

async function insertStatus(
  ctx: Context,
  author: Author,
  p: PreparedStatus,
  applicationId: string | null,
): Promise<StatusRecord> {
  const now = new Date();
  const id = newId(now);
  return ctx.database.transaction(async (tx) => {
    let pollId: string | null = null;
    if (p.poll) pollId = await insertPoll(tx, author.account.id, id, p.poll, now);
    const thread = p.thread;
    const [status] = await tx
      .insert(statuses)
      .values({
        id,
        accountId: author.account.id,
        ...localStatusUris(ctx.config, author.account.username, id),
        text: p.text,
        content: p.content,
        spoilerText: p.spoilerText,
        visibility: p.visibility,
        sensitive: p.sensitive,
        language: p.language,
        inReplyToId: thread?.id ?? null,
        inReplyToAccountId: thread ? carriedReplyToAccount(thread, author.account.id) : null,
        conversationId: thread ? (thread.conversationId ?? thread.id) : id,
        applicationId,
        local: true,
        pollId,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await writeMentions(tx, id, p.mentioned, []);
    await writeTags(tx, id, p.hashtags);
    await bumpCounters(tx, status!, 1);
    return status!;
  });
}

/** A self-reply in a thread replies, as far as others see, to whom the thread replied. */
function carriedReplyToAccount(thread: StatusRecord, authorId: string): string {
  if (thread.accountId === authorId && thread.inReplyToAccountId !== null) return thread.inReplyToAccountId;
  return thread.accountId;
}

export async function insertPoll(
  tx: Db,
  accountId: string,
  statusId: string,
  poll: PollParams,
  now: Date,
): Promise<string> {
  const id = newId(now);
  await tx.insert(polls).values({
    id,
    accountId,
    statusId,
    options: poll.options,
    votesPerOption: poll.options.map(() => 0),
    multiple: poll.multiple,
    hideTotals: poll.hideTotals,
    expiresAt: new Date(now.getTime() + (poll.expiresIn ?? POLL_MIN_EXPIRATION) * 1000),
    createdAt: now,
    updatedAt: now,
  });
  return id;
}

/** Replaces a status's mentions; `silentFor` lists accounts mentioned before (no new notification). */
export async function writeMentions(
  tx: Db,
  statusId: string,
  mentioned: readonly AccountRecord[],
  _silentFor: readonly string[],
) {
  await tx.delete(mentions).where(eq(mentions.statusId, statusId));
  if (mentioned.length === 0) return;
  await tx.insert(mentions).values(mentioned.map((a) => ({ id: newId(), statusId, accountId: a.id })));
}

/** Records hashtags by normalised name (the first spelling becomes the display name). */
export async function writeTags(
  tx: Db,
  statusId: string,
  hashtags: readonly { name: string; displayName: string }[],
) {
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
 * count nowhere; a reblog counts on its original; a public or unlisted reply on its parent.
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
  if (status.inReplyToId !== null && (status.visibility === 'public' || status.visibility === 'unlisted')) {
    await tx
      .update(statuses)
      .set({ repliesCount: sql`greatest(${statuses.repliesCount} + ${delta}, 0)` })
      .where(eq(statuses.id, status.inReplyToId));
  }
}

/** After the commit: home feeds (through the queue), mention notifications, the poll's end. */
async function afterCreate(
  ctx: Context,
  status: StatusRecord,
  mentioned: readonly AccountRecord[],
): Promise<void> {
  await distributeStatus(ctx, status.id);
  for (const account of mentioned) {
    if (account.id === status.accountId) continue;
    await notify(ctx, {
      type: 'mention',
      recipientAccountId: account.id,
      fromAccountId: status.accountId,
      statusId: status.id,
    });
  }
  if (status.pollId !== null) await schedulePollEnd(ctx, status.pollId);
}

export const POLL_EXPIRATION_JOB = 'poll_expiration';

/** Notifies the poll's author and voters when it ends (src/jobs/statuses.ts runs the job). */
export async function schedulePollEnd(ctx: Context, pollId: string): Promise<void> {
  const [poll] = await ctx.database.db
    .select({ expiresAt: polls.expiresAt })
    .from(polls)
    .where(eq(polls.id, pollId));
  if (!poll?.expiresAt) return;
  const delayMs = Math.max(0, poll.expiresAt.getTime() - Date.now());
  await ctx.queue.enqueue(
    'default',
    POLL_EXPIRATION_JOB,
    { pollId, expiresAt: poll.expiresAt.toISOString() },
    {
      delayMs,
      jobId: `poll-expiration-${pollId}-${poll.expiresAt.getTime()}`,
      attempts: 3,
    },
  );
}

/** The stored parameters of a scheduled status, in Mastodon's ScheduledStatus `params` shape. */
export function scheduledParams(params: StatusParams, applicationId: string | null) {
  return {
    text: params.text,
    poll: params.poll
      ? {
          options: params.poll.options,
          expires_in: params.poll.expiresIn,
          multiple: params.poll.multiple,
          hide_totals: params.poll.hideTotals,
        }
      : null,
    media_ids: params.mediaIds.length > 0 ? params.mediaIds : null,
    sensitive: params.sensitive,
    spoiler_text: params.spoilerText,
    visibility: params.visibility,
    language: params.language,
    in_reply_to_id: params.inReplyToId,
    allowed_mentions: params.allowedMentions,
    application_id: applicationId,
    scheduled_at: null,
    idempotency: null,
    with_rate_limit: false,
  };
}

/** Reads stored scheduled parameters back (written by scheduledParams). */
export function paramsFromScheduled(stored: unknown): { params: StatusParams; applicationId: string | null } {
  const p = (stored ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const poll = p.poll as Record<string, unknown> | null | undefined;
  return {
    params: {
      text: str(p.text) ?? '',
      spoilerText: str(p.spoiler_text) ?? '',
      sensitive: typeof p.sensitive === 'boolean' ? p.sensitive : null,
      visibility: str(p.visibility),
      language: str(p.language),
      inReplyToId: str(p.in_reply_to_id),
      mediaIds: Array.isArray(p.media_ids)
        ? p.media_ids.filter((x): x is string => typeof x === 'string')
        : [],
      poll: poll
        ? {
            options: Array.isArray(poll.options)
              ? poll.options.filter((x): x is string => typeof x === 'string')
              : [],
            expiresIn: typeof poll.expires_in === 'number' ? poll.expires_in : null,
            multiple: poll.multiple === true,
            hideTotals: poll.hide_totals === true,
          }
        : null,
      allowedMentions: Array.isArray(p.allowed_mentions)
        ? p.allowed_mentions.filter((x): x is string => typeof x === 'string')
        : null,
    },
    applicationId: str(p.application_id),
  };
}

async function schedule(
  ctx: Context,
  author: Author,
  params: StatusParams,
  scheduledAt: Date,
  applicationId: string | null,
): Promise<ScheduledStatusRecord> {
  await checkScheduleLimits(ctx, author.account.id, scheduledAt, null);
  const [row] = await ctx.database.db
    .insert(scheduledStatuses)
    .values({
      id: newId(),
      accountId: author.account.id,
      scheduledAt,
      params: scheduledParams(params, applicationId),
    })
    .returning();
  return row!;
}

/** Mastodon's ScheduledStatus rules: at least five minutes ahead, 300 in all, 25 per day. */
export async function checkScheduleLimits(
  ctx: Context,
  accountId: string,
  at: Date,
  excludeId: string | null,
): Promise<void> {
  const v = new Validator();
  if (at.getTime() <= Date.now() + SCHEDULED_MIN_OFFSET_MS)
    v.add('scheduled_at', 'Scheduled at', 'ERR_INVALID', 'date must be in the future');
  v.check();
  const others = and(
    eq(scheduledStatuses.accountId, accountId),
    excludeId ? sql`${scheduledStatuses.id} <> ${excludeId}` : undefined,
  );
  const [total] = await ctx.database.db.select({ n: count() }).from(scheduledStatuses).where(others);
  if ((total?.n ?? 0) >= SCHEDULED_TOTAL_LIMIT)
    throw new StatusError(
      'unprocessable',
      `Validation failed: You have exceeded the limit of ${SCHEDULED_TOTAL_LIMIT} scheduled posts`,
    );
  const [daily] = await ctx.database.db
    .select({ n: count() })
    .from(scheduledStatuses)
    .where(
      and(
        others,
        sql`(${scheduledStatuses.scheduledAt} at time zone 'UTC')::date = (${at.toISOString()}::timestamptz at time zone 'UTC')::date`,
      ),
    );
  if ((daily?.n ?? 0) >= SCHEDULED_DAILY_LIMIT)
    throw new StatusError(
      'unprocessable',
      `Validation failed: You have exceeded the limit of ${SCHEDULED_DAILY_LIMIT} scheduled posts for today`,
    );
}

/**
 * Publishes a due scheduled status as its author would have posted it then; the row is removed
 * either way (a status that became invalid, e.g. its reply target was deleted, is dropped, as
 * Mastodon's PublishScheduledStatusWorker).
 */
export async function publishScheduledStatus(
  ctx: Context,
  scheduledId: string,
): Promise<StatusRecord | null> {
  const [row] = await ctx.database.db
    .delete(scheduledStatuses)
    .where(eq(scheduledStatuses.id, scheduledId))
    .returning();
  if (row === undefined) return null;
  const [owner] = await ctx.database.db
    .select({ account: accounts, user: users })
    .from(accounts)
    .innerJoin(users, eq(users.accountId, accounts.id))
    .where(eq(accounts.id, row.accountId));
  if (owner === undefined || owner.account.suspendedAt !== null || owner.user.disabled) return null;
  const { params, applicationId } = paramsFromScheduled(row.params);
  try {
    const result = await postUnguarded(ctx, owner, params, { applicationId });
    return result.kind === 'status' ? result.status : null;
  } catch (error) {
    if (error instanceof StatusError || (error as Error).name === 'ValidationError') {
      ctx.log.info({ scheduledId, err: (error as Error).message }, 'scheduled status dropped');
      return null;
    }
    throw error;
  }
}

/** Scheduled statuses due now, oldest first. */
export async function dueScheduledStatusIds(ctx: Context, limit = 100): Promise<string[]> {
  const rows = await ctx.database.db
    .select({ id: scheduledStatuses.id })
    .from(scheduledStatuses)
    .where(sql`${scheduledStatuses.scheduledAt} <= now()`)
    .orderBy(scheduledStatuses.scheduledAt)
    .limit(limit);
  return rows.map((r) => r.id);
}
