import type { Context } from './context.ts';
import { DomainError } from './errors.ts';

/**
 * Per-account action limits (Mastodon's RateLimiter, mastodon.md §8.1): beside the request
 * throttles of the API, an account may create at most 300 statuses (posts, boosts and edits) in
 * 3 hours and 400 follows (follow requests included) in 24 hours. The windows are fixed and aligned
 * to the epoch, counted in the cache (Redis in the scaled shape, so every web process shares them).
 *
 * Only what the API asks for counts: a scheduled status published by the scheduler, or a repeated
 * request answered from its Idempotency-Key, does not. The count is checked before the action and
 * recorded after it succeeded, so a refused or invalid request uses up nothing.
 */

export type ActionFamily = 'statuses' | 'follows';

export const ACTION_LIMITS: Readonly<Record<ActionFamily, { limit: number; periodSeconds: number }>> = {
  statuses: { limit: 300, periodSeconds: 3 * 60 * 60 },
  follows: { limit: 400, periodSeconds: 24 * 60 * 60 },
};

/** Where an account's count for a family stands. */
export interface ActionLimitState {
  family: ActionFamily;
  limit: number;
  remaining: number;
  /** When the window ends and the count starts again from 0. */
  resetAt: Date;
}

/**
 * The account has used up a family's allowance: `rate_limited`, carrying the window so that the
 * 429 can say in X-RateLimit-* when it ends.
 */
export class ActionLimitError extends DomainError {
  readonly state: ActionLimitState;
  constructor(state: ActionLimitState) {
    super('rate_limited', 'Too many requests');
    this.state = state;
  }
}

function windowOf(family: ActionFamily, now: number) {
  const { limit, periodSeconds } = ACTION_LIMITS[family];
  const seconds = Math.floor(now / 1000);
  const window = Math.floor(seconds / periodSeconds);
  const endsAt = (window + 1) * periodSeconds;
  return { limit, window, resetAt: new Date(endsAt * 1000), ttlSeconds: endsAt - seconds + 1 };
}

/** The cache key of an account's counter for the window that contains `now`. */
export function actionLimitKey(accountId: string, family: ActionFamily, now: number = Date.now()): string {
  return `rate_limit:${accountId}:${family}:${windowOf(family, now).window}`;
}

/** The account's current state for a family, without counting anything. */
export async function actionLimitState(
  ctx: Pick<Context, 'cache'>,
  accountId: string,
  family: ActionFamily,
  now: number = Date.now(),
): Promise<ActionLimitState> {
  const { limit, resetAt } = windowOf(family, now);
  const used = Number((await ctx.cache.get(actionLimitKey(accountId, family, now))) ?? 0);
  return { family, limit, remaining: Math.max(0, limit - (Number.isFinite(used) ? used : 0)), resetAt };
}

/** Throws ActionLimitError when the account has no allowance left in this window. */
export async function assertActionAllowed(
  ctx: Pick<Context, 'cache'>,
  accountId: string,
  family: ActionFamily,
): Promise<void> {
  const state = await actionLimitState(ctx, accountId, family);
  if (state.remaining <= 0) throw new ActionLimitError(state);
}

/** Counts one action that has happened. */
export async function recordAction(
  ctx: Pick<Context, 'cache'>,
  accountId: string,
  family: ActionFamily,
): Promise<void> {
  const now = Date.now();
  await ctx.cache.incr(actionLimitKey(accountId, family, now), windowOf(family, now).ttlSeconds);
}
