import { createHash } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { newId } from '../../db/ids.ts';
import { oauthAccessGrants, oauthAccessTokens } from '../../db/schema/index.ts';
import { dummyPasswordHash, verifyPassword } from '../accounts/passwords.ts';
import type { ApplicationRecord } from '../accounts/records.ts';
import { findUserByLogin } from '../accounts/registration.ts';
import { parseScopes, scopesWithin, unknownScopes } from '../auth/scopes.ts';
import { hashSecret, newSecret, safeEqual } from '../auth/secrets.ts';
import { type IssuedToken, issueAccessToken } from '../auth/tokens.ts';
import type { Context } from '../context.ts';
import { getSettings } from '../settings/settings.ts';
import { applicationScopes, redirectUriMatches } from './applications.ts';
import { missingParam, OAuthError } from './errors.ts';

/**
 * The grants of Mastodon's OAuth server (Doorkeeper as Mastodon configures it): authorization codes
 * (10 minutes, single use, PKCE S256), client credentials, and the resource owner password grant
 * (gone from Mastodon in 4.4, kept here for command-line clients and scripts; an instance setting
 * turns it off). Access tokens never expire and are revocable.
 *
 * Doorkeeper's `reuse_access_token` (hand back a live token for the same app, user and scopes)
 * cannot be honoured: tokens are stored only as hashes, so an existing token's value is unknown.
 * Doorkeeper itself disables reuse when it hashes tokens; every grant issues a new token.
 */
export const AUTHORIZATION_CODE_LIFETIME_MS = 10 * 60 * 1000;

/** PKCE code verifiers are 43–128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1). */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export interface NewAuthorizationGrant {
  application: ApplicationRecord;
  userId: string;
  /** The redirect URI of the authorization request, as the client sent it. */
  redirectUri: string;
  scopes: readonly string[];
  codeChallenge?: string | null;
  codeChallengeMethod?: string | null;
}

/** Records an approved authorization request; returns the code (shown once, stored hashed). */
export async function createAuthorizationGrant(
  ctx: Pick<Context, 'database'>,
  input: NewAuthorizationGrant,
): Promise<string> {
  const code = newSecret();
  await ctx.database.db.insert(oauthAccessGrants).values({
    id: newId(),
    tokenHash: hashSecret(code),
    applicationId: input.application.id,
    userId: input.userId,
    redirectUri: input.redirectUri,
    scopes: input.scopes.join(' '),
    codeChallenge: input.codeChallenge || null,
    codeChallengeMethod: input.codeChallenge ? (input.codeChallengeMethod ?? null) : null,
    expiresAt: new Date(Date.now() + AUTHORIZATION_CODE_LIFETIME_MS),
  });
  return code;
}

/** S256: BASE64URL(SHA256(verifier)), RFC 7636 §4.2. */
export function codeChallengeS256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** `grant_type=authorization_code`: checks the code, its client, redirect URI and PKCE verifier. */
export async function exchangeAuthorizationCode(
  ctx: Pick<Context, 'database'>,
  application: ApplicationRecord,
  params: { code?: string; redirectUri?: string; codeVerifier?: string },
): Promise<IssuedToken> {
  const code = params.code ?? '';
  if (code === '') throw missingParam('code');
  const rows =
    code.length > 512
      ? []
      : await ctx.database.db
          .select()
          .from(oauthAccessGrants)
          .where(eq(oauthAccessGrants.tokenHash, hashSecret(code)))
          .limit(1);
  const grant = rows[0];
  const usesPkce = grant?.codeChallenge != null;
  if (usesPkce && !params.codeVerifier) throw missingParam('code_verifier');
  if (!params.redirectUri) throw missingParam('redirect_uri');
  if (
    grant === undefined ||
    grant.applicationId !== application.id ||
    grant.revokedAt !== null ||
    grant.expiresAt.getTime() <= Date.now()
  ) {
    throw new OAuthError('invalid_grant');
  }
  if (!redirectUriMatches(params.redirectUri, grant.redirectUri)) throw new OAuthError('invalid_grant');
  // A verifier without a challenge is refused too, as Doorkeeper does: it was not this request's code.
  if (usesPkce || params.codeVerifier) {
    const verifier = params.codeVerifier ?? '';
    if (
      !usesPkce ||
      !CODE_VERIFIER.test(verifier) ||
      !safeEqual(codeChallengeS256(verifier), grant.codeChallenge ?? '')
    ) {
      throw new OAuthError('invalid_grant');
    }
  }
  // Single use: only the request that marks the grant used gets a token, even when two race.
  const used = await ctx.database.db
    .update(oauthAccessGrants)
    .set({ revokedAt: new Date() })
    .where(and(eq(oauthAccessGrants.id, grant.id), isNull(oauthAccessGrants.revokedAt)))
    .returning({ id: oauthAccessGrants.id });
  if (used.length === 0) throw new OAuthError('invalid_grant');
  return issueAccessToken(ctx, {
    applicationId: application.id,
    userId: grant.userId,
    scopes: grant.scopes.split(' ').filter(Boolean),
  });
}

