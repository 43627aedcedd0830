/**
 * Mastodon's OAuth scopes (4.5). A token's scope covers a route's when it is the same scope or its
 * parent: `read` covers `read:statuses`, `admin:write` covers `admin:write:accounts`. `follow` is
 * the deprecated union of the follow-related read and write scopes.
 */
const READ = [
  'accounts',
  'blocks',
  'bookmarks',
  'favourites',
  'filters',
  'follows',
  'lists',
  'mutes',
  'notifications',
  'search',
  'statuses',
];
const WRITE = [
  'accounts',
  'blocks',
  'bookmarks',
  'conversations',
  'favourites',
  'filters',
  'follows',
  'lists',
  'media',
  'mutes',
  'notifications',
  'reports',
  'statuses',
];
const ADMIN = [
  'accounts',
  'reports',
  'domain_allows',
  'domain_blocks',
  'ip_blocks',
  'email_domain_blocks',
  'canonical_email_blocks',
];

export const TOP_LEVEL_SCOPES = [
  'read',
  'write',
  'follow',
  'push',
  'profile',
  'admin:read',
  'admin:write',
] as const;

export const ALL_SCOPES: readonly string[] = [
  ...TOP_LEVEL_SCOPES,
  ...READ.map((s) => `read:${s}`),
  ...WRITE.map((s) => `write:${s}`),
  ...ADMIN.map((s) => `admin:read:${s}`),
  ...ADMIN.map((s) => `admin:write:${s}`),
];

const KNOWN = new Set(ALL_SCOPES);

/** What the deprecated `follow` scope grants (Mastodon maps it to these). */
const FOLLOW_GRANTS = new Set([
  'read:blocks',
  'write:blocks',
  'read:follows',
  'write:follows',
  'read:mutes',
  'write:mutes',
]);

export const DEFAULT_SCOPES = 'read';

/** Splits a space-separated scope string; empty → the default (`read`), as Doorkeeper does. */
export function parseScopes(value: string | undefined | null): string[] {
  const list = (value ?? '').split(/\s+/).filter(Boolean);
  return [...new Set(list.length ? list : [DEFAULT_SCOPES])];
}

export function unknownScopes(scopes: readonly string[]): string[] {
  return scopes.filter((s) => !KNOWN.has(s));
}

/** Does `granted` include `required`, directly or through a parent scope? */
export function scopeCovers(granted: readonly string[], required: string): boolean {
  if (granted.includes(required)) return true;
  const parts = required.split(':');
  // read:statuses ← read; admin:read:accounts ← admin:read
  for (let i = parts.length - 1; i > 0; i--) {
    if (granted.includes(parts.slice(0, i).join(':'))) return true;
  }
  return granted.includes('follow') && FOLLOW_GRANTS.has(required);
}

/** A route listing several scopes accepts any one of them (e.g. `read` or `read:statuses`). */
export function scopesAllow(granted: readonly string[], anyOf: readonly string[]): boolean {
  return anyOf.length === 0 || anyOf.some((r) => scopeCovers(granted, r));
}

/** Is every scope of `requested` within `allowed` (an app's scopes bound what its tokens get)? */
export function scopesWithin(requested: readonly string[], allowed: readonly string[]): boolean {
  return requested.every((s) => scopeCovers(allowed, s));
}
