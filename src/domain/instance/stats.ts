import type { Context } from '../context.ts';

export interface InstanceStats {
  /** Local users (Mastodon: confirmed, approved, not suspended). */
  userCount: number;
  /** Local statuses. */
  statusCount: number;
  /** Other servers this one knows. */
  domainCount: number;
  /** Local users active in the last 4 weeks. */
  activeMonth: number;
}

/** The instance's counters, as the instance entity and NodeInfo publish them. */
export async function instanceStats(_ctx: Pick<Context, 'database'>): Promise<InstanceStats> {
  // No accounts or statuses exist yet: the account/status issue replaces this with real counts.
  return { userCount: 0, statusCount: 0, domainCount: 0, activeMonth: 0 };
}
