import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MISSING_AVATAR_PATH } from '../../convert/to-api/account.ts';
import { ALL_SCOPES } from '../../domain/auth/scopes.ts';
import type { IssuedToken } from '../../domain/auth/tokens.ts';
import type { Context } from '../../domain/context.ts';
import { authenticateClient } from '../../domain/oauth/applications.ts';
import { CODE_CHALLENGE_METHODS } from '../../domain/oauth/authorization.ts';
import { missingParam, OAuthError } from '../../domain/oauth/errors.ts';
import {
  clientCredentialsToken,
  exchangeAuthorizationCode,
  passwordGrantEnabled,
  passwordToken,
  revokeTokenForClient,
} from '../../domain/oauth/grants.ts';
import { mediaUrl } from '../../infra/storage/urls.ts';
import { currentUser } from '../auth.ts';
import { ApiError } from '../errors.ts';

/**
 * Mastodon's OAuth 2 endpoints (mastodon.md §2): the token endpoint, revocation (RFC 7009),
 * userinfo, and the RFC 8414 metadata document. The user-facing `/oauth/authorize` pages live in
 * src/pages/oauth. Errors are thrown as OAuthError; src/http/errors.ts answers them as RFC 6749 §5.2
 * with Doorkeeper's descriptions and status codes.
 */

const GRANT_TYPES = ['authorization_code', 'client_credentials', 'password'] as const;

/** Form or JSON body over the query string, every value a string (anything else is ignored). */
function oauthParams(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const source of [request.query, request.body]) {
    if (source === null || typeof source !== 'object' || Array.isArray(source)) continue;
    for (const [key, value] of Object.entries(source as Record<string, unknown>)) {
      if (typeof value === 'string') out[key] = value;
    }
  }
  return out;
}

/** application/x-www-form-urlencoded decoding of one Basic credential part (RFC 6749 §2.3.1). */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** `Authorization: Basic …` as client_secret_basic sends it; the credentials are group 1. */
const BASIC_CREDENTIALS = /^Basic\s+([A-Za-z0-9+/=_-]*)\s*$/i;

/** Whether the client authenticated with HTTP Basic (its 401 then challenges Basic, RFC 6749 §5.2). */
export function sentBasicCredentials(request: FastifyRequest): boolean {
  const header = request.headers.authorization;
  return typeof header === 'string' && BASIC_CREDENTIALS.test(header);
}

/** client_secret_basic first (the Authorization header), then client_secret_post. */
function clientCredentials(
  request: FastifyRequest,
  params: Record<string, string>,
): ClientCredentials | null {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = BASIC_CREDENTIALS.exec(header);
    if (match) {
      const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon === -1) return { clientId: formDecode(decoded), clientSecret: '' };
      return {
        clientId: formDecode(decoded.slice(0, colon)),
        clientSecret: formDecode(decoded.slice(colon + 1)),
      };
    }
  }
  if (params.client_id !== undefined) {
    return { clientId: params.client_id, clientSecret: params.client_secret ?? '' };
  }
  return null;
}

async function authenticatedClient(ctx: Context, request: FastifyRequest, params: Record<string, string>) {
  const credentials = clientCredentials(request, params);
  const application =
    credentials === null
      ? null
      : await authenticateClient(ctx, credentials.clientId, credentials.clientSecret);
  if (application === null) throw new OAuthError('invalid_client');
  return application;
}

/** Mastodon's Token entity. */
function serializeToken(token: IssuedToken) {
  return {
    access_token: token.accessToken,
    token_type: 'Bearer',
    scope: token.scopes.join(' '),
    created_at: Math.floor(token.createdAt.getTime() / 1000),
  };
}

function noStore(reply: FastifyReply): void {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

/** The OAuth server's metadata (RFC 8414), as Mastodon's `/.well-known/oauth-authorization-server`. */
export async function oauthMetadata(ctx: Context) {
  const base = ctx.config.baseUrl;
  const grantTypes = ['authorization_code', 'client_credentials'];
  if (await passwordGrantEnabled(ctx)) grantTypes.push('password');
  return {
    issuer: `${base}/`,
    authorization_endpoint: `${base}/oauth/authorize`,
    token_endpoint: `${base}/oauth/token`,
    revocation_endpoint: `${base}/oauth/revoke`,
    userinfo_endpoint: `${base}/oauth/userinfo`,
    scopes_supported: [...ALL_SCOPES],
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    grant_types_supported: grantTypes,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: [...CODE_CHALLENGE_METHODS],
    service_documentation: 'https://docs.joinmastodon.org/',
    app_registration_endpoint: `${base}/api/v1/apps`,
  };
}

export function oauthRoutes(app: FastifyInstance, ctx: Context): void {
  app.post('/oauth/token', async (request, reply) => {
    const params = oauthParams(request);
    const grantType = params.grant_type;
    if (!grantType) throw missingParam('grant_type');
    if (!(GRANT_TYPES as readonly string[]).includes(grantType)) {
      throw new OAuthError('unsupported_grant_type');
    }
    if (grantType === 'password' && !(await passwordGrantEnabled(ctx))) {
      throw new OAuthError('unsupported_grant_type');
    }
    const application = await authenticatedClient(ctx, request, params);
    let token: IssuedToken;
    if (grantType === 'authorization_code') {
      token = await exchangeAuthorizationCode(ctx, application, {
        code: params.code,
        redirectUri: params.redirect_uri,
        codeVerifier: params.code_verifier,
      });
    } else if (grantType === 'client_credentials') {
      token = await clientCredentialsToken(ctx, application, { scope: params.scope });
    } else {
      token = await passwordToken(ctx, application, {
        username: params.username,
        password: params.password,
        scope: params.scope,
      });
    }
    noStore(reply);
    return serializeToken(token);
  });

  app.post('/oauth/revoke', async (request, reply) => {
    const params = oauthParams(request);
    const application = await authenticatedClient(ctx, request, params);
    if (!params.token) throw missingParam('token');
    const result = await revokeTokenForClient(ctx, application, params.token);
    noStore(reply);
    if (result === 'forbidden') {
      // Doorkeeper's revocation answers this one 403, not the 401 RFC 6749 gives unauthorized_client
      // elsewhere (the client did authenticate; the token is not its own): said here, not thrown as OAuthError.
      throw new ApiError(403, 'unauthorized_client', {
        extra: { error_description: 'You are not authorized to revoke this token' },
      });
    }
    return {};
  });

  // Mastodon 4.4: the signed-in user's identity, for apps that only need to know who logged in.
  const userinfo = async (request: FastifyRequest) => {
    const { account } = currentUser(request);
    return {
      iss: `${ctx.config.baseUrl}/`,
      sub: account.uri,
      name: account.displayName,
      preferred_username: account.username,
      profile: account.url ?? account.uri,
      picture:
        account.avatarKey !== null
          ? mediaUrl(ctx.config, account.avatarKey)
          : `${ctx.config.baseUrl}${MISSING_AVATAR_PATH}`,
    };
  };
  const userinfoAuth = { config: { auth: { scopes: ['profile'], user: true } } };
  app.get('/oauth/userinfo', userinfoAuth, userinfo);
  app.post('/oauth/userinfo', userinfoAuth, userinfo);

  app.get('/.well-known/oauth-authorization-server', async () => oauthMetadata(ctx));
}
