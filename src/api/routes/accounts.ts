import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import {
  MISSING_AVATAR_PATH,
  MISSING_HEADER_PATH,
  serializeAccount,
  serializeCredentialAccount,
  serializeToken,
} from '../../convert/to-api/account.ts';
import { updateProfile } from '../../domain/accounts/profile.ts';
import { registerAccount } from '../../domain/accounts/registration.ts';
import { credentialView, getAccount, getAccounts, lookupAccount } from '../../domain/accounts/views.ts';
import { parseScopes } from '../../domain/auth/scopes.ts';
import type { Context } from '../../domain/context.ts';
import { removeProfileImage } from '../../domain/media/profile-images.ts';
import { currentUser } from '../auth.ts';
import { ApiError, notFound } from '../errors.ts';
import { stringList } from '../params.ts';

/** Mastodon's DEFAULT_ACCOUNTS_LIMIT: the most ids `GET /api/v1/accounts` takes. */
export const ACCOUNTS_BATCH_MAX = 40;

export const CLIENT_CREDENTIALS_REQUIRED = 'This method requires an client credentials authentication';

const READ = ['read', 'read:accounts'];
const WRITE = ['write', 'write:accounts'];

const ASSETS = new URL('../assets/', import.meta.url);

type Params = Record<string, unknown>;

/** Accounts (mastodon.md §1.4): sign-up, the signed-in user's profile, and reading accounts. */
export function accountRoutes(app: FastifyInstance, ctx: Context): void {
  // Sign-up with an app's own token (client_credentials), as Mastodon 4.4+.
  app.post('/api/v1/accounts', { config: { auth: { scopes: WRITE } } }, async (request, reply) => {
    const auth = request.auth!;
    if (auth.user !== null || auth.application === null) throw new ApiError(403, CLIENT_CREDENTIALS_REQUIRED);
    const params = (request.body ?? {}) as Params;
    const { token } = await registerAccount(ctx, {
      username: params.username,
      email: params.email,
      password: params.password,
      agreement: params.agreement,
      locale: params.locale,
      reason: params.reason,
      ip: request.ip,
      applicationId: auth.application.id,
      scopes: parseScopes(auth.application.scopes),
    });
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return serializeToken(token!);
  });

  app.get(
    '/api/v1/accounts/verify_credentials',
    { config: { auth: { scopes: ['profile', ...READ], user: true } } },
    async (request) => {
      const { user, account } = currentUser(request);
      return serializeCredentialAccount(await credentialView(ctx, account, user), ctx.config);
    },
  );

  app.patch(
    '/api/v1/accounts/update_credentials',
    { config: { auth: { scopes: WRITE, user: true } } },
    async (request) => {
      const current = currentUser(request);
      const updated = await updateProfile(ctx, current, (request.body ?? {}) as Params);
      return serializeCredentialAccount(await credentialView(ctx, updated.account, updated.user), ctx.config);
    },
  );

  // Back to the default image (Mastodon 4.2's Api::V1::Profile::AvatarsController / HeadersController).
  for (const kind of ['avatar', 'header'] as const) {
    app.delete(
      `/api/v1/profile/${kind}`,
      { config: { auth: { scopes: WRITE, user: true } } },
      async (request) => {
        const { account, user } = currentUser(request);
        const updated = (await removeProfileImage(ctx, account.id, kind)) ?? account;
        return serializeCredentialAccount(await credentialView(ctx, updated, user), ctx.config);
      },
    );
  }

  app.get(
    '/api/v1/accounts/lookup',
    { config: { auth: { scopes: READ, optional: true } } },
    async (request) => {
      const acct = (request.query as Params).acct;
      if (typeof acct !== 'string' || acct.trim() === '') throw notFound();
      const view = await lookupAccount(ctx, acct);
      if (view === undefined) throw notFound();
      return serializeAccount(view, ctx.config);
    },
  );

  app.get('/api/v1/accounts', { config: { auth: { scopes: READ, optional: true } } }, async (request) => {
    // Blank ids count towards the limit (they find nothing).
    const ids = stringList((request.query as Params).id, { keepBlank: true });
    if (new Set(ids).size > ACCOUNTS_BATCH_MAX) {
      throw new ApiError(422, `Too many ids: at most ${ACCOUNTS_BATCH_MAX} accounts at once`);
    }
    const views = await getAccounts(ctx, ids);
    return views.map((view) => serializeAccount(view, ctx.config));
  });

  app.get<{ Params: { id: string } }>(
    '/api/v1/accounts/:id',
    { config: { auth: { scopes: READ, optional: true } } },
    async (request) => {
      const view = await getAccount(ctx, request.params.id);
      if (view === undefined) throw notFound();
      return serializeAccount(view, ctx.config);
    },
  );

  // The images of accounts without avatar or header, at Mastodon's paths (clients know them).
  const image = (file: string) => {
    let body: Buffer | undefined;
    return async (_request: unknown, reply: import('fastify').FastifyReply) => {
      body ??= readFileSync(new URL(file, ASSETS));
      return reply
        .type('image/png')
        .header('cache-control', 'public, max-age=604800')
        .header('x-content-type-options', 'nosniff')
        .send(body);
    };
  };
  app.get(MISSING_AVATAR_PATH, image('missing-avatar.png'));
  app.get(MISSING_HEADER_PATH, image('missing-header.png'));
}
