import { and, count, eq, sql } from 'drizzle-orm';
import { newId } from '../../db/ids.ts';
import type { Page } from '../../db/page.ts';
import { paginate } from '../../db/page.ts';
import { accounts, scheduledStatuses, users } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { DomainError, isDomainError, notFound } from '../errors.ts';
import { SCHEDULED_STATUS_LIMITS } from '../limits.ts';
import { reserveMediaForScheduled } from '../media/attach.ts';
import { Validator } from '../validation.ts';
import { type Author, prepareStatus, publishPrepared, type StatusParams } from './compose.ts';
import type { StatusRecord } from './views.ts';

/**
 * Scheduled statuses (Mastodon's ScheduledStatus): stored as the parameters of the post, published
 * by the scheduler when due as the author would have posted them then.
 */

export type ScheduledStatusRecord = typeof scheduledStatuses.$inferSelect;

export function parseScheduledAt(value: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new DomainError('unprocessable', 'Invalid date supplied');
  return date;
}

/** Stores a post for later (the request was validated as if posted now). */
export async function scheduleStatus(
  ctx: Context,
  author: Author,
  params: StatusParams,
  scheduledAt: Date,
  applicationId: string | null,
): Promise<ScheduledStatusRecord> {
  await checkScheduleLimits(ctx, author.account.id, scheduledAt, null);
  return ctx.database.transaction(async (tx) => {
    const [row] = await tx
      .insert(scheduledStatuses)
      .values({
        id: newId(),
        accountId: author.account.id,
        scheduledAt,
        params: scheduledParams(params, applicationId),
      })
      .returning();
    // The uploads wait with it (and are not unattached leftovers for housekeeping meanwhile).
    await reserveMediaForScheduled(tx, row!.id, author.account.id, params.mediaIds);
    return row!;
  });
}

/** Mastodon's ScheduledStatus rules: at least five minutes ahead, 300 in all, 25 per day. */
export async function checkScheduleLimits(
  ctx: Context,
  accountId: string,
  at: Date,
  excludeId: string | null,
): Promise<void> {
  const { minOffsetMs, total: totalLimit, daily: dailyLimit } = SCHEDULED_STATUS_LIMITS;
  const v = new Validator();
  if (at.getTime() <= Date.now() + minOffsetMs)
    v.add('scheduled_at', 'Scheduled at', 'ERR_INVALID', 'date must be in the future');
  v.check();
  const others = and(
    eq(scheduledStatuses.accountId, accountId),
    excludeId ? sql`${scheduledStatuses.id} <> ${excludeId}` : undefined,
  );
  const [total] = await ctx.database.db.select({ n: count() }).from(scheduledStatuses).where(others);
  if ((total?.n ?? 0) >= totalLimit)
    throw new DomainError(
      'unprocessable',
      `Validation failed: You have exceeded the limit of ${totalLimit} scheduled posts`,
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
  if ((daily?.n ?? 0) >= dailyLimit)
    throw new DomainError(
      'unprocessable',
      `Validation failed: You have exceeded the limit of ${dailyLimit} scheduled posts for today`,
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

/**
 * Publishes a due scheduled status as its author would have posted it then; the row is removed
 * either way (a status that became invalid, e.g. its reply target was deleted, is dropped, as
 * Mastodon's PublishScheduledStatusWorker). It does not count against the action limit.
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
    const prepared = await prepareStatus(ctx, owner, params);
    return await publishPrepared(ctx, owner, prepared, { applicationId });
  } catch (error) {
    // A post that is no longer valid (its reply gone, a limit reached) is dropped, as Mastodon's
    // PublishScheduledStatusWorker drops it; anything else is retried with the job.
    if (isDomainError(error, 'not_found', 'forbidden', 'unprocessable')) {
      ctx.log.info({ scheduledId, err: error.message }, 'scheduled status dropped');
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

/** The account's scheduled statuses, newest id first. */
export async function listScheduledStatuses(
  ctx: Context,
  accountId: string,
  page: Page,
): Promise<ScheduledStatusRecord[]> {
  return paginate(page, scheduledStatuses.id, (where, orderBy, limit) =>
    ctx.database.db
      .select()
      .from(scheduledStatuses)
      .where(and(eq(scheduledStatuses.accountId, accountId), where))
      .orderBy(orderBy)
      .limit(limit),
  );
}

export async function getScheduledStatus(
  ctx: Context,
  accountId: string,
  id: string,
): Promise<ScheduledStatusRecord> {
  if (!/^\d{1,19}$/.test(id)) throw notFound();
  const [row] = await ctx.database.db
    .select()
    .from(scheduledStatuses)
    .where(and(eq(scheduledStatuses.id, id), eq(scheduledStatuses.accountId, accountId)));
  if (row === undefined) throw notFound();
  return row;
}

/** Moves a scheduled status to another time (the same rules as scheduling it). */
export async function rescheduleStatus(
  ctx: Context,
  accountId: string,
  id: string,
  scheduledAt: string | null,
): Promise<ScheduledStatusRecord> {
  const row = await getScheduledStatus(ctx, accountId, id);
  if (!scheduledAt) return row;
  const at = parseScheduledAt(scheduledAt);
  await checkScheduleLimits(ctx, accountId, at, row.id);
  const [updated] = await ctx.database.db
    .update(scheduledStatuses)
    .set({ scheduledAt: at })
    .where(eq(scheduledStatuses.id, row.id))
    .returning();
  return updated ?? row;
}

export async function cancelScheduledStatus(ctx: Context, accountId: string, id: string): Promise<void> {
  const row = await getScheduledStatus(ctx, accountId, id);
  await ctx.database.db.delete(scheduledStatuses).where(eq(scheduledStatuses.id, row.id));
}
