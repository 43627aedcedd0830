import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { serializeStatus } from '../../convert/to-api/status.ts';
import { getAccount } from '../../domain/accounts/views.ts';
import type { Context } from '../../domain/context.ts';
import type { StatusView } from '../../domain/statuses/views.ts';
import {
  accountStatuses,
  homeTimeline,
  publicTimeline,
  tagTimeline,
} from '../../domain/timelines/timelines.ts';
import { currentUser } from '../auth.ts';
import { notFound } from '../errors.ts';
import { parsePage, setLinkHeader } from '../pagination.ts';
import { stringList, truthy, viewerOf } from '../params.ts';

const READ = ['read', 'read:statuses'];

type Params = Record<string, unknown>;

/** Serializes a page of statuses and sets its Link header (next and prev on any non-empty page). */
function respond(ctx: Context, request: FastifyRequest, reply: FastifyReply, views: StatusView[]) {
  setLinkHeader(reply, request, { items: views, idOf: (v) => v.status.id });
  return views.map((v) => serializeStatus(v, ctx.config));
}

/** Timelines (mastodon.md §1.3) and an account's statuses, paged by status id with Link headers. */
export function timelineRoutes(app: FastifyInstance, ctx: Context): void {
  app.get(
    '/api/v1/timelines/home',
    { config: { auth: { scopes: READ, user: true } } },
    async (request, reply) => {
      const { account } = currentUser(request);
      const page = parsePage(request.query);
      return respond(ctx, request, reply, await homeTimeline(ctx, account.id, page));
    },
  );

  app.get(
    '/api/v1/timelines/public',
    { config: { auth: { scopes: READ, optional: true } } },
    async (request, reply) => {
      const query = request.query as Params;
      const page = parsePage(query);
      const views = await publicTimeline(
        ctx,
        viewerOf(request),
        { local: truthy(query.local), remote: truthy(query.remote), onlyMedia: truthy(query.only_media) },
        page,
      );
      return respond(ctx, request, reply, views);
    },
  );

  app.get<{ Params: { hashtag: string } }>(
    '/api/v1/timelines/tag/:hashtag',
    { config: { auth: { scopes: READ, optional: true } } },
    async (request, reply) => {
      const query = request.query as Params;
      const page = parsePage(query);
      const views = await tagTimeline(
        ctx,
        viewerOf(request),
        request.params.hashtag,
        {
          any: stringList(query.any),
          all: stringList(query.all),
          none: stringList(query.none),
          local: truthy(query.local),
          remote: truthy(query.remote),
          onlyMedia: truthy(query.only_media),
        },
        page,
      );
      return respond(ctx, request, reply, views);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/accounts/:id/statuses',
    { config: { auth: { scopes: READ, optional: true } } },
    async (request, reply) => {
      const account = await getAccount(ctx, request.params.id);
      if (account === undefined) throw notFound();
      const query = request.query as Params;
      const page = parsePage(query);
      const tagged = typeof query.tagged === 'string' && query.tagged !== '' ? query.tagged : undefined;
      const views = await accountStatuses(
        ctx,
        viewerOf(request),
        account.account.id,
        {
          onlyMedia: truthy(query.only_media),
          excludeReplies: truthy(query.exclude_replies),
          excludeReblogs: truthy(query.exclude_reblogs),
          pinned: truthy(query.pinned),
          ...(tagged === undefined ? {} : { tagged }),
        },
        page,
      );
      return respond(ctx, request, reply, views);
    },
  );
}
