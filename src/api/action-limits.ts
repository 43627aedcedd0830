import type { FastifyReply } from 'fastify';
import { type ActionFamily, type ActionLimitState, actionLimitState } from '../domain/action-limits.ts';
import type { Context } from '../domain/context.ts';
import { rateLimitHeaders } from './rate-limit.ts';

/** X-RateLimit-* headers describing an account's action limit (src/domain/action-limits.ts). */
export function actionLimitHeaders(state: ActionLimitState): Record<string, string> {
  return rateLimitHeaders({
    name: state.family,
    allowed: state.remaining > 0,
    limit: state.limit,
    count: state.limit - state.remaining,
    remaining: state.remaining,
    resetAt: state.resetAt,
  });
}

/**
 * As Mastodon's `override_rate_limit_headers`: a successful post, boost or follow reports the
 * account's action limit in its X-RateLimit-* headers instead of the request throttle's.
 */
export async function setActionLimitHeaders(
  ctx: Pick<Context, 'cache'>,
  reply: FastifyReply,
  accountId: string,
  family: ActionFamily,
): Promise<void> {
  reply.headers(actionLimitHeaders(await actionLimitState(ctx, accountId, family)));
}
