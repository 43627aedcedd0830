import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { serializeAccount } from '../../convert/to-api/account.ts';
import { serializeRelationship } from '../../convert/to-api/relationship.ts';
import type { AccountRecord } from '../../domain/accounts/records.ts';
import { type AccountView, getAccount, getAccounts, isAccountId } from '../../domain/accounts/views.ts';
import type { Context } from '../../domain/context.ts';
import { block, unblock } from '../../domain/relationships/blocks.ts';
import {
  authorizeFollowRequest,
  follow,
  rejectFollowRequest,
  removeFromFollowers,
  unfollow,
} from '../../domain/relationships/follows.ts';
import {
  familiarFollowers,
  type ListedAccount,
  listBlocks,
  listEndorsements,
  listFollowers,
  listFollowing,
  listFollowRequests,
  listMutes,
  searchAccounts,
} from '../../domain/relationships/lists.ts';
import { mute, unmute } from '../../domain/relationships/mutes.ts';
import { endorse, setNote, unendorse } from '../../domain/relationships/notes.ts';
import { relationships } from '../../domain/relationships/queries.ts';
import { castBoolean, ValidationError } from '../../domain/validation.ts';
import { setActionLimitHeaders } from '../action-limits.ts';
import { currentUser } from '../auth.ts';
import { ApiError, notFound } from '../errors.ts';
import { INVALID_LIMIT, parsePage, setLinkHeader } from '../pagination.ts';
import { stringList } from '../params.ts';

type Params = Record<string, unknown>;
type IdRoute = { Params: { id: string } };

/** Mastodon's DEFAULT_ACCOUNTS_LIMIT (40; at most twice that). */
const ACCOUNTS_PAGE = { defaultLimit: 40, maxLimit: 80 };

// Scopes as Mastodon's controllers declare them (`follow` is the deprecated umbrella).
const WRITE_FOLLOWS = ['follow', 'write', 'write:follows'];
const READ_FOLLOWS = ['follow', 'read', 'read:follows'];
const WRITE_BLOCKS = ['follow', 'write', 'write:blocks'];
const READ_BLOCKS = ['follow', 'read', 'read:blocks'];
const WRITE_MUTES = ['follow', 'write', 'write:mutes'];
const READ_MUTES = ['follow', 'read', 'read:mutes'];
const WRITE_ACCOUNTS = ['write', 'write:accounts'];
const READ_ACCOUNTS = ['read', 'read:accounts'];

/** Parameters from the query string and the body together, as Rails' `params`. */
function paramsOf(request: FastifyRequest): Params {
  return {
    ...((request.query as Params | undefined) ?? {}),
    ...((request.body as Params | null | undefined) ?? {}),
  };
}

/** An optional boolean parameter; anything Rails would not read as a boolean is a 422 naming it. */
function optionalBoolean(params: Params, name: string): boolean | undefined {
  const value = params[name];
  if (value === undefined || value === null || value === '') return undefined;
  const cast = castBoolean(value);
  if (cast === undefined) throw ValidationError.of(name, name, 'ERR_INVALID');
  return cast;
}

/** Sets the Link header of an account list paged by hidden row ids (next only on a full page). */
function linkAccounts(
  request: FastifyRequest,
  reply: FastifyReply,
  items: ListedAccount[],
  limit: number,
): void {
  setLinkHeader(reply, request, { items, idOf: (item) => item.cursor, next: items.length === limit });
}

/**
 * The social graph (mastodon.md §1.4): follow, unfollow, follow requests, blocks, mutes, notes,
 * endorsements, relationships and the account lists built on them.
 */
