import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { verifyPassword } from '../../domain/accounts/passwords.ts';
import {
  beginTwoFactorSetup,
  confirmTwoFactorSetup,
  disableTwoFactor,
  pendingTwoFactorSetup,
  regenerateRecoveryCodes,
  remainingRecoveryCodes,
  type TwoFactorSetup,
  twoFactorEnabled,
  verifyTotp,
} from '../../domain/auth/two-factor.ts';
import type { Context } from '../../domain/context.ts';
import { csrfField, verifyCsrf } from '../csrf.ts';
import { type FieldErrors, field, notice, param, RATE_LIMITED } from '../forms.ts';
import { html, raw, redirectPage, type SafeHtml } from '../layout.ts';
import { requireWebUser, type SignedInSession } from '../session.ts';
import { accountChangeAllowed, settingsPage } from './account.ts';

/**
 * Two-factor settings (Mastodon's /settings/two_factor_authentication): set up with a QR code and a
 * code from the app, recovery codes shown once, regenerate them with a code, disable with the
 * password and a code.
 */
export const TWO_FACTOR_TEXTS = {
  wrongCode: 'The entered code was invalid! Are server time and device time correct?',
  invalidCode: 'Invalid two-factor code',
  invalidPassword: 'Current password is invalid',
  enabled: 'Two-factor authentication successfully enabled',
  disabled: 'Two-factor authentication successfully disabled',
  regenerated: 'Recovery codes successfully regenerated',
} as const;

const BASE = '/settings/two_factor_authentication';

async function qrSvg(uri: string): Promise<SafeHtml> {
  // qrcode renders the SVG itself from the URI: no user text goes into the markup.
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
  return raw(svg.replace('<svg ', '<svg role="img" aria-label="QR code for your authenticator app" '));
}

function codeField(error: string | undefined, id = 'otp_attempt'): SafeHtml {
  return field({
    name: 'otp_attempt',
    id,
    label: 'Two-factor code',
    autocomplete: 'one-time-code',
    inputmode: 'numeric',
    required: true,
    error,
  });
}

async function renderSetup(
  ctx: Context,
  reply: FastifyReply,
  signedIn: SignedInSession,
  setup: TwoFactorSetup,
  state: { error?: string; status?: number } = {},
): Promise<FastifyReply> {
  return settingsPage(ctx, reply, signedIn, {
    title: 'Set up two-factor authentication',
    status: state.status ?? 200,
    body: html`<ol>
<li>Scan this QR code into Google Authenticator or a similar TOTP app on your phone. From now on, that app will generate codes that you will have to enter when logging in.</li>
<li>Enter the code the app shows to confirm.</li>
</ol>
<div class="qr">${await qrSvg(setup.uri)}</div>
<p>If you can\u2019t scan the QR code, enter this secret by hand:</p>
<p><code>${setup.secret}</code></p>
<form method="post" action="${BASE}/confirm" novalidate>
${csrfField(signedIn.session)}
${codeField(state.error)}
<button type="submit">Enable</button>
</form>`,
  });
}

function recoveryCodesBody(codes: readonly string[], message: string): SafeHtml {
  return html`${notice(message)}
<h2>Recovery codes</h2>
<p>If you ever lose access to your phone, you can use one of the recovery codes below to regain access to your account. <strong>Keep the recovery codes safe.</strong> Each works once; they are shown only now.</p>
<ul class="codes">${codes.map((c) => html`<li>${c}</li>`)}</ul>`;
}

async function renderStatus(
  ctx: Context,
  reply: FastifyReply,
  signedIn: SignedInSession,
  state: { errors?: FieldErrors; notice?: string; status?: number } = {},
): Promise<FastifyReply> {
  const { user, session } = signedIn;
  const errors = state.errors ?? {};
  if (!twoFactorEnabled(user)) {
    return settingsPage(ctx, reply, signedIn, {
      title: 'Two-factor authentication',
      status: state.status ?? 200,
      body: html`${notice(state.notice)}
<p>With two-factor authentication, logging in requires a code from an authenticator app on your phone as well as your password.</p>
<form method="post" action="${BASE}/setup">
${csrfField(session)}
<button type="submit">Set up</button>
</form>`,
    });
  }
  return settingsPage(ctx, reply, signedIn, {
    title: 'Two-factor authentication',
    status: state.status ?? 200,
    body: html`${notice(state.notice)}
<p>Two-factor authentication is enabled. Recovery codes left: ${remainingRecoveryCodes(user)}.</p>
<p><a href="${BASE}/recovery_codes">Generate new recovery codes</a></p>
<h2>Disable two-factor authentication</h2>
<form method="post" action="${BASE}/disable" novalidate>
${csrfField(session)}
${field({ name: 'current_password', id: 'current_password', label: 'Current password', type: 'password', autocomplete: 'current-password', required: true, error: errors.current_password })}
${codeField(errors.otp_attempt)}
<button type="submit">Disable 2FA</button>
</form>`,
  });
}

async function renderRegenerate(
  ctx: Context,
  reply: FastifyReply,
  signedIn: SignedInSession,
  state: { error?: string; status?: number } = {},
): Promise<FastifyReply> {
  return settingsPage(ctx, reply, signedIn, {
    title: 'Recovery codes',
    status: state.status ?? 200,
    body: html`<p>Recovery codes allow you to regain access to your account if you lose your phone. If you\u2019ve lost your recovery codes, you can regenerate them here. Your old recovery codes will be invalidated.</p>
<form method="post" action="${BASE}/recovery_codes" novalidate>
${csrfField(signedIn.session)}
${codeField(state.error)}
<button type="submit">Generate recovery codes</button>
</form>`,
  });
}

