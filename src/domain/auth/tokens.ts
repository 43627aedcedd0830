import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { perDatabase } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { accounts, oauthAccessTokens, oauthApplications, users } from '../../db/schema/index.ts';
import type { AccountRecord, ApplicationRecord, UserRecord } from '../accounts/records.ts';
import type { Context } from '../context.ts';
import { hashSecret, newSecret } from './secrets.ts';

/** What a valid bearer token stands for. `user`/`account` are absent for client_credentials tokens. */
export interface TokenAuth {
  tokenId: string;
  scopes: string[];
  createdAt: Date;
  application: ApplicationRecord | null;
  user: UserRecord | null;
  account: AccountRecord | null;
}

export interface IssuedToken {
  id: string;
  accessToken: string;
  scopes: string[];
  createdAt: Date;
}

/** Issues a new access token; the clear value is returned once and only its hash is stored. */
export async function issueAccessToken(
  ctx: Pick<Context, 'database'>,
  input: { applicationId: string | null; userId: string | null; scopes: readonly string[] },
): Promise<IssuedToken> {
  const accessToken = newSecret();
  const id = newId();
  const [row] = await ctx.database.db
    .insert(oauthAccessTokens)
    .values({
      id,
      tokenHash: hashSecret(accessToken),
      applicationId: input.applicationId,
      userId: input.userId,
      scopes: input.scopes.join(' '),
    })
    .returning({ createdAt: oauthAccessTokens.createdAt });
  return { id, accessToken, scopes: [...input.scopes], createdAt: row!.createdAt };
}

/** How often `last_used_at` is written for a token in steady use. */
const LAST_USED_PRECISION_MS = 60 * 60 * 1000;

/** Resolves a bearer token; null when it is unknown or revoked. */
export async function authenticateToken(
  ctx: Pick<Context, 'database'>,
  bearer: string,
): Promise<TokenAuth | null> {
  if (bearer.length === 0 || bearer.length > 512) return null;
  // Read on every request, revocation included, so no token is cached: one prepared statement.
  const rows = await tokenByHash(ctx.database.db).execute({ hash: hashSecret(bearer) });
  const row = rows[0];
  if (row === undefined) return null;
  const now = Date.now();
  if (row.token.lastUsedAt === null || now - row.token.lastUsedAt.getTime() > LAST_USED_PRECISION_MS) {
    // Bookkeeping only: the request does not wait for it, and a failure does not fail the request.
    void ctx.database.db
      .update(oauthAccessTokens)
      .set({ lastUsedAt: new Date(now) })
      .where(
        and(
          eq(oauthAccessTokens.id, row.token.id),
          or(
            isNull(oauthAccessTokens.lastUsedAt),
            lt(oauthAccessTokens.lastUsedAt, new Date(now - LAST_USED_PRECISION_MS)),
          ),
        ),
      )
      .catch(() => {});
  }
  return {
    tokenId: row.token.id,
    scopes: row.token.scopes.split(' ').filter(Boolean),
    createdAt: row.token.createdAt,
    application: row.application,
    user: row.user,
    account: row.account,
  };
}

const tokenByHash = perDatabase((db) =>
  db
    .select({ token: oauthAccessTokens, application: oauthApplications, user: users, account: accounts })
    .from(oauthAccessTokens)
    .leftJoin(oauthApplications, eq(oauthApplications.id, oauthAccessTokens.applicationId))
    .leftJoin(users, eq(users.id, oauthAccessTokens.userId))
    .leftJoin(accounts, eq(accounts.id, users.accountId))
    .where(and(eq(oauthAccessTokens.tokenHash, sql.placeholder('hash')), isNull(oauthAccessTokens.revokedAt)))
    .limit(1)
    .prepare('token_by_hash'),
);

/** Revokes one token by its clear value (its streams are killed); returns whether a live token was revoked. */
export async function revokeAccessToken(
  ctx: Pick<Context, 'database' | 'streams'>,
  bearer: string,
  applicationId?: string,
): Promise<boolean> {
  const conditions = [
    eq(oauthAccessTokens.tokenHash, hashSecret(bearer)),
    isNull(oauthAccessTokens.revokedAt),
  ];
  if (applicationId !== undefined) conditions.push(eq(oauthAccessTokens.applicationId, applicationId));
  const revoked = await ctx.database.db
    .update(oauthAccessTokens)
    .set({ revokedAt: new Date() })
    .where(and(...conditions))
    .returning({ id: oauthAccessTokens.id });
  // Streams opened with it close now, not when they next check the token.
  await ctx.streams.tokensRevoked(revoked.map((r) => r.id));
  return revoked.length > 0;
}
