import { deliverPasswordReset, PASSWORD_RESET_JOB } from '../domain/accounts/password-reset.ts';
import type { Context } from '../domain/context.ts';
import type { JobRegistry } from './registry.ts';

/** `mailers`/`password_reset` {userId}: makes the reset token and mails the link (src/domain/auth/password-reset.ts). */
export function registerPasswordResetJob(registry: JobRegistry, deps: Partial<Context>): void {
  registry.register('mailers', PASSWORD_RESET_JOB, async (data) => {
    if (deps.database === undefined || deps.config === undefined || deps.mailer === undefined) {
      throw new Error('password_reset needs the database, the configuration and a mailer');
    }
    await deliverPasswordReset({ database: deps.database, config: deps.config, mailer: deps.mailer }, data);
  });
}