export function twoFactorRoutes(app: FastifyInstance, ctx: Context): void {
  const signedInWithCsrf = async (request: FastifyRequest, reply: FastifyReply) => {
    const signedIn = await requireWebUser(ctx, request, reply);
    if (signedIn !== null) verifyCsrf(signedIn.session, request.body, request);
    return signedIn;
  };

  app.get(BASE, async (request, reply) => {
    const signedIn = await requireWebUser(ctx, request, reply);
    if (signedIn === null) return reply;
    const pending = pendingTwoFactorSetup(ctx, signedIn.user, signedIn.account.username);
    if (pending !== null) return renderSetup(ctx, reply, signedIn, pending);
    return renderStatus(ctx, reply, signedIn);
  });

  app.post(`${BASE}/setup`, async (request, reply) => {
    const signedIn = await signedInWithCsrf(request, reply);
    if (signedIn === null) return reply;
    if (twoFactorEnabled(signedIn.user)) return redirectPage(reply, BASE);
    const setup = await beginTwoFactorSetup(ctx, signedIn.user, signedIn.account.username);
    return renderSetup(ctx, reply, signedIn, setup);
  });

  app.post(`${BASE}/confirm`, async (request, reply) => {
    const signedIn = await signedInWithCsrf(request, reply);
    if (signedIn === null) return reply;
    const pending = pendingTwoFactorSetup(ctx, signedIn.user, signedIn.account.username);
    if (pending === null) return redirectPage(reply, BASE);
    if (!(await accountChangeAllowed(ctx, signedIn.user.id))) {
      return renderSetup(ctx, reply, signedIn, pending, { error: RATE_LIMITED, status: 429 });
    }
    const codes = await confirmTwoFactorSetup(ctx, signedIn.user, param(request.body, 'otp_attempt'));
    if (codes === null) {
      return renderSetup(ctx, reply, signedIn, pending, { error: TWO_FACTOR_TEXTS.wrongCode, status: 422 });
    }
    return settingsPage(ctx, reply, signedIn, {
      title: 'Two-factor authentication',
      body: recoveryCodesBody(codes, TWO_FACTOR_TEXTS.enabled),
    });
  });

  const disable = async (request: FastifyRequest, reply: FastifyReply) => {
    const signedIn = await signedInWithCsrf(request, reply);
    if (signedIn === null) return reply;
    if (!twoFactorEnabled(signedIn.user)) return redirectPage(reply, BASE);
    if (!(await accountChangeAllowed(ctx, signedIn.user.id))) {
      return renderStatus(ctx, reply, signedIn, { errors: { otp_attempt: RATE_LIMITED }, status: 429 });
    }
    const errors: FieldErrors = {};
    const password = param(request.body, 'current_password');
    if (!(await verifyPassword(password, signedIn.user.encryptedPassword))) {
      errors.current_password = TWO_FACTOR_TEXTS.invalidPassword;
    }
    // The code is checked only with the right password, so a wrong password does not burn a code.
    if (
      errors.current_password === undefined &&
      !(await verifyTotp(ctx, signedIn.user, param(request.body, 'otp_attempt')))
    ) {
      errors.otp_attempt = TWO_FACTOR_TEXTS.invalidCode;
    }
    if (Object.keys(errors).length > 0) return renderStatus(ctx, reply, signedIn, { errors, status: 422 });
    await disableTwoFactor(ctx, signedIn.user.id);
    return renderStatus(
      ctx,
      reply,
      {
        ...signedIn,
        user: {
          ...signedIn.user,
          otpRequiredForLogin: false,
          otpSecretEncrypted: null,
          otpBackupCodes: null,
        },
      },
      { notice: TWO_FACTOR_TEXTS.disabled },
    );
  };
  app.post(`${BASE}/disable`, disable);
  app.delete(BASE, disable);

  app.get(`${BASE}/recovery_codes`, async (request, reply) => {
    const signedIn = await requireWebUser(ctx, request, reply);
    if (signedIn === null) return reply;
    if (!twoFactorEnabled(signedIn.user)) return redirectPage(reply, BASE, 302);
    return renderRegenerate(ctx, reply, signedIn);
  });

  app.post(`${BASE}/recovery_codes`, async (request, reply) => {
    const signedIn = await signedInWithCsrf(request, reply);
    if (signedIn === null) return reply;
    if (!twoFactorEnabled(signedIn.user)) return redirectPage(reply, BASE);
    if (!(await accountChangeAllowed(ctx, signedIn.user.id))) {
      return renderRegenerate(ctx, reply, signedIn, { error: RATE_LIMITED, status: 429 });
    }
    if (!(await verifyTotp(ctx, signedIn.user, param(request.body, 'otp_attempt')))) {
      return renderRegenerate(ctx, reply, signedIn, { error: TWO_FACTOR_TEXTS.invalidCode, status: 422 });
    }
    const codes = await regenerateRecoveryCodes(ctx, signedIn.user);
    return settingsPage(ctx, reply, signedIn, {
      title: 'Recovery codes',
      body: recoveryCodesBody(codes, TWO_FACTOR_TEXTS.regenerated),
    });
  });
}
