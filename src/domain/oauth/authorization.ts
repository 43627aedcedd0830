import { and, desc, eq, isNull } from 'drizzle-orm';
import { oauthAccessTokens } from '../../db/schema/index.ts';
import type { ApplicationRecord } from '../accounts/records.ts';
import type { Context } from '../context.ts';
import { findApplicationByClientId, matchingRedirectUri, OOB_REDIRECT_URI } from './applications.ts';
import { missingParam, OAuthError } from './errors.ts';
import { requestedScopes } from './grants.ts';

/**
 * The authorization request of the code flow (`/oauth/authorize`), checked in Doorkeeper's order
 * before anything is shown to the user. Errors about the client or the redirect URI are never sent
 * to the redirect URI (it is not verified); later ones are, unless it is the out-of-band URI.
 */
export interface AuthorizationParams {
  client_id?: unknown;
  redirect_uri?: unknown;
  response_type?: unknown;
  scope?: unknown;
  state?: unknown;
  code_challenge?: unknown;
  code_challenge_method?: unknown;
}

export interface PreAuthorization {
  application: ApplicationRecord;
  /** As the client sent it (it may carry a query the registered URI lacks). */
  redirectUri: string;
  responseType: 'code';
  scopes: string[];
  state: string | null;
  codeChallenge: string | null;
  codeChallengeMethod: string | null;
}

export type PreAuthorizationResult =
  | { ok: true; pre: PreAuthorization }
  /** `redirectUri` is set when the error may be sent back to the client. */
  | { ok: false; error: OAuthError; redirectUri: string | null; state: string | null };

const CODE_CHALLENGE = /^[A-Za-z0-9\-._~]{43,128}$/;
export const CODE_CHALLENGE_METHODS = ['S256'] as const;

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

export async function preAuthorize(
  ctx: Pick<Context, 'database'>,
  params: AuthorizationParams,
): Promise<PreAuthorizationResult> {
  const state = str(params.state) ?? null;
  const fail = (error: OAuthError, redirectUri: string | null = null): PreAuthorizationResult => ({
    ok: false,
    error,
    redirectUri,
    state,
  });

  const clientId = str(params.client_id);
  if (clientId === undefined) return fail(missingParam('client_id'));
  const application = await findApplicationByClientId(ctx, clientId);
  if (application === null) return fail(new OAuthError('invalid_client'));
  const redirectUri = str(params.redirect_uri);
  if (redirectUri === undefined || matchingRedirectUri(application, redirectUri) === undefined) {
    return fail(new OAuthError('invalid_redirect_uri'));
  }
  // From here on the redirect URI is one the application registered: errors may go back to it.
  const back = redirectUri === OOB_REDIRECT_URI ? null : redirectUri;

  const responseType = str(params.response_type);
  if (responseType === undefined) return fail(missingParam('response_type'), back);
  if (responseType !== 'code') return fail(new OAuthError('unsupported_response_type'), back);

  if (params.scope !== undefined && typeof params.scope !== 'string') {
    return fail(new OAuthError('invalid_scope'), back);
  }
  let scopes: string[];
  try {
    scopes = requestedScopes(application, params.scope as string | undefined);
  } catch (error) {
    if (error instanceof OAuthError) return fail(error, back);
    throw error;
  }

  const codeChallenge = str(params.code_challenge) ?? null;
  const method = str(params.code_challenge_method) ?? null;
  if (codeChallenge !== null) {
    if (method === null || !(CODE_CHALLENGE_METHODS as readonly string[]).includes(method)) {
      return fail(new OAuthError('invalid_request', 'The code_challenge_method must be S256.'), back);
    }
    if (!CODE_CHALLENGE.test(codeChallenge)) {
      return fail(new OAuthError('invalid_request', 'The code_challenge is malformed.'), back);
    }
  }

  return {
    ok: true,
    pre: {
      application,
      redirectUri,
      responseType: 'code',
      scopes,
      state,
      codeChallenge,
      codeChallengeMethod: codeChallenge === null ? null : method,
    },
  };
}

/**
 * Does the user already hold a live token of this application with exactly these scopes? Then, as
 * in Mastodon (Doorkeeper's matching_token? for confidential clients), consent is not asked again.
 */
export async function hasMatchingToken(
  ctx: Pick<Context, 'database'>,
  applicationId: string,
  userId: string,
  scopes: readonly string[],
): Promise<boolean> {
  const rows = await ctx.database.db
    .select({ scopes: oauthAccessTokens.scopes })
    .from(oauthAccessTokens)
    .where(
      and(
        eq(oauthAccessTokens.applicationId, applicationId),
        eq(oauthAccessTokens.userId, userId),
        isNull(oauthAccessTokens.revokedAt),
      ),
    )
    .orderBy(desc(oauthAccessTokens.createdAt))
    .limit(50);
  const wanted = [...new Set(scopes)].sort().join(' ');
  return rows.some((row) => [...new Set(row.scopes.split(' ').filter(Boolean))].sort().join(' ') === wanted);
}

/** `redirectUri` with `params` added to its query (RFC 6749 §4.1.2), keeping the query it had. */
export function redirectWith(redirectUri: string, params: Record<string, string | null | undefined>): string {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') url.searchParams.append(key, value);
  }
  return url.href;
}
