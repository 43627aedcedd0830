import { eq } from 'drizzle-orm';
import { newId } from '../../db/ids.ts';
import { oauthApplications } from '../../db/schema/index.ts';
import type { ApplicationRecord } from '../accounts/records.ts';
import { DEFAULT_SCOPES, parseScopes, unknownScopes } from '../auth/scopes.ts';
import { hashSecret, newSecret, safeEqual } from '../auth/secrets.ts';
import type { Context } from '../context.ts';
import { tooLong, Validator } from '../validation.ts';

/**
 * OAuth client applications, as Mastodon's `POST /api/v1/apps` registers them (Doorkeeper's
 * Application plus Mastodon's ApplicationExtension limits). Every app is a confidential client; its
 * secret is shown once, at registration, and stored only as its SHA-256.
 */
export const APP_NAME_LIMIT = 60;
export const APP_REDIRECT_URI_LIMIT = 2_000;
export const APP_WEBSITE_LIMIT = 2_000;

/** The out-of-band redirect: the code is shown to the user to paste into the app. */
export const OOB_REDIRECT_URI = 'urn:ietf:wg:oauth:2.0:oob';

/** Schemes Mastodon forbids as redirect targets (they would run script in the browser). */
const FORBIDDEN_SCHEMES = new Set(['data:', 'vbscript:', 'javascript:']);

export interface NewApplication {
  /** `client_name`. */
  name: unknown;
  /** `redirect_uris`: a whitespace-separated string or an array of strings. */
  redirectUris: unknown;
  /** Space-separated (or, leniently, an array); absent → `read`. */
  scopes?: unknown;
  website?: unknown;
  ownerUserId?: string | null;
}

export interface CreatedApplication {
  application: ApplicationRecord;
  /** The clear client secret: returned once, never stored. */
  clientSecret: string;
}

export async function createApplication(
  ctx: Pick<Context, 'database'>,
  input: NewApplication,
): Promise<CreatedApplication> {
  const { name, redirectUri, scopes, website } = validateApplication(input);
  const clientSecret = newSecret();
  const [application] = await ctx.database.db
    .insert(oauthApplications)
    .values({
      id: newId(),
      name,
      uid: newSecret(),
      secretHash: hashSecret(clientSecret),
      redirectUri,
      scopes,
      website,
      ownerUserId: input.ownerUserId ?? null,
    })
    .returning();
  return { application: application!, clientSecret };
}

/** Checks every field and throws one ValidationError (422) naming each wrong one. */
export function validateApplication(input: NewApplication): {
  name: string;
  redirectUri: string;
  scopes: string;
  website: string | null;
} {
  const v = new Validator();

  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (input.name !== undefined && input.name !== null && typeof input.name !== 'string') {
    v.add('client_name', 'Application name', 'ERR_INVALID');
  } else if (name === '') {
    v.add('client_name', 'Application name', 'ERR_BLANK');
  } else if ([...name].length > APP_NAME_LIMIT) {
    v.add('client_name', 'Application name', 'ERR_TOO_LONG', tooLong(APP_NAME_LIMIT));
  }

  const uris = splitRedirectUris(input.redirectUris);
  const redirectUri = uris === null ? '' : uris.join('\n');
  if (uris === null) {
    v.add('redirect_uris', 'Redirect URI', 'ERR_INVALID', 'must be a valid URI.');
  } else if (uris.length === 0) {
    v.add('redirect_uris', 'Redirect URI', 'ERR_BLANK');
  } else if (redirectUri.length > APP_REDIRECT_URI_LIMIT) {
    v.add('redirect_uris', 'Redirect URI', 'ERR_TOO_LONG', tooLong(APP_REDIRECT_URI_LIMIT));
  } else {
    const problem = uris.map(redirectUriProblem).find((p) => p !== undefined);
    if (problem !== undefined) v.add('redirect_uris', 'Redirect URI', 'ERR_INVALID', problem);
  }

  let scopeList: string[] = [DEFAULT_SCOPES];
  let scopesValid = true;
  if (Array.isArray(input.scopes) && input.scopes.every((s) => typeof s === 'string')) {
    scopeList = parseScopes(input.scopes.join(' '));
  } else if (typeof input.scopes === 'string') {
    scopeList = parseScopes(input.scopes);
  } else if (input.scopes !== undefined && input.scopes !== null) {
    scopesValid = false;
  }
  if (!scopesValid || unknownScopes(scopeList).length > 0) {
    v.add('scopes', 'Scopes', 'ERR_INVALID', "doesn't match configured on the server.");
  }

  let website: string | null = null;
  if (typeof input.website === 'string' && input.website.trim() !== '') {
    website = input.website.trim();
    if (website.length > APP_WEBSITE_LIMIT) {
      v.add('website', 'Application website', 'ERR_TOO_LONG', tooLong(APP_WEBSITE_LIMIT));
    } else if (!isHttpUrl(website)) {
      v.add('website', 'Application website', 'ERR_INVALID');
    }
  } else if (input.website !== undefined && input.website !== null && typeof input.website !== 'string') {
    v.add('website', 'Application website', 'ERR_INVALID');
  }

  v.check();
  return { name, redirectUri, scopes: scopeList.join(' '), website };
}

