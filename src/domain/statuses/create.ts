import { and, eq } from 'drizzle-orm';
import { scheduledStatuses } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { DomainError } from '../errors.ts';
import { type Author, prepareStatus, publishPrepared, type StatusParams } from './compose.ts';
import { RETRY_LATER } from './messages.ts';
import { parseScheduledAt, type ScheduledStatusRecord, scheduleStatus } from './scheduled.ts';
import { findStatus, type StatusRecord } from './views.ts';

const IDEMPOTENCY_TTL = 3600;

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
  if (!key) return postUnguarded(ctx, author, params, options);
  const cacheKey = `idempotency:status:${author.account.id}:${key}`;
  const previous = await findIdempotent(ctx, author.account.id, await ctx.cache.get(cacheKey));
  if (previous) return previous;
  const lockKey = `idempotency:lock:status:${author.account.id}:${key}`;
  if (!(await ctx.cache.setIfAbsent(lockKey, '1', 30))) throw new DomainError('unavailable', RETRY_LATER);
  try {
    const again = await findIdempotent(ctx, author.account.id, await ctx.cache.get(cacheKey));
    if (again) return again;
    const result = await postUnguarded(ctx, author, params, options);
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

/** Validates, then schedules or publishes; an API post counts against the author's action limit. */
async function postUnguarded(
  ctx: Context,
  author: Author,
  params: StatusParams,
  options: { applicationId: string | null; scheduledAt?: string | null },
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
      scheduled: await scheduleStatus(ctx, author, params, scheduledAt, options.applicationId),
    };
  const status = await publishPrepared(ctx, author, prepared, {
    applicationId: options.applicationId,
    countAction: true,
  });
  return { kind: 'status', status };
}
