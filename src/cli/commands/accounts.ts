import {
  type AdminModifyInput,
  adminApprove,
  adminCreateAccount,
  adminDeleteAccount,
  adminIssueToken,
  adminModifyAccount,
} from '../../domain/accounts/admin.ts';
import { enqueueConfirmation } from '../../domain/accounts/registration.ts';
import type { Context } from '../../domain/context.ts';
import { DomainError } from '../../domain/errors.ts';

/**
 * `woolly accounts …`, tootctl's accounts commands (create, modify, delete, approve) plus `token`,
 * which prints an access token as Mastodon's Development settings page gives one. Arguments were
 * checked by the caller (src/cli/main.ts: usage errors exit 2 before anything is opened); here a
 * wrong username or role is reported in one line with exit code 1, and nothing is changed.
 */
export type AccountsArgs =
  | {
      action: 'create';
      username: string;
      email: string;
      confirmed?: boolean;
      approve?: boolean;
      role?: string;
    }
  | ({ action: 'modify'; username: string } & AdminModifyInput)
  | { action: 'delete'; username: string }
  | { action: 'approve'; target: { all: true } | { number: number } | { username: string } }
  | { action: 'token'; username: string; scopes: string[]; app?: string };

/**
 * `streams` publishes the `kill` of a disabled or deleted account: on Redis (scaled shape) it
 * reaches the streaming processes; in the embedded shape a running server gets it over its control
 * socket and publishes it on its in-process bus (src/cli/owner-pubsub.ts).
 */
export type AccountsDeps = Pick<Context, 'database' | 'config' | 'queue' | 'streams'>;

export async function accountsCommand(
  deps: AccountsDeps,
  args: AccountsArgs,
  out: (line: string) => void,
  err: (line: string) => void = out,
): Promise<number> {
  try {
    switch (args.action) {
      case 'create': {
        const { user, password } = await adminCreateAccount(deps, args);
        // Unconfirmed: the user gets the confirmation link, as on sign-up.
        if (!args.confirmed) await enqueueConfirmation(deps, user.id);
        out('OK');
        out(`New password: ${password}`);
        return 0;
      }
      case 'modify': {
        const { password } = await adminModifyAccount(deps, args.username, args);
        out('OK');
        if (password !== undefined) out(`New password: ${password}`);
        return 0;
      }
      case 'delete': {
        await adminDeleteAccount(deps, args.username);
        out('OK');
        return 0;
      }
      case 'approve': {
        const n = await adminApprove(deps, args.target);
        out(`OK${'username' in args.target ? '' : ` (${n} approved)`}`);
        return 0;
      }
      case 'token': {
        const issued = await adminIssueToken(deps, args.username, {
          scopes: args.scopes,
          ...(args.app !== undefined ? { appName: args.app } : {}),
        });
        out(issued.accessToken);
        return 0;
      }
    }
  } catch (error) {
    // An operator's mistake (no such user, a taken address…): one line, exit 1.
    if (error instanceof DomainError) {
      err(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
