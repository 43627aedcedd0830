import type { FastifyRequest } from 'fastify';
import { safeEqual } from '../domain/auth/secrets.ts';
import type { WebSessionRecord } from '../domain/auth/sessions.ts';
import { html, PageError, type SafeHtml } from './layout.ts';

/**
 * CSRF protection of every form: each session (anonymous ones included, so the sign-in form is
 * covered) has a random token; forms carry it in a hidden field named as Rails names it, and a POST
 * is refused unless it sends the same token. SameSite=Lax cookies already keep most cross-site
 * posts out; the token also covers browsers and cases where they do not.
 */
export const CSRF_FIELD = 'authenticity_token';

export function csrfField(session: Pick<WebSessionRecord, 'csrfToken'>): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${session.csrfToken}">`;
}

export const CSRF_ERROR_TITLE = 'The change you wanted was rejected';
export const CSRF_ERROR_MESSAGE =
  'This form has expired or was not sent from this site. Go back, reload the page and try again.';

/**
 * Throws a 422 page unless the request carries the session's token, in the form body or (for
 * scripted DELETEs) the `X-CSRF-Token` header. Compared in constant time.
 */
export function verifyCsrf(
  session: Pick<WebSessionRecord, 'csrfToken'> | null,
  body: unknown,
  request?: FastifyRequest,
): void {
  const fromBody =
    body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[CSRF_FIELD] : undefined;
  const fromHeader = request?.headers['x-csrf-token'];
  const given =
    typeof fromBody === 'string' ? fromBody : typeof fromHeader === 'string' ? fromHeader : undefined;
  if (session === null || given === undefined || !safeEqual(given, session.csrfToken)) {
    throw new PageError(422, CSRF_ERROR_TITLE, CSRF_ERROR_MESSAGE);
  }
}
