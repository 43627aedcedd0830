import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { actionLimitHeaders } from '../api/action-limits.ts';
import { ApiError, errorBody, INTERNAL_ERROR } from '../api/errors.ts';
import { ParamsError } from '../api/params.ts';
import { TOO_MANY_REQUESTS } from '../api/rate-limit.ts';
import { ActionLimitError } from '../domain/action-limits.ts';
import { ValidationError } from '../domain/validation.ts';
import { PageError, sendPageError } from '../pages/layout.ts';

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
  if (error instanceof ActionLimitError) {
    reply.headers({ ...actionLimitHeaders(error.state), 'x-ratelimit-remaining': '0' });
    reply.code(429).send(errorBody(TOO_MANY_REQUESTS));
    return;
  }
  if (error instanceof ParamsError) {
    reply.code(400).send(errorBody(error.message));
    return;
  }
  if (error instanceof ValidationError) {
    reply.code(422).send(errorBody(error.message, { details: error.details }));
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

const FRAMEWORK_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'Malformed JSON in request body',
  FST_ERR_CTP_BODY_TOO_LARGE: 'Request body is too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported Content-Type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Request body size did not match Content-Length',
};
