import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { actionLimitHeaders } from '../api/action-limits.ts';
import { ApiError, errorBody, INTERNAL_ERROR } from '../api/errors.ts';
import { ParamsError } from '../api/params.ts';
import { sentBasicCredentials } from '../api/routes/oauth.ts';
import { ActionLimitError } from '../domain/action-limits.ts';
import { DomainError, type DomainErrorKind } from '../domain/errors.ts';
import { isClientAuthentication, OAuthError } from '../domain/oauth/errors.ts';
import { PageError, sendPageError } from '../pages/layout.ts';

/** The one place a domain refusal becomes an HTTP status (Mastodon's codes for each). */
export const STATUS_OF_KIND: Readonly<Record<DomainErrorKind, number>> = {
  not_found: 404,
  forbidden: 403,
  unprocessable: 422,
  conflict: 409,
  rate_limited: 429,
  unavailable: 503,
};

/** Turns whatever was thrown into Mastodon's JSON error; anything unexpected becomes a logged 500. */
export function sendError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof PageError) {
    sendPageError(reply, error);
    return;
  }
  reply.header('cache-control', 'private, no-store');
  if (error instanceof ApiError) {
    if (error.headers) reply.headers(error.headers);
    if (error.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    reply.code(error.statusCode).send(errorBody(error.message, error.extra));
    return;
  }
  if (error instanceof OAuthError) {
    sendOAuthError(error, request, reply);
    return;
  }
  if (error instanceof DomainError) {
    const status = STATUS_OF_KIND[error.kind];
    if (error instanceof ActionLimitError) {
      reply.headers({ ...actionLimitHeaders(error.state), 'x-ratelimit-remaining': '0' });
    }
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    reply.code(status).send(errorBody(error.message, error.extra));
    return;
  }
  if (error instanceof ParamsError) {
    reply.code(400).send(errorBody(error.message));
    return;
  }
  const fastifyError = error as FastifyError;
  const status = fastifyError.statusCode;
  if (
    typeof fastifyError.code === 'string' &&
    fastifyError.code.startsWith('FST_') &&
    status !== undefined &&
    status >= 400 &&
    status < 500
  ) {
    reply.code(status).send(errorBody(FRAMEWORK_MESSAGES[fastifyError.code] ?? fastifyError.message));
    return;
  }
  if (fastifyError.validation !== undefined) {
    reply.code(400).send(errorBody(fastifyError.message));
    return;
  }
  request.log.error({ err: error }, 'request failed');
  reply.code(500).send(errorBody(INTERNAL_ERROR));
}

/**
 * RFC 6749 §5.2 as Doorkeeper answers it: `{error, error_description}`, never cached; 401 with a
 * WWW-Authenticate challenge when the client could not be authenticated — Basic when the client
 * sent Basic credentials (the scheme it used, as the RFC asks), else Bearer — and 400 otherwise.
 */
function sendOAuthError(error: OAuthError, request: FastifyRequest, reply: FastifyReply): void {
  const status = isClientAuthentication(error.code) ? 401 : 400;
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  if (status === 401) {
    reply.header(
      'www-authenticate',
      sentBasicCredentials(request)
        ? 'Basic realm="Woolly"'
        : `Bearer realm="Woolly", error="${error.code}", error_description="${error.description.replace(/"/g, "'")}"`,
    );
  }
  reply.code(status).send(errorBody(error.code, { error_description: error.description }));
}

const FRAMEWORK_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'Malformed JSON in request body',
  FST_ERR_CTP_BODY_TOO_LARGE: 'Request body is too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported Content-Type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Request body size did not match Content-Length',
};
