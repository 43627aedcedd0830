import type { FeedEntry } from '../../infra/feeds/feed-store.ts';
import type { Context } from '../context.ts';
import { FOLLOWER_VISIBILITIES_SQL } from '../visibility/visibility.ts';

/**
 * Which (home owner, status) pairs belong in home feeds: Mastodon's FeedManager#filter_from_home,
 * set-based so one query decides a whole fan-out or a whole merge. `pairs` is SQL yielding
 * (recipient, status_id); its parameters are $1… and must not clash with none here (there are none).
 *
 * A status goes into a home when the owner wrote it, or when the owner follows its author and:
 * - it is public, unlisted or private, or it is direct and mentions the owner (Mastodon: direct
 *   statuses reach mentioned followers only);
 * - a reblog only when the follow shows reblogs;
 * - its language is one the follow asked for (or the follow or the status names none);
 * - the owner neither blocks nor mutes its author, the author of what it boosts, or any account
 *   either mentions, and the boosted status's author does not block the owner;
 * - a reply only to the author itself, to the owner, or to someone the owner follows.
 */
export function homeFilterQuery(pairs: string): string {
  const activeMute = '(mu.expires_at is null or mu.expires_at > now())';
  return `with pairs as (${pairs})
select p.recipient::text as recipient, s.id::text as status_id, s.reblog_of_id::text as reblog_of_id
from pairs p
join accounts ra on ra.id = p.recipient and ra.domain is null
join statuses s on s.id = p.status_id
left join statuses o on o.id = s.reblog_of_id
left join follows f on f.account_id = p.recipient and f.target_account_id = s.account_id
where p.recipient = s.account_id or (
  f.id is not null
  and (s.visibility in ${FOLLOWER_VISIBILITIES_SQL}
       or (s.visibility = 'direct' and exists (
             select 1 from mentions m where m.status_id = s.id and m.account_id = p.recipient and not m.silent)))
  and (s.reblog_of_id is null or (f.show_reblogs and o.id is not null))
  and (s.language is null or f.languages is null or s.language = any(f.languages))
  and not exists (select 1 from blocks b where b.account_id = p.recipient and b.target_account_id in (s.account_id, o.account_id))
  and not exists (select 1 from blocks b where b.account_id = o.account_id and b.target_account_id = p.recipient)
  and not exists (select 1 from mutes mu where mu.account_id = p.recipient
                  and mu.target_account_id in (s.account_id, o.account_id) and ${activeMute})
  and not exists (select 1 from mentions m join blocks b on b.account_id = p.recipient and b.target_account_id = m.account_id
                  where m.status_id in (s.id, s.reblog_of_id) and not m.silent)
  and not exists (select 1 from mentions m join mutes mu on mu.account_id = p.recipient and mu.target_account_id = m.account_id
                  where m.status_id in (s.id, s.reblog_of_id) and not m.silent and ${activeMute})
  and (s.in_reply_to_id is null or (s.in_reply_to_account_id is not null and (
         s.in_reply_to_account_id in (s.account_id, p.recipient)
         or exists (select 1 from follows f2 where f2.account_id = p.recipient and f2.target_account_id = s.in_reply_to_account_id))))
)`;
}

export interface FilteredRow {
  recipient: string;
  status_id: string;
  reblog_of_id: string | null;
}

export async function filterForHome(
  ctx: Pick<Context, 'database'>,
  pairs: string,
  params: unknown[],
): Promise<FilteredRow[]> {
  const rows = await ctx.database.query<FilteredRow>(homeFilterQuery(pairs), params);
  return rows.map((r) => ({
    recipient: String(r.recipient),
    status_id: String(r.status_id),
    reblog_of_id: r.reblog_of_id === null ? null : String(r.reblog_of_id),
  }));
}

export const toEntry = (r: FilteredRow): FeedEntry => ({ statusId: r.status_id, reblogOfId: r.reblog_of_id });
