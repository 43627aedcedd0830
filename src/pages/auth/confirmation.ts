import type { FastifyInstance, FastifyReply } from 'fastify';
import { confirmEmail, sendConfirmation } from '../../domain/accounts/registration.ts';
import type { Context } from '../../domain/context.ts';
import { getSettings } from '../../domain/settings/settings.ts';
import { csrfField, verifyCsrf } from '../csrf.ts';
import { alert, notice, RATE_LIMITED, withinRateLimit } from '../forms.ts';
import { html, redirectPage, sendPage } from '../layout.ts';
import {
  isFunctional,
  readWebSession,
  requireWebUser,
  SETUP_PATH,
  type SignedInSession,
} from '../session.ts';
import { HOME_PATH } from './sign-in.ts';

/**
 * The e-mail confirmation link, and the notice page of users who are signed in but cannot act yet:
 * their address is unconfirmed (with a button to send the link again) or their sign-up awaits
 * approval (Mastodon shows the same on /auth/setup and /auth/edit).
 */
export const CONFIRMATION_TEXTS = {
  confirmed: 'Your email address has been successfully confirmed.',
  sent: 'You will receive an email with instructions for how to confirm your email address in a few minutes. Please check your spam folder if you didn\u2019t receive this email.',
  unconfirmed: 'You have to confirm your email address before continuing.',
  pending: 'Your account is still under review.',
  invalid: 'This confirmation link is invalid. It may have been used already, or a newer link was sent.',
  expired: 'This confirmation link has expired. Sign in to request a new one.',
  emailTaken: 'This e-mail address has been taken by another account meanwhile.',
} as const;

/** Resending the link: 5 per 30 minutes per user, as Mastodon's e-mail throttles. */
const RESEND_LIMIT = { limit: 5, windowSeconds: 30 * 60 };

async function renderSetup(
  ctx: Context,
  reply: FastifyReply,
  signedIn: SignedInSession,
  state: { notice?: string; error?: string; status?: number } = {},
): Promise<FastifyReply> {
  const { user, session } = signedIn;
  const unconfirmed = user.confirmedAt === null;
  const address = user.unconfirmedEmail ?? user.email;
  const body = html`${notice(state.notice)}${alert(state.error)}
${
  unconfirmed
    ? html`<p>${CONFIRMATION_TEXTS.unconfirmed} We sent a link to <strong>${address}</strong>.</p>
<form method="post" action="/auth/confirmation">
${csrfField(session)}
<button type="submit">Send the confirmation link again</button>
</form>
<p><a href="/settings/email">Wrong address? Change it</a></p>`
    : html`<p>${CONFIRMATION_TEXTS.pending} You will get an e-mail when a moderator has looked at it.</p>`
}
<form method="post" action="/auth/sign_out">
${csrfField(session)}
<button type="submit" class="secondary">Log out</button>
</form>`;
  return sendPage(reply, {
    title: unconfirmed ? 'Confirm your e-mail address' : 'Your account is under review',
    siteTitle: (await getSettings(ctx)).site_title,
    status: state.status ?? 200,
    body,
  });
}

export function confirmationRoutes(app: FastifyInstance, ctx: Context): void {
  app.get(SETUP_PATH, async (request, reply) => {
    const signedIn = await requireWebUser(ctx, request, reply, { functional: false });
    if (signedIn === null) return reply;
    if (isFunctional(signedIn.user)) return redirectPage(reply, HOME_PATH, 302);
    return renderSetup(ctx, reply, signedIn);
  });

  app.post('/auth/confirmation', async (request, reply) => {
    const signedIn = await readWebSession(ctx, request);
    verifyCsrf(signedIn?.session ?? null, request.body, request);
    if (signedIn === null) return redirectPage(reply, '/auth/sign_in');
    const limit = await withinRateLimit(
      ctx,
      `confirmation:user:${signedIn.user.id}`,
      RESEND_LIMIT.limit,
      RESEND_LIMIT.windowSeconds,
    );
    if (!limit.ok) {
      reply.header('retry-after', String(limit.retryAfter));
      return renderSetup(ctx, reply, signedIn, { error: RATE_LIMITED, status: 429 });
    }
    const sent = await sendConfirmation(ctx, signedIn.user.id);
    if (!sent) return redirectPage(reply, HOME_PATH);
    return renderSetup(ctx, reply, signedIn, { notice: CONFIRMATION_TEXTS.sent });
  });

  app.get('/auth/confirmation', async (request, reply) => {
    const token = (request.query as Record<string, unknown> | undefined)?.confirmation_token;
    const siteTitle = (await getSettings(ctx)).site_title;
    const result = await confirmEmail(ctx, typeof token === 'string' ? token : '');
    if (!result.ok) {
      const [status, message] =
        result.reason === 'invalid'
          ? [404, CONFIRMATION_TEXTS.invalid]
          : result.reason === 'expired'
            ? [422, CONFIRMATION_TEXTS.expired]
            : [422, CONFIRMATION_TEXTS.emailTaken];
      return sendPage(reply, {
        title: 'E-mail confirmation failed',
        siteTitle,
        status,
        body: html`${alert(message)}<p><a href="/auth/sign_in">Log in</a></p>`,
      });
    }
    const signedIn = await readWebSession(ctx, request);
    const next = signedIn !== null && signedIn.user.id === result.user.id ? HOME_PATH : '/auth/sign_in';
    return sendPage(reply, {
      title: 'E-mail address confirmed',
      siteTitle,
      body: html`${notice(CONFIRMATION_TEXTS.confirmed)}
${result.user.approved ? '' : html`<p>${CONFIRMATION_TEXTS.pending}</p>`}
<p><a href="${next}">Continue</a></p>`,
    });
  });
}
