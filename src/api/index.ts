import type { FastifyInstance } from 'fastify';
import type { Context } from '../domain/context.ts';
import { registerAuth } from './auth.ts';
import { type RateLimitOptions, registerRateLimits } from './rate-limit.ts';
import { accountRoutes } from './routes/accounts.ts';
import { appRoutes } from './routes/apps.ts';
import { assetRoutes } from './routes/assets.ts';
import { emailRoutes } from './routes/emails.ts';
import { instanceRoutes } from './routes/instance.ts';
import { mediaRoutes } from './routes/media.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { oauthRoutes } from './routes/oauth.ts';
import { preferencesRoutes } from './routes/preferences.ts';
import { relationshipRoutes } from './routes/relationships.ts';
import { scheduledStatusRoutes } from './routes/scheduled-statuses.ts';
import { statusRoutes } from './routes/statuses.ts';
import { timelineRoutes } from './routes/timelines.ts';

/**
 * The request throttles and token authentication. They are hooks of the whole server, registered
 * before any route: the throttles also guard the sign-in page, and a page may read `request.auth`.
 */
export function registerApiHooks(app: FastifyInstance, ctx: Context, rateLimits?: RateLimitOptions): void {
  registerRateLimits(app, ctx, rateLimits);
  registerAuth(app, ctx);
}

/** Mastodon's REST API (`/api/v1`, `/api/v2`), the OAuth endpoints and the bundled images. */
export function apiRoutes(app: FastifyInstance, ctx: Context): void {
  assetRoutes(app);
  instanceRoutes(app, ctx);
  statusRoutes(app, ctx);
  mediaRoutes(app, ctx);
  scheduledStatusRoutes(app, ctx);
  timelineRoutes(app, ctx);
  notificationRoutes(app, ctx);
  accountRoutes(app, ctx);
  relationshipRoutes(app, ctx);
  emailRoutes(app, ctx);
  preferencesRoutes(app, ctx);
  appRoutes(app, ctx);
  oauthRoutes(app, ctx);
}
