import type { FastifyInstance, FastifyReply } from 'fastify';
import { changePassword } from '../../domain/accounts/password-reset.ts';
import { verifyPassword } from '../../domain/accounts/passwords.ts';
import { changeEmail } from '../../domain/accounts/registration.ts';
import {
  listAuthorizedApplications,
  revokeAuthorizedApplication,
} from '../../domain/auth/authorized-applications.ts';
import { twoFactorEnabled } from '../../domain/auth/two-factor.ts';
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
import { html, PageError, redirectPage, type SafeHtml, sendPage } from '../layout.ts';
import { requireWebUser, type SignedInSession } from '../session.ts';

/**
 * The signed-in pages: a home page listing the others (there is no web app yet), password and
 * e-mail changes, and the authorized apps with revoke.
 */

/** Password and e-mail changes: 10 per 10 minutes per user (Mastodon's throttle_password_change). */
export const ACCOUNT_CHANGE_LIMIT = { limit: 10, windowSeconds: 10 * 60 };

export async function settingsPage(
  ctx: Context,
  reply: FastifyReply,
  signedIn: SignedInSession,
  options: { title: string; body: SafeHtml; status?: number },
): Promise<FastifyReply> {
  const body = html`${options.body}
<nav aria-label="Settings">
<h2>Settings</h2>
<ul>
<li><a href="/settings">Account</a></li>
<li><a href="/settings/password">Password</a></li>
<li><a href="/settings/email">E-mail address</a></li>
<li><a href="/settings/two_factor_authentication">Two-factor authentication</a></li>
<li><a href="/settings/applications">Authorized apps</a></li>
</ul>
</nav>
<form method="post" action="/auth/sign_out">
${csrfField(signedIn.session)}
<button type="submit" class="secondary">Log out</button>
</form>`;
  return sendPage(reply, {
    title: options.title,
    siteTitle: (await getSettings(ctx)).site_title,
    status: options.status ?? 200,
    body,
  });
}

export async function accountChangeAllowed(ctx: Context, userId: string): Promise<boolean> {
  const limit = await withinRateLimit(
    ctx,
    `account_change:user:${userId}`,
    ACCOUNT_CHANGE_LIMIT.limit,
    ACCOUNT_CHANGE_LIMIT.windowSeconds,
  );
  return limit.ok;
}

const formatDate = (date: Date | null): string => (date ? date.toISOString().slice(0, 10) : 'never');

async function renderPasswordForm(
  ctx: Context,
  reply: FastifyReply,
  signedIn: SignedInSession,
  state: { errors?: FieldErrors; error?: string; notice?: string; status?: number } = {},
): Promise<FastifyReply> {
  const errors = state.errors ?? {};
  return settingsPage(ctx, reply, signedIn, {
    title: 'Change password',
    status: state.status ?? 200,
    body: html`${notice(state.notice)}${alert(state.error)}
<p>Changing your password logs you out everywhere else.</p>
<form method="post" action="/settings/password" novalidate>
${csrfField(signedIn.session)}
${field({ name: 'user[current_password]', id: 'user_current_password', label: 'Current password', type: 'password', autocomplete: 'current-password', required: true, error: errors.current_password })}
${field({ name: 'user[password]', id: 'user_password', label: 'New password', type: 'password', autocomplete: 'new-password', required: true, hint: '8 to 72 characters.', error: errors.password })}
${field({ name: 'user[password_confirmation]', id: 'user_password_confirmation', label: 'Confirm new password', type: 'password', autocomplete: 'new-password', required: true, error: errors.password_confirmation })}
<button type="submit">Save changes</button>
</form>`,
  });
}

async function renderEmailForm(
  ctx: Context,
  reply: FastifyReply,
  signedIn: SignedInSession,
  state: { errors?: FieldErrors; error?: string; notice?: string; status?: number; email?: string } = {},
): Promise<FastifyReply> {
  const errors = state.errors ?? {};
  const { user } = signedIn;
  return settingsPage(ctx, reply, signedIn, {
    title: 'Change e-mail address',
    status: state.status ?? 200,
    body: html`${notice(state.notice)}${alert(state.error)}
<p>Your current address is <strong>${user.email}</strong>.</p>
${
  user.unconfirmedEmail
    ? html`<p>A confirmation link was sent to <strong>${user.unconfirmedEmail}</strong>; your address changes when you follow it.</p>`
    : ''
}
<form method="post" action="/settings/email" novalidate>
${csrfField(signedIn.session)}
${field({ name: 'user[email]', id: 'user_email', label: 'New e-mail address', type: 'email', autocomplete: 'email', required: true, value: state.email ?? '', error: errors.email })}
${field({ name: 'user[current_password]', id: 'user_current_password', label: 'Current password', type: 'password', autocomplete: 'current-password', required: true, error: errors.current_password })}
<button type="submit">Save changes</button>
</form>`,
  });
}

