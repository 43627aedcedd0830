/**
 * A refusal of a status action that is not a field validation (those are ValidationError): the API
 * maps `kind` to Mastodon's status code (not_found 404, forbidden 403, unprocessable 422,
 * unavailable 503) and sends `message` with `extra` members.
 */
export type StatusErrorKind = 'not_found' | 'forbidden' | 'unprocessable' | 'unavailable';

export class StatusError extends Error {
  readonly kind: StatusErrorKind;
  readonly extra: Record<string, unknown> | undefined;

  constructor(kind: StatusErrorKind, message: string, extra?: Record<string, unknown>) {
    super(message);
    this.name = 'StatusError';
    this.kind = kind;
    this.extra = extra;
  }
}

export const NOT_FOUND = 'Record not found';
/** Mastodon::NotPermittedError's text. */
export const NOT_ALLOWED = 'This action is not allowed';
export const IN_REPLY_NOT_FOUND = 'The post you are trying to reply to does not appear to exist.';
export const RETRY_LATER = 'There was a temporary problem serving your request, please try again';

export const notFound = () => new StatusError('not_found', NOT_FOUND);
export const notAllowed = () => new StatusError('forbidden', NOT_ALLOWED);
