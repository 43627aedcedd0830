import type { Config } from '../../config/config.ts';
import { accountFields, userPreferences } from '../../domain/accounts/profile.ts';
import type { RoleRecord } from '../../domain/accounts/records.ts';
import type { ResolvedRole } from '../../domain/accounts/roles.ts';
import { renderBio, renderFieldValue } from '../../domain/accounts/text.ts';
import type { AccountView, CredentialView } from '../../domain/accounts/views.ts';
import { mediaUrl } from '../../infra/storage/urls.ts';

/** Mastodon's images for an account without avatar or header (served by src/api/routes/accounts.ts). */
export const MISSING_AVATAR_PATH = '/avatars/original/missing.png';
export const MISSING_HEADER_PATH = '/headers/original/missing.png';

/** The Role entity (REST::RoleSerializer): permissions as the computed bit field, in decimal. */
export function serializeRole(resolved: ResolvedRole) {
  const { role, permissions } = resolved;
  return {
    id: role.id,
    name: role.name,
    permissions: String(permissions),
    color: role.color,
    highlighted: role.highlighted,
  };
}

/** Mastodon shows an account's creation day, not its time: midnight UTC of that day. */
export function creationDay(date: Date): string {
  return `${date.toISOString().slice(0, 10)}T00:00:00.000Z`;
}

/** The Account entity (REST::AccountSerializer, 4.5). */
export function serializeAccount(view: AccountView, config: Config) {
  const { account, user } = view;
  const local = account.domain === null;
  // A suspended account shows no profile content, as Mastodon's `unavailable?` accounts.
  const unavailable = account.suspendedAt !== null;
  const image = (key: string | null, missing: string) =>
    unavailable || key === null ? `${config.baseUrl}${missing}` : mediaUrl(config, key);
  const avatar = image(account.avatarKey, MISSING_AVATAR_PATH);
  const header = image(account.headerKey, MISSING_HEADER_PATH);
  // The still frame of an animated image; a still image is its own.
  const avatarStatic = image(account.avatarStaticKey ?? account.avatarKey, MISSING_AVATAR_PATH);
  const headerStatic = image(account.headerStaticKey ?? account.headerKey, MISSING_HEADER_PATH);
  const fields = unavailable
    ? []
    : accountFields(account).map((f) => ({
        name: f.name,
        value: local ? renderFieldValue(f.value) : f.value,
        verified_at: f.verified_at,
      }));
  const entity: Record<string, unknown> = {
    id: account.id,
    username: account.username,
    acct: local ? account.username : `${account.username}@${account.domain}`,
    display_name: unavailable ? '' : account.displayName,
    locked: unavailable ? false : account.locked,
    bot: unavailable ? false : account.bot,
    discoverable: unavailable ? false : account.discoverable,
    indexable: unavailable ? false : account.indexable,
    group: false,
    created_at: creationDay(account.createdAt),
    note: unavailable ? '' : local ? renderBio(account.note) : account.note,
    url: account.url ?? account.uri,
    uri: account.uri,
    avatar,
    avatar_static: avatarStatic,
    header,
    header_static: headerStatic,
    followers_count: view.counts.followers,
    following_count: view.counts.following,
    statuses_count: view.counts.statuses,
    last_status_at: view.counts.lastStatusAt ? view.counts.lastStatusAt.toISOString().slice(0, 10) : null,
    hide_collections: account.hideCollections,
    emojis: [],
    fields,
  };
  if (unavailable) entity.suspended = true;
  if (local) entity.noindex = user ? userPreferences(user, account).noindex : false;
  if (account.memorial) entity.memorial = true;
  if (local) entity.roles = unavailable || view.badge === undefined ? [] : [badge(view.badge)];
  return entity;
}

function badge(role: RoleRecord) {
  return { id: role.id, name: role.name, color: role.color };
}

/** CredentialAccount: the account plus `source` (what the user wrote) and the user's role. */
export function serializeCredentialAccount(view: CredentialView, config: Config) {
  const { account, user } = view;
  const prefs = userPreferences(user, account);
  return {
    ...serializeAccount(view, config),
    source: {
      privacy: prefs.defaultPrivacy,
      sensitive: prefs.defaultSensitive,
      language: prefs.defaultLanguage,
      note: account.note,
      fields: accountFields(account),
      follow_requests_count: view.followRequestsCount,
      hide_collections: account.hideCollections,
      discoverable: account.discoverable,
      indexable: account.indexable,
      attribution_domains: [],
      quote_policy: prefs.defaultQuotePolicy,
    },
    role: serializeRole(view.role),
  };
}

/** The Token entity, as Doorkeeper's token response: `created_at` in Unix seconds. */
export function serializeToken(token: { accessToken: string; scopes: readonly string[]; createdAt: Date }) {
  return {
    access_token: token.accessToken,
    token_type: 'Bearer',
    scope: token.scopes.join(' '),
    created_at: Math.floor(token.createdAt.getTime() / 1000),
  };
}
