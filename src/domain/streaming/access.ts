import { roleCan } from '../accounts/roles.ts';
import type { Context } from '../context.ts';
import { TIMELINES_ACCESS } from '../instance/instance.ts';

/** Which halves of a public or hashtag feed a viewer's streams carry. */
export interface FeedHalves {
  local: boolean;
  remote: boolean;
}

/**
 * Mastodon 4.5's feed-access settings as the streaming server applies them: a half set to
 * `disabled` is dropped from the stream, unless the viewer's role may view every feed
 * (`view_feeds`). `authenticated` changes nothing here: every stream needs a user token anyway.
 */
export function streamFeedHalves(
  kind: 'live' | 'hashtag',
  permissions: number,
  settings: Pick<typeof TIMELINES_ACCESS, 'live_feeds' | 'hashtag_feeds'> = TIMELINES_ACCESS,
): FeedHalves {
  if (roleCan(permissions, 'view_feeds')) return { local: true, remote: true };
  const access = kind === 'hashtag' ? settings.hashtag_feeds : settings.live_feeds;
  return { local: access.local !== 'disabled', remote: access.remote !== 'disabled' };
}

/**
 * Whether `accountId` may stream the list `listId` (only its owner may). Lists do not exist yet,
 * so no list is anyone's; the lists feature replaces this with its ownership query.
 */
export async function mayStreamList(
  _ctx: Pick<Context, 'database'>,
  _accountId: string,
  _listId: string,
): Promise<boolean> {
  return false;
}
