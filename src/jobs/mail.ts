import { prepareConfirmationMail } from '../domain/accounts/registration.ts';
import type { Context } from '../domain/context.ts';
import { JOBS } from '../domain/jobs.ts';
import { getSettings } from '../domain/settings/settings.ts';
import { escapeHtml } from '../domain/text/html.ts';
import type { MailMessage } from '../infra/mail/mailer.ts';
import type { JsonValue } from '../infra/queue/queue.ts';
import type { JobRegistry } from './registry.ts';

/**
 * The `mailers` queue (DESIGN.md §2):
 * - `confirmation_instructions` {userId}: the e-mail confirmation link. The token is made here, when
 *   the mail is rendered, so no usable secret waits in the queue;
 * - `send` {to, subject, text, html?}: a message rendered by its caller, sent as is.
 */
export type MailDeps = Pick<Context, 'database' | 'config' | 'mailer'>;

export function registerMailJobs(registry: JobRegistry, ctx: Context): void {
  registry.register(JOBS.confirmationInstructions, async (data) => {
    await sendConfirmationInstructions(ctx, userIdOf(data));
  });
  registry.register(JOBS.sendMail, async (data) => {
    await ctx.mailer.send(messageOf(data));
  });
}

function userIdOf(data: JsonValue): string {
  const userId = (data as { userId?: unknown } | null)?.userId;
  if (typeof userId !== 'string') throw new Error('confirmation_instructions needs {userId}');
  return userId;
}

function messageOf(data: JsonValue): MailMessage {
  const d = (data ?? {}) as Record<string, unknown>;
  if (typeof d.to !== 'string' || typeof d.subject !== 'string' || typeof d.text !== 'string') {
    throw new Error('send needs {to, subject, text} strings');
  }
  return {
    to: d.to,
    subject: d.subject,
    text: d.text,
    ...(typeof d.html === 'string' ? { html: d.html } : {}),
  };
}

export async function sendConfirmationInstructions(deps: MailDeps, userId: string): Promise<boolean> {
  const mail = await prepareConfirmationMail(deps, userId);
  if (mail === null) return false; // confirmed meanwhile, or gone: nothing to send
  const { site_title: title } = await getSettings(deps);
  await deps.mailer.send(renderConfirmation(deps.config, title, mail));
  return true;
}

export function renderConfirmation(
  config: Context['config'],
  title: string,
  mail: { to: string; token: string; username: string; reconfirmation: boolean },
): MailMessage {
  const link = `${config.baseUrl}/auth/confirmation?confirmation_token=${encodeURIComponent(mail.token)}`;
  const domain = config.localDomain;
  const subject = mail.reconfirmation
    ? `${title}: Confirm e-mail for ${domain}`
    : `${title}: Confirmation instructions for ${domain}`;
  const intro = mail.reconfirmation
    ? `You asked to change the e-mail address of @${mail.username}@${domain} to this one.`
    : `Welcome to ${title}, @${mail.username}! You created an account on ${domain} with this e-mail address.`;
  const action = mail.reconfirmation ? 'Confirm this address' : 'Confirm your e-mail address';
  const ignore = mail.reconfirmation
    ? 'If you did not ask for this, ignore this message: the address stays as it was.'
    : 'If you did not sign up, ignore this message: the account stays inactive.';
  const text = `${intro}\n\n${action} by opening this link within 2 days:\n\n${link}\n\n${ignore}\n`;
  const html =
    `<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">` +
    `<p>${escapeHtml(intro)}</p>` +
    `<p><a href="${escapeHtml(link)}" style="font-weight: bold">${escapeHtml(action)}</a> (the link works for 2 days)</p>` +
    `<p style="word-break: break-all; color: #555">${escapeHtml(link)}</p>` +
    `<p>${escapeHtml(ignore)}</p></body></html>`;
  return { to: mail.to, subject, text, html };
}
