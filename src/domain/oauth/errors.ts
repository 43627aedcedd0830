/**
 * OAuth 2 errors (RFC 6749 §4.1.2.1, §5.2) with the descriptions Mastodon's Doorkeeper gives
 * (config/locales/doorkeeper.en.yml). The HTTP layer turns them into a JSON body
 * `{error, error_description}` at the token endpoint, or a redirect / error page at authorize.
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

export class OAuthError extends Error {
  readonly code: OAuthErrorCode;
  readonly description: string;

  constructor(code: OAuthErrorCode, description: string = OAUTH_ERROR_DESCRIPTIONS[code]) {
    super(description);
    this.name = 'OAuthError';
    this.code = code;
    this.description = description;
  }
}

/** Doorkeeper's text for a missing parameter. */
export const missingParam = (name: string): OAuthError =>
  new OAuthError('invalid_request', `Missing required parameter: ${name}.`);

/** Doorkeeper answers 401 for failed client authentication, 400 for everything else. */
export function oauthErrorStatus(code: OAuthErrorCode): number {
  return code === 'invalid_client' || code === 'unauthorized_client' ? 401 : 400;
}
