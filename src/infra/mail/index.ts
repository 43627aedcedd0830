import type { MailConfig } from '../../config/config.ts';
import { FileMailer } from './file.ts';
import type { Mailer } from './mailer.ts';
import { SmtpMailer } from './smtp.ts';

export type { Mailer, MailMessage, SentMail } from './mailer.ts';

/** SMTP when SMTP_SERVER is set, otherwise files under the data directory. */
export function createMailer(config: MailConfig): Mailer {
  if (config.kind === 'file')
    return new FileMailer({ dir: config.dir, from: config.from, replyTo: config.replyTo });
  return new SmtpMailer(config);
}
