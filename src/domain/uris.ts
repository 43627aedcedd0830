import type { Config } from '../config/config.ts';

/**
 * Every URL and ActivityPub id this server mints for its own objects, in one place (DESIGN.md §4,
 * mastodon.md §5): ids are permanent once federated, so their shape must never drift between the
 * code that stores them and the code that renders or resolves them. Paths follow Mastodon's, so
 * links from other servers keep working for an instance that moved from Mastodon.
 */
type Base = Pick<Config, 'baseUrl'>;

/** `https://example.com/users/alice` (the actor id) and `https://example.com/@alice` (the profile page). */
export function localAccountUris(config: Base, username: string): { uri: string; url: string } {
  return { uri: `${config.baseUrl}/users/${username}`, url: profileUrl(config, username) };
}

export function profileUrl(config: Base, username: string): string {
  return `${config.baseUrl}/@${username}`;
}

/** A local status's id (`…/users/alice/statuses/1`) and its page (`…/@alice/1`). */
export function localStatusUris(
  config: Base,
  username: string,
  statusId: string,
): { uri: string; url: string } {
  return {
    uri: `${localAccountUris(config, username).uri}/statuses/${statusId}`,
    url: `${profileUrl(config, username)}/${statusId}`,
  };
}

/** The id of the Announce activity of a local boost (Mastodon: the status URI + `/activity`). */
export function localReblogUri(config: Base, username: string, reblogId: string): string {
  return `${localStatusUris(config, username, reblogId).uri}/activity`;
}

/** The public page of a hashtag. */
export function tagUrl(config: Base, name: string): string {
  return `${config.baseUrl}/tags/${encodeURIComponent(name)}`;
}

/** An account's link: its own `url` when it has one, else its local profile page or remote id. */
export function accountUrl(
  config: Base,
  account: { url: string | null; uri: string; username: string; domain: string | null },
): string {
  return account.url ?? (account.domain === null ? profileUrl(config, account.username) : account.uri);
}

/** Where the images bundled with the server are served (src/api/routes/assets.ts). */
export const ASSETS_PATH = '/assets';

export function assetUrl(config: Base, name: string): string {
  return `${config.baseUrl}${ASSETS_PATH}/${name}`;
}
