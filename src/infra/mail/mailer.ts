export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  headers?: Record<string, string>;
}

export interface SentMail {
  /** The Message-ID header, angle brackets included. */
  messageId: string;
}

/** Outgoing mail. From and Reply-To come from the configuration, not the caller. */
export interface Mailer {
  send(message: MailMessage): Promise<SentMail>;
  close(): Promise<void>;
}

/** The nodemailer message both implementations build, so they produce the same mail. */
export function mailOptions(message: MailMessage, from: string, replyTo: string | undefined) {
  return {
    from,
    replyTo,
    to: message.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    headers: message.headers,
  };
}