/**
 * The scopes a token request asks for: the `scope` parameter, or Doorkeeper's default (`read`) when
 * absent; every one must be known and within the application's scopes.
 */
export function requestedScopes(application: ApplicationRecord, scope: string | undefined): string[] {
  const scopes = parseScopes(scope);
  if (unknownScopes(scopes).length > 0 || !scopesWithin(scopes, applicationScopes(application))) {
    throw new OAuthError('invalid_scope');
  }
  return scopes;
}

/** `grant_type=client_credentials`: a token for the application itself (no user). */
export function clientCredentialsToken(
  ctx: Pick<Context, 'database'>,
  application: ApplicationRecord,
  params: { scope?: string },
): Promise<IssuedToken> {
  const scopes = requestedScopes(application, params.scope);
  return issueAccessToken(ctx, { applicationId: application.id, userId: null, scopes });
}

/** Instance setting key for the password grant (default on). */
export const PASSWORD_GRANT_SETTING = 'oauth_password_grant';

/** Whether `grant_type=password` is accepted (instance setting `oauth_password_grant`, on by default). */
export async function passwordGrantEnabled(ctx: Pick<Context, 'database'>): Promise<boolean> {
  return (await getSettings(ctx)).oauth_password_grant;
}

/**
 * `grant_type=password`: `username` is the e-mail address (as Mastodon) or the username. Refused —
 * with the same answer as a wrong password — for users with two-factor authentication (the second
 * factor cannot be given here), disabled users and suspended accounts. Unconfirmed and not yet
 * approved users get their token, as in Mastodon: the API then answers 403 with the reason, and the
 * token is what the app needs to ask for a new confirmation e-mail.
 */
export async function passwordToken(
  ctx: Pick<Context, 'database'>,
  application: ApplicationRecord,
  params: { username?: string; password?: string; scope?: string },
): Promise<IssuedToken> {
  if (!(await passwordGrantEnabled(ctx))) throw new OAuthError('unsupported_grant_type');
  if (!params.username) throw missingParam('username');
  if (!params.password) throw missingParam('password');
  const scopes = requestedScopes(application, params.scope);
  const found = await findUserByLogin(ctx, params.username);
  // Verify against a dummy hash when there is no such user, so both cases take as long.
  const valid = await verifyPassword(
    params.password,
    found?.user.encryptedPassword ?? (await dummyPasswordHash()),
  );
  if (
    found === undefined ||
    !valid ||
    found.user.otpRequiredForLogin ||
    found.user.disabled ||
    found.account.suspendedAt !== null
  ) {
    throw new OAuthError('invalid_grant');
  }
  return issueAccessToken(ctx, { applicationId: application.id, userId: found.user.id, scopes });
}

export type RevokeResult = 'revoked' | 'unknown' | 'forbidden';

/**
 * RFC 7009 revocation by an authenticated client: an unknown or already revoked token is not an
 * error; a token issued to another application is refused (Doorkeeper's rule); a token issued with
 * no application (made by the server itself) may be revoked by any authenticated client.
 */
export async function revokeTokenForClient(
  ctx: Pick<Context, 'database' | 'streams'>,
  application: ApplicationRecord,
  token: string,
): Promise<RevokeResult> {
  if (token === '' || token.length > 512) return 'unknown';
  const rows = await ctx.database.db
    .select({ id: oauthAccessTokens.id, applicationId: oauthAccessTokens.applicationId })
    .from(oauthAccessTokens)
    .where(and(eq(oauthAccessTokens.tokenHash, hashSecret(token)), isNull(oauthAccessTokens.revokedAt)))
    .limit(1);
  const row = rows[0];
  if (row === undefined) return 'unknown';
  if (row.applicationId !== null && row.applicationId !== application.id) return 'forbidden';
  const revoked = await ctx.database.db
    .update(oauthAccessTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(oauthAccessTokens.id, row.id), isNull(oauthAccessTokens.revokedAt)))
    .returning({ id: oauthAccessTokens.id });
  await ctx.streams.tokensRevoked(revoked.map((r) => r.id));
  return 'revoked';
}
