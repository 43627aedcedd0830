import type { AccountRecord, UserRecord } from '../accounts/records.ts';

/** Mastodon's texts for a user who may not use the API (config/locales/en.yml, devise). */
export const USER_ACCESS_ERRORS = {
  unconfirmed: 'Your login is missing a confirmed e-mail address',
  pending: 'Your login is currently pending approval',
  disabled: 'Your login is currently disabled',
} as const;

/**
 * Why a user may not use the API (REST or streaming) right now, or undefined when they may
 * (Mastodon's `require_user!`): an unconfirmed e-mail, a sign-up pending approval, a disabled user or
 * a suspended account.
 */
export function userBlockedReason(user: UserRecord, account: AccountRecord | null): string | undefined {
  if (user.confirmedAt === null) return USER_ACCESS_ERRORS.unconfirmed;
  if (!user.approved) return USER_ACCESS_ERRORS.pending;
  if (user.disabled || account === null || account.suspendedAt !== null) return USER_ACCESS_ERRORS.disabled;
  return undefined;
}
