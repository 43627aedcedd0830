import type { FastifyInstance } from 'fastify';
import type { Context } from '../domain/context.ts';
import { confirmationRoutes } from './auth/confirmation.ts';
import { passwordResetRoutes } from './auth/password.ts';
import { signInRoutes } from './auth/sign-in.ts';
import { accountSettingsRoutes } from './settings/account.ts';
import { twoFactorRoutes } from './settings/two-factor.ts';

/** The server-rendered pages of sign-in, e-mail confirmation, password reset and account settings. */
export function pageRoutes(app: FastifyInstance, ctx: Context): void {
  signInRoutes(app, ctx);
  confirmationRoutes(app, ctx);
  passwordResetRoutes(app, ctx);
  accountSettingsRoutes(app, ctx);
  twoFactorRoutes(app, ctx);
}