export function relationshipRoutes(app: FastifyInstance, ctx: Context): void {
  const config = ctx.config;
  const serialize = (view: AccountView) => serializeAccount(view, config);

  /** The account named in the path, or 404. */
  async function target(id: string): Promise<AccountRecord> {
    const view = await getAccount(ctx, id);
    if (view === undefined) throw notFound();
    return view.account;
  }

  async function relationshipOf(viewerId: string, targetId: string) {
    const [relationship] = await relationships(ctx, viewerId, [targetId]);
    return serializeRelationship(relationship!);
  }

  // --- Following ---

  app.post<IdRoute>(
    '/api/v1/accounts/:id/follow',
    { config: { auth: { scopes: WRITE_FOLLOWS, user: true } } },
    async (request, reply) => {
      const { account } = currentUser(request);
      const other = await target(request.params.id);
      const params = paramsOf(request);
      // A suspended account cannot be followed (Mastodon's "unavailable": not found).
      if (other.suspendedAt !== null && other.id !== account.id) throw notFound();
      let languages: string[] | null | undefined;
      if (params.languages !== undefined) {
        const raw = params.languages;
        if (raw === null || raw === '') languages = null;
        else {
          const list = Array.isArray(raw) ? raw : [raw];
          if (list.some((code) => typeof code !== 'string')) {
            throw ValidationError.of('languages', 'Languages', 'ERR_INVALID');
          }
          languages = list as string[];
        }
      }
      await follow(ctx, account, other, {
        reblogs: optionalBoolean(params, 'reblogs'),
        notify: optionalBoolean(params, 'notify'),
        languages,
      });
      await setActionLimitHeaders(ctx, reply, account.id, 'follows');
      return relationshipOf(account.id, other.id);
    },
  );

  app.post<IdRoute>(
    '/api/v1/accounts/:id/unfollow',
    { config: { auth: { scopes: WRITE_FOLLOWS, user: true } } },
    async (request) => {
      const { account } = currentUser(request);
      const other = await target(request.params.id);
      await unfollow(ctx, account.id, other.id);
      return relationshipOf(account.id, other.id);
    },
  );

  app.post<IdRoute>(
    '/api/v1/accounts/:id/remove_from_followers',
    { config: { auth: { scopes: WRITE_FOLLOWS, user: true } } },
    async (request) => {
      const { account } = currentUser(request);
      const other = await target(request.params.id);
      await removeFromFollowers(ctx, account.id, other.id);
      return relationshipOf(account.id, other.id);
    },
  );

  app.get(
    '/api/v1/follow_requests',
    { config: { auth: { scopes: READ_FOLLOWS, user: true } } },
    async (request, reply) => {
      const { account } = currentUser(request);
      const page = parsePage(request.query, ACCOUNTS_PAGE);
      const items = await listFollowRequests(ctx, account.id, page);
      linkAccounts(request, reply, items, page.limit);
      return items.map((item) => serialize(item.view));
    },
  );

  for (const action of ['authorize', 'reject'] as const) {
    app.post<IdRoute>(
      `/api/v1/follow_requests/:id/${action}`,
      { config: { auth: { scopes: WRITE_FOLLOWS, user: true } } },
      async (request) => {
        const { account } = currentUser(request);
        if (!isAccountId(request.params.id)) throw notFound();
        const requesterId = request.params.id;
        if (action === 'authorize') await authorizeFollowRequest(ctx, account.id, requesterId);
        else await rejectFollowRequest(ctx, account.id, requesterId);
        return relationshipOf(account.id, requesterId);
      },
    );
  }

  // --- Blocks and mutes ---

  app.post<IdRoute>(
    '/api/v1/accounts/:id/block',
    { config: { auth: { scopes: WRITE_BLOCKS, user: true } } },
    async (request) => {
      const { account } = currentUser(request);
      const other = await target(request.params.id);
      await block(ctx, account.id, other.id);
      return relationshipOf(account.id, other.id);
    },
  );

  app.post<IdRoute>(
    '/api/v1/accounts/:id/unblock',
    { config: { auth: { scopes: WRITE_BLOCKS, user: true } } },
    async (request) => {
      const { account } = currentUser(request);
      const other = await target(request.params.id);
      await unblock(ctx, account.id, other.id);
      return relationshipOf(account.id, other.id);
    },
  );

  app.post<IdRoute>(
    '/api/v1/accounts/:id/mute',
    { config: { auth: { scopes: WRITE_MUTES, user: true } } },
    async (request) => {
      const { account } = currentUser(request);
      const other = await target(request.params.id);
      const params = paramsOf(request);
      let duration = 0;
      const rawDuration = params.duration;
      if (rawDuration !== undefined && rawDuration !== null && rawDuration !== '') {
        const text = typeof rawDuration === 'number' ? String(rawDuration) : rawDuration;
        if (typeof text !== 'string' || !/^\s*\d+\s*$/.test(text)) {
          throw ValidationError.of(
            'duration',
            'Duration',
            'ERR_INVALID',
            'must be a whole number of seconds',
          );
        }
        duration = Number(text.trim());
      }
      await mute(ctx, account.id, other.id, {
        notifications: optionalBoolean(params, 'notifications'),
        duration,
      });
      return relationshipOf(account.id, other.id);
    },
  );

  app.post<IdRoute>(
    '/api/v1/accounts/:id/unmute',
    { config: { auth: { scopes: WRITE_MUTES, user: true } } },
    async (request) => {
      const { account } = currentUser(request);
      const other = await target(request.params.id);
      await unmute(ctx, account.id, other.id);
      return relationshipOf(account.id, other.id);
    },
  );

  app.get(
    '/api/v1/blocks',
    { config: { auth: { scopes: READ_BLOCKS, user: true } } },
    async (request, reply) => {
      const { account } = currentUser(request);
      const page = parsePage(request.query, ACCOUNTS_PAGE);
      const items = await listBlocks(ctx, account.id, page);
      linkAccounts(request, reply, items, page.limit);
      return items.map((item) => serialize(item.view));
    },
  );

  app.get(
    '/api/v1/mutes',
    { config: { auth: { scopes: READ_MUTES, user: true } } },
    async (request, reply) => {
      const { account } = currentUser(request);
      const page = parsePage(request.query, ACCOUNTS_PAGE);
      const items = await listMutes(ctx, account.id, page);
      linkAccounts(request, reply, items, page.limit);
      // MutedAccount: the account plus when the mute ends.
      return items.map((item) => ({
        ...serialize(item.view),
        mute_expires_at: item.expiresAt ? item.expiresAt.toISOString() : null,
      }));
    },
  );

  // --- Notes and endorsements ---

  app.post<IdRoute>(
    '/api/v1/accounts/:id/note',
    { config: { auth: { scopes: WRITE_ACCOUNTS, user: true } } },
    async (request) => {
      const { account } = currentUser(request);
      const other = await target(request.params.id);
      const comment = paramsOf(request).comment;
      if (comment !== undefined && comment !== null && typeof comment !== 'string') {
        throw ValidationError.of('comment', 'Comment', 'ERR_INVALID');
      }
      await setNote(ctx, account.id, other.id, comment ?? '');
      return relationshipOf(account.id, other.id);
    },
  );

  // `/pin` and `/unpin` are the older names of `/endorse` and `/unendorse` (aliases since 4.4).
  for (const [path, run] of [
    ['endorse', endorse],
    ['pin', endorse],
    ['unendorse', unendorse],
    ['unpin', unendorse],
  ] as const) {
    app.post<IdRoute>(
      `/api/v1/accounts/:id/${path}`,
      { config: { auth: { scopes: WRITE_ACCOUNTS, user: true } } },
      async (request) => {
        const { account } = currentUser(request);
        const other = await target(request.params.id);
        await run(ctx, account.id, other.id);
        return relationshipOf(account.id, other.id);
      },
    );
  }

  app.get(
    '/api/v1/endorsements',
    { config: { auth: { scopes: READ_ACCOUNTS, user: true } } },
    async (request, reply) => {
      const { account } = currentUser(request);
      // `limit=0`: every endorsement at once, without Link (Mastodon's `unlimited?`).
      if ((request.query as Params).limit === '0') {
        return (await listEndorsements(ctx, account.id, null)).map((item) => serialize(item.view));
      }
      const page = parsePage(request.query, ACCOUNTS_PAGE);
      const items = await listEndorsements(ctx, account.id, page);
      linkAccounts(request, reply, items, page.limit);
      return items.map((item) => serialize(item.view));
    },
  );

  app.get<IdRoute>(
    '/api/v1/accounts/:id/endorsements',
    { config: { auth: { scopes: READ_ACCOUNTS, optional: true } } },
    async (request, reply) => {
      const other = await target(request.params.id);
      const page = parsePage(request.query, ACCOUNTS_PAGE);
      const items = other.suspendedAt === null ? await listEndorsements(ctx, other.id, page) : [];
      linkAccounts(request, reply, items, page.limit);
      return items.map((item) => serialize(item.view));
    },
  );

  // --- Lists and lookups ---

  for (const [path, list] of [
    ['followers', listFollowers],
    ['following', listFollowing],
  ] as const) {
    app.get<IdRoute>(
      `/api/v1/accounts/:id/${path}`,
      { config: { auth: { scopes: READ_ACCOUNTS, optional: true } } },
      async (request, reply) => {
        const other = await target(request.params.id);
        const page = parsePage(request.query, ACCOUNTS_PAGE);
        const viewerId = request.auth?.account?.id ?? null;
        const items = await list(ctx, other, viewerId, page);
        linkAccounts(request, reply, items, page.limit);
        return items.map((item) => serialize(item.view));
      },
    );
  }

  app.get(
    '/api/v1/accounts/relationships',
    { config: { auth: { scopes: READ_FOLLOWS, user: true } } },
    async (request) => {
      const { account } = currentUser(request);
      const params = request.query as Params;
      const withSuspended = castBoolean(params.with_suspended) === true;
      const views = (await getAccounts(ctx, stringList(params.id))).filter(
        (view) => withSuspended || view.account.suspendedAt === null,
      );
      const found = await relationships(
        ctx,
        account.id,
        views.map((view) => view.account.id),
      );
      return found.map(serializeRelationship);
    },
  );

  app.get(
    '/api/v1/accounts/familiar_followers',
    { config: { auth: { scopes: READ_FOLLOWS, user: true } } },
    async (request) => {
      const { account } = currentUser(request);
      const views = (await getAccounts(ctx, stringList((request.query as Params).id))).filter(
        (view) => view.account.suspendedAt === null,
      );
      const result = await familiarFollowers(
        ctx,
        account.id,
        views.map((view) => view.account),
      );
      return result.map((entry) => ({ id: entry.id, accounts: entry.accounts.map(serialize) }));
    },
  );

  app.get(
    '/api/v1/accounts/search',
    { config: { auth: { scopes: READ_ACCOUNTS, user: true } } },
    async (request) => {
      const { account } = currentUser(request);
      const params = request.query as Params;
      const q = typeof params.q === 'string' ? params.q : '';
      const limit = nonNegative(params.limit, ACCOUNTS_PAGE.defaultLimit);
      const offset = nonNegative(params.offset, 0);
      if (q.trim() === '') return [];
      const views = await searchAccounts(ctx, account.id, {
        query: q,
        limit: Math.min(Math.max(limit, 1), ACCOUNTS_PAGE.maxLimit),
        offset,
        following: castBoolean(params.following) === true,
      });
      return views.map(serialize);
    },
  );
}

/** `limit` / `offset` of a search: a whole number, or Mastodon's 400 for anything negative. */
function nonNegative(value: unknown, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (typeof value !== 'string' || !/^\s*\d+\s*$/.test(value)) throw new ApiError(400, INVALID_LIMIT);
  return Number(value.trim());
}
