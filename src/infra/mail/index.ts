import type { MailConfig } from '../../config/config.ts';
import { FileMailer } from './file.ts';
import type { Mailer } from './mailer.ts';

export type { Mailer, MailMessage, SentMail } from './mailer.ts';

/** SMTP when SMTP_SERVER is set, otherwise files under the data directory. */
export async function createMailer(config: MailConfig): Promise<Mailer> {
  if (config.kind === 'file')
    return new FileMailer({ dir: config.dir, from: config.from, replyTo: config.replyTo });
  const { SmtpMailer } = await import('./smtp.ts');
  return new SmtpMailer(config);
}
