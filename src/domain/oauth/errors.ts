import { DomainError } from '../errors.ts';

/**
 * OAuth 2 errors (RFC 6749 §4.1.2.1, §5.2) with the descriptions Mastodon's Doorkeeper gives
 * (config/locales/doorkeeper.en.yml). Thrown at the token and revocation endpoints, they are answered
 * by src/http/errors.ts as a JSON body `{error, error_description}` with the status RFC 6749 gives
 * the code; the authorize page (src/pages/oauth) receives them as a result and renders a redirect or
 * an error page instead.
 */
export const OAUTH_ERROR_DESCRIPTIONS = {
  invalid_request:
    'The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.',
  invalid_client:
    'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
  invalid_grant:
    'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
  unauthorized_client: 'The client is not authorized to perform this request using this method.',
  unsupported_grant_type: 'The authorization grant type is not supported by the authorization server.',
  invalid_scope: 'The requested scope is invalid, unknown, or malformed.',
  access_denied: 'The resource owner or authorization server denied the request.',
  unsupported_response_type: 'The authorization server does not support this response type.',
  invalid_redirect_uri: 'The redirect uri included is not valid.',
  server_error:
    'The authorization server encountered an unexpected condition which prevented it from fulfilling the request.',
} as const;

export type OAuthErrorCode = keyof typeof OAUTH_ERROR_DESCRIPTIONS;

/**
 * A DomainError carrying its RFC 6749 code, which decides the wire format and status. Its kind is
 * what the code means to the domain (client authentication failed → forbidden, else unprocessable);
 * the HTTP answer follows the code, not the kind.
 */
export class OAuthError extends DomainError {
  readonly code: OAuthErrorCode;
  readonly description: string;

  constructor(code: OAuthErrorCode, description: string = OAUTH_ERROR_DESCRIPTIONS[code]) {
    super(isClientAuthentication(code) ? 'forbidden' : 'unprocessable', description);
    this.code = code;
    this.description = description;
  }
}

/** The codes that say the client could not be authenticated (Doorkeeper answers them 401). */
export function isClientAuthentication(code: OAuthErrorCode): boolean {
  return code === 'invalid_client' || code === 'unauthorized_client';
}

/** Doorkeeper's text for a missing parameter. */
export const missingParam = (name: string): OAuthError =>
  new OAuthError('invalid_request', `Missing required parameter: ${name}.`);
