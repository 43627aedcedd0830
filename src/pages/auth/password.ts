import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  findUserByResetToken,
  requestPasswordReset,
  resetPassword,
} from '../../domain/accounts/password-reset.ts';
import { normalizeEmail } from '../../domain/accounts/rules.ts';
import type { WebSessionRecord } from '../../domain/auth/sessions.ts';
import type { Context } from '../../domain/context.ts';
import { getSettings } from '../../domain/settings/settings.ts';
import { csrfField, verifyCsrf } from '../csrf.ts';
import {
  alert,
  type FieldErrors,
  field,
  fieldErrors,
  notice,
  param,
  RATE_LIMITED,
  ValidationError,
  withinRateLimit,
} from '../forms.ts';
import { html, sendPage } from '../layout.ts';
import { ensureSession, readAnySession } from '../session.ts';

/**
 * Forgotten passwords (Devise's recoverable as Mastodon configures it, paranoid): asking for a link
 * always gets the same answer, whether the address is known or not.
 */
export const PASSWORD_RESET_TEXTS = {
  sent: 'If your email address exists in our database, you will receive a password recovery link at your email address in a few minutes.',
  invalid: 'This password reset link is invalid or has expired. Request a new one.',
  updated: 'Your password has been changed successfully. You can now log in with it.',
} as const;

/** Mastodon's throttles on the reset form: 25 per 5 minutes per IP, 5 per 30 minutes per address. */
export const PASSWORD_RESET_LIMITS = {
  ip: { limit: 25, windowSeconds: 5 * 60 },
  email: { limit: 5, windowSeconds: 30 * 60 },
} as const;

async function renderRequestForm(
  ctx: Context,
  reply: FastifyReply,
  session: WebSessionRecord,
  state: { email?: string; error?: string; notice?: string; status?: number } = {},
): Promise<FastifyReply> {
  const body = html`${notice(state.notice)}${alert(state.error)}
<p>Enter the e-mail address of your account and we will send you a link to choose a new password.</p>
<form method="post" action="/auth/password" novalidate>
${csrfField(session)}
${field({
  name: 'user[email]',
  id: 'user_email',
  label: 'E-mail address',
  type: 'email',
  value: state.email ?? '',
  autocomplete: 'email',
  required: true,
})}
<button type="submit">Reset password</button>
</form>
<p><a href="/auth/sign_in">Log in</a></p>`;
  return sendPage(reply, {
    title: 'Reset password',
    siteTitle: (await getSettings(ctx)).site_title,
    status: state.status ?? 200,
    body,
  });
}

async function renderEditForm(
  ctx: Context,
  reply: FastifyReply,
  session: WebSessionRecord,
  token: string,
  state: { errors?: FieldErrors; status?: number } = {},
): Promise<FastifyReply> {
  const errors = state.errors ?? {};
  const body = html`${Object.keys(errors).length > 0 ? alert('Please review the problems below.') : ''}
<form method="post" action="/auth/password/edit" novalidate>
${csrfField(session)}
<input type="hidden" name="user[reset_password_token]" value="${token}">
${field({
  name: 'user[password]',
  id: 'user_password',
  label: 'New password',
  type: 'password',
  autocomplete: 'new-password',
  required: true,
  hint: '8 to 72 characters.',
  error: errors.password,
})}
${field({
  name: 'user[password_confirmation]',
  id: 'user_password_confirmation',
  label: 'Confirm new password',
  type: 'password',
  autocomplete: 'new-password',
  required: true,
  error: errors.password_confirmation,
})}
<button type="submit">Change password</button>
</form>`;
  return sendPage(reply, {
    title: 'Choose a new password',
    siteTitle: (await getSettings(ctx)).site_title,
    status: state.status ?? 200,
    body,
  });
}

async function invalidLink(ctx: Context, reply: FastifyReply, status: number): Promise<FastifyReply> {
  return sendPage(reply, {
    title: 'Reset password',
    siteTitle: (await getSettings(ctx)).site_title,
    status,
    body: html`${alert(PASSWORD_RESET_TEXTS.invalid)}<p><a href="/auth/password/new">Request a new link</a></p>`,
  });
}

export function passwordResetRoutes(app: FastifyInstance, ctx: Context): void {
  app.get('/auth/password/new', async (request, reply) => {
    const session = await ensureSession(ctx, request, reply);
    return renderRequestForm(ctx, reply, session);
  });

  app.post('/auth/password', async (request, reply) => {
    const found = await readAnySession(ctx, request);
    verifyCsrf(found?.session ?? null, request.body, request);
    const session = found!.session;
    const email = normalizeEmail(param(request.body, 'user', 'email'));
    const byIp = await withinRateLimit(
      ctx,
      `password_reset:ip:${request.ip}`,
      PASSWORD_RESET_LIMITS.ip.limit,
      PASSWORD_RESET_LIMITS.ip.windowSeconds,
    );
    const byEmail =
      email === ''
        ? { ok: true, retryAfter: 0 }
        : await withinRateLimit(
            ctx,
            `password_reset:email:${email}`,
            PASSWORD_RESET_LIMITS.email.limit,
            PASSWORD_RESET_LIMITS.email.windowSeconds,
          );
    if (!byIp.ok || !byEmail.ok) {
      reply.header('retry-after', String(Math.max(byIp.retryAfter, byEmail.retryAfter)));
      return renderRequestForm(ctx, reply, session, { email, error: RATE_LIMITED, status: 429 });
    }
    if (email === '') {
      return renderRequestForm(ctx, reply, session, { error: "E-mail address can't be blank", status: 422 });
    }
    await requestPasswordReset(ctx, email);
    return renderRequestForm(ctx, reply, session, { notice: PASSWORD_RESET_TEXTS.sent });
  });

  app.get('/auth/password/edit', async (request, reply) => {
    const token = (request.query as Record<string, unknown> | undefined)?.reset_password_token;
    if (typeof token !== 'string' || (await findUserByResetToken(ctx, token)) === undefined) {
      return invalidLink(ctx, reply, 404);
    }
    const session = await ensureSession(ctx, request, reply);
    return renderEditForm(ctx, reply, session, token);
  });

  // Devise's route is PUT /auth/password; HTML forms can only POST, so the form posts to /edit.
  const update = async (request: FastifyRequest, reply: FastifyReply) => {
    const found = await readAnySession(ctx, request);
    verifyCsrf(found?.session ?? null, request.body, request);
    const session = found!.session;
    const body = request.body;
    const token = param(body, 'user', 'reset_password_token');
    try {
      const result = await resetPassword(ctx, {
        token,
        password: param(body, 'user', 'password'),
        passwordConfirmation: param(body, 'user', 'password_confirmation'),
      });
      if (!result.ok) return invalidLink(ctx, reply, 422);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return renderEditForm(ctx, reply, session, token, {
        errors: fieldErrors(error, { password: 'Password', password_confirmation: 'Password confirmation' }),
        status: 422,
      });
    }
    return sendPage(reply, {
      title: 'Password changed',
      siteTitle: (await getSettings(ctx)).site_title,
      body: html`${notice(PASSWORD_RESET_TEXTS.updated)}<p><a href="/auth/sign_in">Log in</a></p>`,
    });
  };
  app.post('/auth/password/edit', update);
  app.put('/auth/password', update);
}
