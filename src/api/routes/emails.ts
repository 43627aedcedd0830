import type { FastifyInstance } from 'fastify';
import { awaitingConfirmation, changeEmail, sendConfirmation } from '../../domain/accounts/registration.ts';
import type { Context } from '../../domain/context.ts';
import { AUTH_ERRORS } from '../auth.ts';
import { ApiError } from '../errors.ts';

export const EMAIL_ERRORS = {
  otherApplication: 'This method is only available to the application the user originally signed-up with',
  notAwaiting: 'This method is only available while the e-mail is awaiting confirmation',
} as const;

/**
 * E-mail confirmation for apps that signed a user up (Mastodon's Api::V1::Emails): the signing-up
 * app may resend the link, or correct the address first, while it awaits confirmation; any app may
 * ask whether the user has confirmed. Neither needs a confirmed user, unlike the rest of the API.
 */
export function emailRoutes(app: FastifyInstance, ctx: Context): void {
  app.post(
    '/api/v1/emails/confirmations',
    { config: { auth: { scopes: ['write', 'write:accounts'] } } },
    async (request) => {
      const auth = request.auth!;
      const user = auth.user;
      if (auth.account?.suspendedAt != null) throw new ApiError(403, AUTH_ERRORS.disabled);
      if (
        user === null ||
        user.createdByApplicationId === null ||
        user.createdByApplicationId !== auth.application?.id
      ) {
        throw new ApiError(403, EMAIL_ERRORS.otherApplication);
      }
      if (!awaitingConfirmation(user)) throw new ApiError(403, EMAIL_ERRORS.notAwaiting);
      const email = (request.body as Record<string, unknown> | undefined)?.email;
      if (email !== undefined) {
        if (typeof email !== 'string') throw new ApiError(422, 'email must be a string');
        await changeEmail(ctx, user, email);
      } else {
        await sendConfirmation(ctx, user.id);
      }
      return {};
    },
  );

  app.get(
    '/api/v1/emails/check_confirmation',
    { config: { auth: { scopes: ['read', 'read:accounts'], optional: true } } },
    async (request, reply) => {
      const auth = request.auth;
      if (auth?.user == null) throw new ApiError(401, AUTH_ERRORS.userRequired);
      if (auth.account?.suspendedAt != null) throw new ApiError(403, AUTH_ERRORS.disabled);
      // A bare JSON boolean, as Mastodon answers.
      return reply
        .type('application/json; charset=utf-8')
        .send(JSON.stringify(auth.user.confirmedAt !== null));
    },
  );
}
