import { newId } from '../../db/ids.ts';
import { accounts, users } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { localAccountUris } from '../uris.ts';
import { hashPassword } from './passwords.ts';
import type { AccountRecord, UserRecord } from './records.ts';

export interface NewLocalUser {
  username: string;
  email: string;
  password: string;
  confirmed?: boolean;
  approved?: boolean;
  roleId?: string | null;
  locale?: string | null;
  reason?: string | null;
  signUpIp?: string | null;
  createdByApplicationId?: string | null;
}

/**
 * Inserts a local account and its user in one transaction. No validation here: callers (sign-up,
 * `woolly accounts create`, tests) validate first; the database's unique indexes still refuse a
 * duplicate username or e-mail.
 */
export async function insertLocalUser(
  ctx: Pick<Context, 'database' | 'config'>,
  input: NewLocalUser,
): Promise<{ account: AccountRecord; user: UserRecord }> {
  const encryptedPassword = await hashPassword(input.password);
  const now = new Date();
  return ctx.database.transaction(async (tx) => {
    const [account] = await tx
      .insert(accounts)
      .values({
        id: newId(now),
        username: input.username,
        domain: null,
        ...localAccountUris(ctx.config, input.username),
      })
      .returning();
    const [user] = await tx
      .insert(users)
      .values({
        id: newId(now),
        accountId: account!.id,
        email: input.email,
        encryptedPassword,
        confirmedAt: input.confirmed ? now : null,
        approved: input.approved ?? true,
        roleId: input.roleId ?? null,
        locale: input.locale ?? null,
        reason: input.reason ?? null,
        signUpIp: input.signUpIp ?? null,
        createdByApplicationId: input.createdByApplicationId ?? null,
      })
      .returning();
    return { account: account!, user: user! };
  });
}
