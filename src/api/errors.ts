/**
 * Errors as the Mastodon API answers them: JSON `{"error": "…"}` with Mastodon's status codes
 * (DESIGN.md §4). Handlers throw an ApiError; the server's error handler turns it into the response.
 * Anything else that is thrown is a crash: 500 `Internal server error`, logged, never shown.
 */
export class ApiError extends Error {
  readonly statusCode: number;
  /** Extra members of the body (`error_description` on OAuth, `details` on validation). */
  readonly extra: Record<string, unknown> | undefined;
  /** Extra response headers (`Allow` on 405, `WWW-Authenticate` on 401, …). */
  readonly headers: Record<string, string> | undefined;

  constructor(
    statusCode: number,
    message: string,
    options: { extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.extra = options.extra;
    this.headers = options.headers;
  }
}

/** Mastodon's text for a missing record or route (ActiveRecord::RecordNotFound). */
export const RECORD_NOT_FOUND = 'Record not found';
export const INTERNAL_ERROR = 'Internal server error';

export const notFound = (message: string = RECORD_NOT_FOUND): ApiError => new ApiError(404, message);

/** The JSON body of an error response. */
export function errorBody(message: string, extra?: Record<string, unknown>): Record<string, unknown> {
  return { ...extra, error: message };
}
