import { eq, sql } from 'drizzle-orm';
import { notificationPolicies } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { Validator } from '../validation.ts';

export const POLICY_ACTIONS = ['accept', 'filter', 'drop'] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

export interface NotificationPolicy {
  forNotFollowing: PolicyAction;
  forNotFollowers: PolicyAction;
  forNewAccounts: PolicyAction;
  forPrivateMentions: PolicyAction;
  forLimitedAccounts: PolicyAction;
}

export interface PolicySummary {
  pendingRequestsCount: number;
  pendingNotificationsCount: number;
}

/** Mastodon's defaults for an account that never changed its policy. */
export const DEFAULT_POLICY: NotificationPolicy = {
  forNotFollowing: 'accept',
  forNotFollowers: 'accept',
  forNewAccounts: 'accept',
  forPrivateMentions: 'filter',
  forLimitedAccounts: 'filter',
};

const FIELDS = {
  for_not_following: 'forNotFollowing',
  for_not_followers: 'forNotFollowers',
  for_new_accounts: 'forNewAccounts',
  for_private_mentions: 'forPrivateMentions',
  for_limited_accounts: 'forLimitedAccounts',
} as const satisfies Record<string, keyof NotificationPolicy>;

/** v1's booleans cover four of the categories: true means filter, false accept. */
const V1_FIELDS = {
  filter_not_following: 'forNotFollowing',
  filter_not_followers: 'forNotFollowers',
  filter_new_accounts: 'forNewAccounts',
  filter_private_mentions: 'forPrivateMentions',
} as const satisfies Record<string, keyof NotificationPolicy>;

/** Summaries stop counting here, as Mastodon's. */
const MAX_MEANINGFUL_COUNT = 100;

type Ctx = Pick<Context, 'database'>;

function asAction(value: string): PolicyAction {
  return (POLICY_ACTIONS as readonly string[]).includes(value) ? (value as PolicyAction) : 'accept';
}

export async function getPolicy(ctx: Ctx, accountId: string): Promise<NotificationPolicy> {
  const [row] = await ctx.database.db
    .select()
    .from(notificationPolicies)
    .where(eq(notificationPolicies.accountId, accountId))
    .limit(1);
  if (!row) return { ...DEFAULT_POLICY };
  return {
    forNotFollowing: asAction(row.forNotFollowing),
    forNotFollowers: asAction(row.forNotFollowers),
    forNewAccounts: asAction(row.forNewAccounts),
    forPrivateMentions: asAction(row.forPrivateMentions),
    forLimitedAccounts: asAction(row.forLimitedAccounts),
  };
}

/** Pending requests (from accounts not suspended) and the filtered mentions in them, each up to 100. */
export async function policySummary(ctx: Ctx, accountId: string): Promise<PolicySummary> {
  const [row] = await ctx.database.query<{ requests: number | string; notifications: number | string }>(
    `select count(*)::int as requests, coalesce(sum(notifications_count), 0)::int as notifications from (
       select r.notifications_count from notification_requests r
         join accounts a on a.id = r.from_account_id and a.suspended_at is null
        where r.account_id = $1
        limit ${MAX_MEANINGFUL_COUNT}) t`,
    [accountId],
  );
  return {
    pendingRequestsCount: Number(row?.requests ?? 0),
    pendingNotificationsCount: Number(row?.notifications ?? 0),
  };
}

function parseBoolean(value: unknown): boolean | undefined {
  // Rails' boolean casting: these strings are false, any other non-blank value true.
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value !== 'string' || value === '') return undefined;
  return !['0', 'f', 'false', 'off', 'F', 'FALSE', 'OFF'].includes(value);
}

/**
 * Changes a policy from API parameters: v2 takes `for_*` = accept|filter|drop, v1 takes the
 * `filter_*` booleans. Unknown parameters are ignored, as Rails' strong parameters do; an unknown
 * action is a validation error naming the field, and nothing is changed.
 */
export async function updatePolicy(
  ctx: Ctx,
  accountId: string,
  params: Record<string, unknown>,
  version: 'v1' | 'v2',
): Promise<NotificationPolicy> {
  const changes: Partial<NotificationPolicy> = {};
  const validator = new Validator();
  if (version === 'v2') {
    for (const [param, key] of Object.entries(FIELDS)) {
      const value = params[param];
      if (value === undefined) continue;
      if (typeof value === 'string' && (POLICY_ACTIONS as readonly string[]).includes(value)) {
        changes[key] = value as PolicyAction;
      } else {
        validator.add(param, humanize(param), 'ERR_INCLUSION');
      }
    }
  } else {
    for (const [param, key] of Object.entries(V1_FIELDS)) {
      const value = params[param];
      if (value === undefined) continue;
      const flag = parseBoolean(value);
      if (flag === undefined) {
        validator.add(param, humanize(param), 'ERR_INVALID');
      } else {
        changes[key] = flag ? 'filter' : 'accept';
      }
    }
  }
  validator.check();

  const current = await getPolicy(ctx, accountId);
  const next = { ...current, ...changes };
  await ctx.database.db
    .insert(notificationPolicies)
    .values({ accountId, ...next })
    .onConflictDoUpdate({ target: notificationPolicies.accountId, set: { ...next, updatedAt: sql`now()` } });
  return next;
}

function humanize(param: string): string {
  const text = param.replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}
