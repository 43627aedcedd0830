import { DomainError, type DomainErrorKind, NOT_PERMITTED, RECORD_NOT_FOUND } from '../errors.ts';

// Removed once the statuses split lands: the call sites then throw DomainError.
export class StatusError extends DomainError {}

export type StatusErrorKind = DomainErrorKind;

export const NOT_FOUND = RECORD_NOT_FOUND;
/** Mastodon::NotPermittedError's text. */
export const NOT_ALLOWED = NOT_PERMITTED;
export const IN_REPLY_NOT_FOUND = 'The post you are trying to reply to does not appear to exist.';
export const RETRY_LATER = 'There was a temporary problem serving your request, please try again';

export const notFound = () => new StatusError('not_found', NOT_FOUND);
export const notAllowed = () => new StatusError('forbidden', NOT_ALLOWED);
