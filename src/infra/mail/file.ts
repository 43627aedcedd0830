import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Transporter } from 'nodemailer';
import { type Mailer, type MailMessage, mailOptions, type SentMail } from './mailer.ts';

export interface FileMailerOptions {
  dir: string;
  from: string;
  replyTo: string | undefined;
}

/**
 * The embedded shape's mail: each message becomes `<time>-<random>.eml` (the full message, as it
 * would go over SMTP) plus a `.json` sidecar with the parts tools and tests want to read.
 */
export class FileMailer implements Mailer {
  private readonly opts: FileMailerOptions;
  // Renders the exact message an SMTP transport would send, without sending it. nodemailer is
  // loaded on the first message: most embedded instances send mail rarely (~25 MB otherwise).
  private transport: Transporter | undefined;

  constructor(opts: FileMailerOptions) {
    this.opts = opts;
  }

  async send(message: MailMessage): Promise<SentMail> {
    if (this.transport === undefined) {
      const { default: nodemailer } = await import('nodemailer');
      this.transport = nodemailer.createTransport({
        streamTransport: true,
        buffer: true,
        newline: 'windows',
      });
    }
    const info = await this.transport.sendMail(mailOptions(message, this.opts.from, this.opts.replyTo));
    const raw = info.message as Buffer;
    // ISO time with ':' replaced, so the names sort by time and are valid on every filesystem.
    const base = `${new Date().toISOString().replaceAll(':', '-')}-${randomBytes(4).toString('hex')}`;
    const sidecar = {
      messageId: info.messageId,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html ?? null,
    };
    await mkdir(this.opts.dir, { recursive: true });
    // Sidecar first, each written whole then renamed: whoever sees the .eml can read both.
    await writeAtomically(join(this.opts.dir, `${base}.json`), `${JSON.stringify(sidecar, null, 2)}\n`);
    await writeAtomically(join(this.opts.dir, `${base}.eml`), raw);
    return { messageId: info.messageId };
  }

  async close(): Promise<void> {
    this.transport?.close();
  }
}

async function writeAtomically(path: string, data: string | Buffer): Promise<void> {
  const temp = `${path}.tmp`;
  try {
    await writeFile(temp, data, { flag: 'wx' });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
