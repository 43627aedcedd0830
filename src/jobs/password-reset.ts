import { deliverPasswordReset } from '../domain/accounts/password-reset.ts';
import type { Context } from '../domain/context.ts';
import { JOBS } from '../domain/jobs.ts';
import type { JobRegistry } from './registry.ts';

/** `mailers`/`password_reset` {userId}: makes the reset token and mails the link (src/domain/accounts/password-reset.ts). */
export function registerPasswordResetJob(registry: JobRegistry, ctx: Context): void {
  registry.register(JOBS.passwordReset, async (data) => {
    await deliverPasswordReset(ctx, data);
  });
}
