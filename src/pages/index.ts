import type { FastifyInstance } from 'fastify';
import type { Context } from '../domain/context.ts';
import { confirmationRoutes } from './auth/confirmation.ts';
import { passwordResetRoutes } from './auth/password.ts';
import { signInRoutes } from './auth/sign-in.ts';
import { mediaLinkRoutes } from './media.ts';
import { oauthAuthorizeRoutes } from './oauth/authorize.ts';
import { accountSettingsRoutes } from './settings/account.ts';
import { twoFactorRoutes } from './settings/two-factor.ts';

/**
 * The server-rendered pages: sign-in, e-mail confirmation, password reset, account settings and the
 * OAuth consent page (`/oauth/authorize`), and the media links that redirect to stored files.
 */
export function pageRoutes(app: FastifyInstance, ctx: Context): void {
  signInRoutes(app, ctx);
  confirmationRoutes(app, ctx);
  passwordResetRoutes(app, ctx);
  accountSettingsRoutes(app, ctx);
  twoFactorRoutes(app, ctx);
  oauthAuthorizeRoutes(app, ctx);
  mediaLinkRoutes(app, ctx);
}