/** The list of redirect URIs from a string (split on whitespace) or an array; null when malformed. */
function splitRedirectUris(value: unknown): string[] | null {
  if (value === undefined || value === null) return [];
  const parts: string[] = [];
  if (typeof value === 'string') {
    parts.push(...value.split(/\s+/));
  } else if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item !== 'string') return null;
      parts.push(...item.split(/\s+/));
    }
  } else {
    return null;
  }
  return [...new Set(parts.filter(Boolean))];
}

/** Doorkeeper's redirect URI rules (with Mastodon's forbidden schemes), or undefined when it is fine. */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri === OOB_REDIRECT_URI) return undefined;
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri)) return 'must be an absolute URI.';
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    return 'must be a valid URI.';
  }
  if (FORBIDDEN_SCHEMES.has(parsed.protocol.toLowerCase())) return 'is forbidden by the server.';
  if ((parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname === '') {
    return 'must be an absolute URI.';
  }
  if (uri.includes('#')) return 'cannot contain a fragment.';
  return undefined;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

export function applicationRedirectUris(application: ApplicationRecord): string[] {
  return application.redirectUri.split(/\s+/).filter(Boolean);
}

export function applicationScopes(application: ApplicationRecord): string[] {
  return application.scopes.split(/\s+/).filter(Boolean);
}

export async function findApplicationByClientId(
  ctx: Pick<Context, 'database'>,
  clientId: string,
): Promise<ApplicationRecord | null> {
  if (clientId === '' || clientId.length > 256) return null;
  const rows = await ctx.database.db
    .select()
    .from(oauthApplications)
    .where(eq(oauthApplications.uid, clientId))
    .limit(1);
  return rows[0] ?? null;
}

/** The application whose client_id and client_secret these are, or null. */
export async function authenticateClient(
  ctx: Pick<Context, 'database'>,
  clientId: string,
  clientSecret: string,
): Promise<ApplicationRecord | null> {
  const application = await findApplicationByClientId(ctx, clientId);
  // Hash first whatever happens, so an unknown client costs the same as a wrong secret.
  const presented = hashSecret(clientSecret);
  if (application === null || clientSecret === '') return null;
  return safeEqual(presented, application.secretHash) ? application : null;
}

/**
 * Is `requested` (from an authorize or token request) one of the app's registered redirect URIs?
 * Doorkeeper's rules: a query the registered URI does not have is allowed and ignored; a registered
 * query must be present with the same parameters; for loopback IP addresses any port matches
 * (RFC 8252 §7.3, so native apps can listen on an ephemeral port).
 */
export function redirectUriMatches(requested: string, registered: string): boolean {
  if (requested === registered) return true;
  if (requested === OOB_REDIRECT_URI || registered === OOB_REDIRECT_URI) return false;
  let a: URL;
  let b: URL;
  try {
    a = new URL(requested);
    b = new URL(registered);
  } catch {
    return false;
  }
  if (a.hash !== '' || requested.includes('#')) return false;
  if (b.search !== '') {
    if (!sameParams(a.searchParams, b.searchParams)) return false;
  }
  a.search = '';
  b.search = '';
  if (isLoopbackIp(a.hostname) && isLoopbackIp(b.hostname)) {
    a.port = '';
    b.port = '';
  }
  return a.href === b.href;
}

function sameParams(a: URLSearchParams, b: URLSearchParams): boolean {
  const sorted = (p: URLSearchParams) =>
    [...p.entries()]
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join('&');
  return sorted(a) === sorted(b);
}

function isLoopbackIp(hostname: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname) || hostname === '[::1]';
}

/** The registered URI `requested` matches, or undefined. */
export function matchingRedirectUri(application: ApplicationRecord, requested: string): string | undefined {
  return applicationRedirectUris(application).find((registered) => redirectUriMatches(requested, registered));
}
