import { randomBytes } from 'node:crypto';
import { insertLocalUser } from '../../src/domain/accounts/create.ts';
import type { AccountRecord, ApplicationRecord, UserRecord } from '../../src/domain/accounts/records.ts';
import { issueAccessToken } from '../../src/domain/auth/tokens.ts';
import type { Context } from '../../src/domain/context.ts';
import { createApplication } from '../../src/domain/oauth/applications.ts';

export interface TestUser {
  account: AccountRecord;
  user: UserRecord;
  password: string;
  /** A bearer token for this user (no application), with `scopes`. */
  token: string;
}

/**
 * A confirmed, approved local user with a bearer token (no application); every field can be
 * overridden. It goes with the test database: nothing to tear down.
 */
export async function createTestUser(
  ctx: Pick<Context, 'database' | 'config'>,
  options: {
    username?: string;
    email?: string;
    password?: string;
    confirmed?: boolean;
    approved?: boolean;
    scopes?: string[];
  } = {},
): Promise<TestUser> {
  const username = options.username ?? `user_${randomBytes(4).toString('hex')}`;
  const password = options.password ?? `pw-${randomBytes(8).toString('hex')}`;
  const { account, user } = await insertLocalUser(ctx, {
    username,
    email: options.email ?? `${username}@example.test`,
    password,
    confirmed: options.confirmed ?? true,
    approved: options.approved ?? true,
  });
  const issued = await issueAccessToken(ctx, {
    applicationId: null,
    userId: user.id,
    scopes: options.scopes ?? ['read', 'write', 'follow', 'push', 'profile'],
  });
  return { account, user, password, token: issued.accessToken };
}

/** Back-dates an account's creation by `days`, past the "new account" thresholds of notification policies. */
export async function ageAccount(
  ctx: Pick<Context, 'database'>,
  accountId: string,
  days: number,
): Promise<void> {
  await ctx.database.query(
    `update accounts set created_at = now() - make_interval(days => $2::int) where id = $1`,
    [accountId, days],
  );
}

export interface TestApp {
  application: ApplicationRecord;
  /** The OAuth client_id (`application.uid`) and the clear client secret. */
  clientId: string;
  clientSecret: string;
  /** With `appToken`: a token of the app with no user (client credentials), with the app's scopes. */
  token?: string;
}

/**
 * A registered OAuth application, as POST /api/v1/apps makes one (createApplication): by default a
 * random name, `read write follow push profile` and a web plus an out-of-band redirect URI.
 * `appToken: true` also issues it a user-less token. It goes with the test database.
 */
export async function createTestApp(
  ctx: Pick<Context, 'database' | 'config'>,
  options: { name?: string; scopes?: string; redirectUris?: string | string[]; appToken?: boolean } = {},
): Promise<TestApp> {
  const scopes = options.scopes ?? 'read write follow push profile';
  const { application, clientSecret } = await createApplication(ctx, {
    name: options.name ?? `app-${randomBytes(3).toString('hex')}`,
    redirectUris: options.redirectUris ?? ['https://client.example/callback', 'urn:ietf:wg:oauth:2.0:oob'],
    scopes,
  });
  const app: TestApp = { application, clientId: application.uid, clientSecret };
  if (options.appToken) {
    const issued = await issueAccessToken(ctx, {
      applicationId: application.id,
      userId: null,
      scopes: scopes.split(' '),
    });
    app.token = issued.accessToken;
  }
  return app;
}
