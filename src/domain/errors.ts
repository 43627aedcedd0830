/**
 * The one error type of the domain: a refusal with its `kind`, Mastodon's message and, sometimes,
 * extra members of the error body. The domain says what went wrong; src/http/errors.ts alone turns
 * the kind into an HTTP status (not_found 404, forbidden 403, unprocessable 422, conflict 409,
 * rate_limited 429, unavailable 503). Pages catch it by kind where they show it in a form; the CLI
 * prints its message.
 *
 * Subclasses exist only where the HTTP answer needs more than kind and message: ValidationError
 * (`details`), ActionLimitError (the window, for X-RateLimit-*), OAuthError (RFC 6749's code).
 */
export type DomainErrorKind =
  | 'not_found'
  | 'forbidden'
  | 'unprocessable'
  | 'conflict'
  | 'rate_limited'
  | 'unavailable';

export class DomainError extends Error {
  readonly kind: DomainErrorKind;
  /** Members the error body carries beside `error` (Mastodon adds some, e.g. `unexpected_accounts`). */
  readonly extra: Record<string, unknown> | undefined;

  constructor(kind: DomainErrorKind, message: string, extra?: Record<string, unknown>) {
    super(message);
    this.name = 'DomainError';
    this.kind = kind;
    this.extra = extra;
  }
}

/** Whether `error` is a DomainError, of one of `kinds` when they are given. */
export function isDomainError(error: unknown, ...kinds: DomainErrorKind[]): error is DomainError {
  return error instanceof DomainError && (kinds.length === 0 || kinds.includes(error.kind));
}

/** ActiveRecord::RecordNotFound's text, Mastodon's answer for anything missing or not visible. */
export const RECORD_NOT_FOUND = 'Record not found';
/** Mastodon::NotPermittedError's text. */
export const NOT_PERMITTED = 'This action is not allowed';

export const notFound = (message: string = RECORD_NOT_FOUND): DomainError =>
  new DomainError('not_found', message);
export const forbidden = (message: string = NOT_PERMITTED): DomainError =>
  new DomainError('forbidden', message);
/** A refused model validation without per-field details: Rails' "Validation failed: …". */
export const validationFailed = (message: string): DomainError =>
  new DomainError('unprocessable', `Validation failed: ${message}`);
