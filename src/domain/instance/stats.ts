import type { Context } from '../context.ts';

export interface InstanceStats {
  /** Local users (Mastodon: confirmed, approved, not suspended). */
  userCount: number;
  /** Local statuses. */
  statusCount: number;
  /** Other servers this one knows accounts of. */
  domainCount: number;
  /** Local users active in the last 4 weeks (signed in, or used a token). */
  activeMonth: number;
}

const STATS_SQL = `
  select
    (select count(*) from users u join accounts a on a.id = u.account_id
      where u.confirmed_at is not null and u.approved and a.suspended_at is null) as users,
    (select count(distinct lower(domain)) from accounts where domain is not null) as domains,
    (select count(*) from users u join accounts a on a.id = u.account_id
      where u.confirmed_at is not null and u.approved and a.suspended_at is null
        and (u.current_sign_in_at > now() - interval '28 days'
          or exists (select 1 from oauth_access_tokens t
                     where t.user_id = u.id and t.last_used_at > now() - interval '28 days'))) as active`;

/** Counted at most once a minute per database: every client asks for the instance on start. */
const CACHE_MS = 60_000;
const cache = new WeakMap<object, { at: number; stats: Promise<InstanceStats> }>();

/** The instance's counters, as the instance entity (and later NodeInfo) publish them. */
export function instanceStats(ctx: Pick<Context, 'database'>): Promise<InstanceStats> {
  const hit = cache.get(ctx.database);
  if (hit !== undefined && Date.now() - hit.at < CACHE_MS) return hit.stats;
  const stats = countStats(ctx);
  cache.set(ctx.database, { at: Date.now(), stats });
  stats.catch(() => cache.delete(ctx.database));
  return stats;
}

/** Forget the cached counters (tests, and after changes an operator expects to see at once). */
export function invalidateInstanceStats(ctx: Pick<Context, 'database'>): void {
  cache.delete(ctx.database);
}

async function countStats(ctx: Pick<Context, 'database'>): Promise<InstanceStats> {
  const [row] = await ctx.database.query<{
    users: string | number;
    domains: string | number;
    active: string | number;
  }>(STATS_SQL);
  return {
    userCount: Number(row?.users ?? 0),
    // Statuses arrive with issue 4 (posting); until then there are none to count.
    statusCount: 0,
    domainCount: Number(row?.domains ?? 0),
    activeMonth: Number(row?.active ?? 0),
  };
}
