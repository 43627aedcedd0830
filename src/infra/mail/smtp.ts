import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import type { MailConfig } from '../../config/config.ts';
import { type Mailer, type MailMessage, mailOptions, type SentMail } from './mailer.ts';

export type SmtpMailConfig = Extract<MailConfig, { kind: 'smtp' }>;

const AUTH_METHODS = { plain: 'PLAIN', login: 'LOGIN', cram_md5: 'CRAM-MD5' } as const;

/** nodemailer transport options for Mastodon's SMTP_* settings. */
export function smtpTransportOptions(config: SmtpMailConfig): SMTPPool.Options {
  const options: SMTPPool.Options = {
    pool: true, // notification bursts reuse a few connections instead of one per mail
    host: config.host,
    port: config.port,
    secure: config.tls,
    ignoreTLS: config.starttls === 'never',
    requireTLS: config.starttls === 'always',
    tls: { rejectUnauthorized: config.verifyPeer },
  };
  // Like Mastodon (Ruby's Net::SMTP), no login means no AUTH even if a method is named.
  if (config.authMethod !== 'none' && config.user !== undefined) {
    options.auth = {
      user: config.user,
      pass: config.password ?? '',
      method: AUTH_METHODS[config.authMethod],
    };
  }
  return options;
}

/** Mail through an SMTP relay (the scaled shape). */
export class SmtpMailer implements Mailer {
  private readonly config: SmtpMailConfig;
  private readonly transport: Transporter<SMTPPool.SentMessageInfo>;

  constructor(config: SmtpMailConfig) {
    this.config = config;
    this.transport = nodemailer.createTransport(smtpTransportOptions(config));
  }

  async send(message: MailMessage): Promise<SentMail> {
    const info = await this.transport.sendMail(mailOptions(message, this.config.from, this.config.replyTo));
    return { messageId: info.messageId };
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