export function accountSettingsRoutes(app: FastifyInstance, ctx: Context): void {
  app.get('/settings', async (request, reply) => {
    const signedIn = await requireWebUser(ctx, request, reply);
    if (signedIn === null) return reply;
    const { user, account } = signedIn;
    return settingsPage(ctx, reply, signedIn, {
      title: 'Your account',
      body: html`<dl>
<dt>Username</dt><dd>@${account.username}@${ctx.config.localDomain}</dd>
<dt>E-mail address</dt><dd>${user.email}</dd>
<dt>Two-factor authentication</dt><dd>${twoFactorEnabled(user) ? 'Enabled' : 'Disabled'}</dd>
</dl>`,
    });
  });

  app.get('/settings/password', async (request, reply) => {
    const signedIn = await requireWebUser(ctx, request, reply);
    if (signedIn === null) return reply;
    return renderPasswordForm(ctx, reply, signedIn);
  });

  app.post('/settings/password', async (request, reply) => {
    const signedIn = await requireWebUser(ctx, request, reply);
    if (signedIn === null) return reply;
    verifyCsrf(signedIn.session, request.body, request);
    if (!(await accountChangeAllowed(ctx, signedIn.user.id))) {
      return renderPasswordForm(ctx, reply, signedIn, { error: RATE_LIMITED, status: 429 });
    }
    const body = request.body;
    try {
      await changePassword(ctx, signedIn.user, {
        currentPassword: param(body, 'user', 'current_password'),
        password: param(body, 'user', 'password'),
        passwordConfirmation: param(body, 'user', 'password_confirmation'),
        sessionId: signedIn.session.id,
      });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return renderPasswordForm(ctx, reply, signedIn, {
        errors: fieldErrors(error, {
          current_password: 'Current password',
          password: 'Password',
          password_confirmation: 'Password confirmation',
        }),
        status: 422,
      });
    }
    return renderPasswordForm(ctx, reply, signedIn, { notice: 'Your password has been changed.' });
  });

  // Unconfirmed users may fix a mistyped address, so this page does not require a confirmed one.
  app.get('/settings/email', async (request, reply) => {
    const signedIn = await requireWebUser(ctx, request, reply, { functional: false });
    if (signedIn === null) return reply;
    return renderEmailForm(ctx, reply, signedIn);
  });

  app.post('/settings/email', async (request, reply) => {
    const signedIn = await requireWebUser(ctx, request, reply, { functional: false });
    if (signedIn === null) return reply;
    verifyCsrf(signedIn.session, request.body, request);
    const email = param(request.body, 'user', 'email');
    if (!(await accountChangeAllowed(ctx, signedIn.user.id))) {
      return renderEmailForm(ctx, reply, signedIn, { email, error: RATE_LIMITED, status: 429 });
    }
    const current = param(request.body, 'user', 'current_password');
    if (current === '' || !(await verifyPassword(current, signedIn.user.encryptedPassword))) {
      return renderEmailForm(ctx, reply, signedIn, {
        email,
        errors: {
          current_password:
            current === '' ? "Current password can't be blank" : 'Current password is invalid',
        },
        status: 422,
      });
    }
    try {
      await changeEmail(ctx, signedIn.user, email);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return renderEmailForm(ctx, reply, signedIn, {
        email,
        errors: fieldErrors(error, { email: 'E-mail address' }),
        status: 422,
      });
    }
    return renderEmailForm(ctx, reply, signedIn, {
      notice: `We sent a confirmation link to ${email.trim().toLowerCase()}. Your address changes when you follow it.`,
    });
  });

  app.get('/settings/applications', async (request, reply) => {
    const signedIn = await requireWebUser(ctx, request, reply);
    if (signedIn === null) return reply;
    const apps = await listAuthorizedApplications(ctx, signedIn.user.id);
    const revoked = (request.query as Record<string, unknown> | undefined)?.revoked === '1';
    const rows = apps.map(
      (app) => html`<tr>
<th scope="row">${app.website && /^https?:\/\//i.test(app.website) ? html`<a href="${app.website}" rel="noopener noreferrer">${app.name}</a>` : app.name}</th>
<td>${app.scopes.join(' ')}</td>
<td>${formatDate(app.authorizedAt)}</td>
<td>${formatDate(app.lastUsedAt)}</td>
<td><form method="post" action="/settings/applications/${app.id}/revoke">
${csrfField(signedIn.session)}
<button type="submit" class="secondary" aria-label="Revoke ${app.name}">Revoke</button>
</form></td>
</tr>`,
    );
    return settingsPage(ctx, reply, signedIn, {
      title: 'Authorized apps',
      body: html`${revoked ? notice('The app can no longer use your account.') : ''}
${
  apps.length === 0
    ? html`<p>You have not authorized any app.</p>`
    : html`<p>These apps can use your account. Revoking one signs it out at once.</p>
<table>
<thead><tr><th scope="col">App</th><th scope="col">Permissions</th><th scope="col">Authorized</th><th scope="col">Last used</th><th scope="col"><span class="hint">Action</span></th></tr></thead>
<tbody>${rows}</tbody>
</table>`
}`,
    });
  });

  app.post<{ Params: { id: string } }>('/settings/applications/:id/revoke', async (request, reply) => {
    const signedIn = await requireWebUser(ctx, request, reply);
    if (signedIn === null) return reply;
    verifyCsrf(signedIn.session, request.body, request);
    if (!/^\d{1,20}$/.test(request.params.id)) throw new PageError(404, 'Not found', 'No such app.');
    const count = await revokeAuthorizedApplication(ctx, signedIn.user.id, request.params.id);
    if (count === 0) throw new PageError(404, 'Not found', 'No such authorized app.');
    return redirectPage(reply, '/settings/applications?revoked=1');
  });
}
