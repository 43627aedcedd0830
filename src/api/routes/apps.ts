import type { FastifyInstance, FastifyRequest } from 'fastify';
import { serializeApplication, serializeCredentialApplication } from '../../convert/to-api/application.ts';
import type { Context } from '../../domain/context.ts';
import { createApplication } from '../../domain/oauth/applications.ts';
import { notFound } from '../errors.ts';
import { throttle, throttleIp, tooManyRequests } from '../rate-limit.ts';

/** Mastodon's `oauth_application_registrations/ip` throttle: 5 registrations per IP per 10 minutes. */
export const APP_REGISTRATIONS_LIMIT = 5;
export const APP_REGISTRATIONS_PERIOD_SECONDS = 10 * 60;

/** Rails-style params: the query string, overridden by the body (form or JSON). */
function params(request: FastifyRequest): Record<string, unknown> {
  const query = (request.query ?? {}) as Record<string, unknown>;
  const body = request.body;
  return body !== null && typeof body === 'object' && !Array.isArray(body)
    ? { ...query, ...(body as Record<string, unknown>) }
    : { ...query };
}

/** Mastodon's `oauth_application_registrations/ip` throttle, counted per IP (IPv6 per /64). */
async function throttleRegistrations(ctx: Context, request: FastifyRequest): Promise<void> {
  const result = await throttle(
    ctx,
    'oauth_application_registrations/ip',
    throttleIp(request.ip),
    APP_REGISTRATIONS_LIMIT,
    APP_REGISTRATIONS_PERIOD_SECONDS,
  );
  if (!result.allowed) throw tooManyRequests(result);
}

/** OAuth client registration (mastodon.md §1.9): `POST /api/v1/apps`, `GET /api/v1/apps/verify_credentials`. */
export function appRoutes(app: FastifyInstance, ctx: Context): void {
  app.post('/api/v1/apps', async (request) => {
    await throttleRegistrations(ctx, request);
    const p = params(request);
    // Invalid fields throw a ValidationError: 422 naming each of them.
    const { application, clientSecret } = await createApplication(ctx, {
      name: p.client_name,
      redirectUris: p.redirect_uris,
      scopes: p.scopes,
      website: p.website,
    });
    return serializeCredentialApplication(application, clientSecret, ctx);
  });

  // Any valid token of the app, whatever its scopes or user (Mastodon's valid_doorkeeper_token?).
  app.get('/api/v1/apps/verify_credentials', { config: { auth: {} } }, async (request) => {
    const application = request.auth?.application;
    if (application == null) throw notFound();
    return serializeApplication(application, ctx);
  });
}
