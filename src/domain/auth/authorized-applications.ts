import { and, eq, isNotNull, isNull, max, sql } from 'drizzle-orm';
import { oauthAccessGrants, oauthAccessTokens, oauthApplications } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';

/**
 * The apps a user has let act for them (Mastodon's "Authorized apps" page): every application with
 * at least one live token of the user, with the union of those tokens' scopes and the latest use.
 */
export interface AuthorizedApplication {
  id: string;
  name: string;
  website: string | null;
  scopes: string[];
  /** When the first of its live tokens was issued. */
  authorizedAt: Date;
  lastUsedAt: Date | null;
}

export async function listAuthorizedApplications(
  ctx: Pick<Context, 'database'>,
  userId: string,
): Promise<AuthorizedApplication[]> {
  const rows = await ctx.database.db
    .select({
      id: oauthApplications.id,
      name: oauthApplications.name,
      website: oauthApplications.website,
      scopes: sql<string[]>`array_agg(distinct ${oauthAccessTokens.scopes})`,
      authorizedAt: sql<Date>`min(${oauthAccessTokens.createdAt})`.mapWith(oauthAccessTokens.createdAt),
      lastUsedAt: max(oauthAccessTokens.lastUsedAt),
    })
    .from(oauthAccessTokens)
    .innerJoin(oauthApplications, eq(oauthApplications.id, oauthAccessTokens.applicationId))
    .where(
      and(
        eq(oauthAccessTokens.userId, userId),
        isNull(oauthAccessTokens.revokedAt),
        isNotNull(oauthAccessTokens.applicationId),
      ),
    )
    .groupBy(oauthApplications.id, oauthApplications.name, oauthApplications.website)
    .orderBy(oauthApplications.name, oauthApplications.id);
  return rows.map((row) => {
    const scopes = new Set<string>();
    for (const list of row.scopes) for (const scope of list.split(' ')) if (scope) scopes.add(scope);
    return {
      id: row.id,
      name: row.name,
      website: row.website,
      scopes: [...scopes].sort(),
      authorizedAt: row.authorizedAt,
      lastUsedAt: row.lastUsedAt,
    };
  });
}

/**
 * Revokes every token (and unused authorization code) the user gave the application; returns how
 * many tokens were revoked (0: nothing was authorized, so nothing changed).
 */
export async function revokeAuthorizedApplication(
  ctx: Pick<Context, 'database' | 'streams'>,
  userId: string,
  applicationId: string,
): Promise<number> {
  const now = new Date();
  const revokedIds = await ctx.database.transaction(async (tx) => {
    const revoked = await tx
      .update(oauthAccessTokens)
      .set({ revokedAt: now })
      .where(
        and(
          eq(oauthAccessTokens.userId, userId),
          eq(oauthAccessTokens.applicationId, applicationId),
          isNull(oauthAccessTokens.revokedAt),
        ),
      )
      .returning({ id: oauthAccessTokens.id });
    await tx
      .update(oauthAccessGrants)
      .set({ revokedAt: now })
      .where(
        and(
          eq(oauthAccessGrants.userId, userId),
          eq(oauthAccessGrants.applicationId, applicationId),
          isNull(oauthAccessGrants.revokedAt),
        ),
      );
    return revoked.map((r) => r.id);
  });
  // After the commit: a stream told to close must not find its token still valid.
  await ctx.streams.tokensRevoked(revokedIds);
  return revokedIds.length;
}
