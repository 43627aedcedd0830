import type { FastifyInstance, FastifyRequest } from 'fastify';
import { serializeAccount } from '../../convert/to-api/account.ts';
import { serializeScheduledStatus } from '../../convert/to-api/scheduled-status.ts';
import { serializePoll, serializeStatus, serializeStatusEdit } from '../../convert/to-api/status.ts';
import { getAccounts } from '../../domain/accounts/views.ts';
import type { ActionFamily } from '../../domain/action-limits.ts';
import type { Context } from '../../domain/context.ts';
import { DomainError, isDomainError } from '../../domain/errors.ts';
import { mediaOfScheduledStatuses } from '../../domain/media/attach.ts';
import type { MediaParams } from '../../domain/media/attachments.ts';
import { bookmark, unbookmark } from '../../domain/statuses/bookmark.ts';
import type { StatusParams } from '../../domain/statuses/compose.ts';
import { postStatus } from '../../domain/statuses/create.ts';
import { deleteStatus } from '../../domain/statuses/delete.ts';
import { type EditParams, editStatus, statusHistory } from '../../domain/statuses/edit.ts';
import { favourite, unfavourite } from '../../domain/statuses/favourite.ts';
import { muteConversation } from '../../domain/statuses/mute.ts';
import { pin, unpin } from '../../domain/statuses/pin.ts';
import { type PollParams, pollView, visiblePoll, vote } from '../../domain/statuses/polls.ts';
import { reblog, unreblog } from '../../domain/statuses/reblog.ts';
import { favouritedBy, rebloggedBy, statusContext } from '../../domain/statuses/thread.ts';
import { loadStatusView, loadStatusViews, visibleStatus } from '../../domain/statuses/views.ts';
import { castBoolean } from '../../domain/validation.ts';
import { visibleStatusIds } from '../../domain/visibility/visibility.ts';
import { setActionLimitHeaders } from '../action-limits.ts';
import { currentUser } from '../auth.ts';
import { ApiError } from '../errors.ts';
import { parsePage, setLinkHeader } from '../pagination.ts';
import { stringList, viewerOf } from '../params.ts';
import { mediaParams } from './media.ts';

type Params = Record<string, unknown>;

const READ = ['read', 'read:statuses'];
const WRITE = ['write', 'write:statuses'];

/** At most this many ids in `GET /api/v1/statuses?id[]=` (Mastodon's DEFAULT_STATUSES_LIMIT). */
const MAX_BATCH_IDS = 20;

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** `poll[...]` parameters; a malformed poll is a 422 naming the field. */
function parsePoll(value: unknown): PollParams | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ApiError(422, 'Validation failed: Poll is invalid');
  const p = value as Params;
  const options = Array.isArray(p.options) ? p.options : p.options === undefined ? [] : [p.options];
  if (options.some((o) => typeof o !== 'string'))
    throw new ApiError(422, 'Validation failed: Poll options is invalid');
  const rawExpires = p.expires_in;
  let expiresIn: number | null = null;
  if (rawExpires !== undefined && rawExpires !== '') {
    const n =
      typeof rawExpires === 'number'
        ? rawExpires
        : typeof rawExpires === 'string' && /^\s*-?\d+\s*$/.test(rawExpires)
          ? Number(rawExpires)
          : Number.NaN;
    if (!Number.isFinite(n)) throw new ApiError(422, 'Validation failed: Poll expires in is not a number');
    expiresIn = n;
  }
  return {
    options: options as string[],
    expiresIn,
    multiple: castBoolean(p.multiple) ?? false,
    hideTotals: castBoolean(p.hide_totals) ?? false,
  };
}

function parseStatusParams(body: Params): StatusParams {
  return {
    text: str(body.status) ?? '',
    spoilerText: str(body.spoiler_text) ?? '',
    sensitive: castBoolean(body.sensitive) ?? null,
    visibility: str(body.visibility) || null,
    language: str(body.language) || null,
    inReplyToId: str(body.in_reply_to_id) || null,
    mediaIds: stringList(body.media_ids),
    poll: parsePoll(body.poll),
    allowedMentions: body.allowed_mentions === undefined ? null : stringList(body.allowed_mentions),
  };
}

/** One status for the viewer, serialized (404 when it vanished meanwhile). */
async function one(ctx: Context, viewer: string | null, id: string, options: { source?: boolean } = {}) {
  const view = await loadStatusView(ctx, viewer, id);
  if (view === undefined) throw new ApiError(404, 'Record not found');
  return serializeStatus(view, ctx.config, options);
}

/** Statuses (mastodon.md §1.2) and polls. */
export function statusRoutes(app: FastifyInstance, ctx: Context): void {
  app.post(
    '/api/v1/statuses',
    { config: { auth: { scopes: WRITE, user: true } } },
    async (request, reply) => {
      const { account, user, auth } = currentUser(request);
      const body = (request.body ?? {}) as Params;
      const idempotency = request.headers['idempotency-key'];
      let result: Awaited<ReturnType<typeof postStatus>>;
      try {
        result = await postStatus(ctx, { account, user }, parseStatusParams(body), {
          applicationId: auth.application?.id ?? null,
          idempotencyKey: typeof idempotency === 'string' ? idempotency : null,
          scheduledAt: str(body.scheduled_at) || null,
        });
      } catch (error) {
        // Mastodon lists the accounts the client did not expect to mention, as Account entities: the
        // domain names them by id and only the API can render them, so the body member is built here.
        if (isDomainError(error, 'unprocessable') && Array.isArray(error.extra?.unexpectedAccountIds)) {
          const views = await getAccounts(ctx, error.extra.unexpectedAccountIds as string[]);
          throw new DomainError(error.kind, error.message, {
            unexpected_accounts: views.map((v) => serializeAccount(v, ctx.config)),
          });
        }
        throw error;
      }
      if (result.kind === 'scheduled') {
        const media = await mediaOfScheduledStatuses(ctx, [result.scheduled.id]);
        return serializeScheduledStatus(result.scheduled, ctx.config, media.get(result.scheduled.id) ?? []);
      }
      await setActionLimitHeaders(ctx, reply, account.id, 'statuses');
      return one(ctx, account.id, result.status.id);
    },
  );

  app.get('/api/v1/statuses', { config: { auth: { scopes: READ, optional: true } } }, async (request) => {
    const query = request.query as Params;
    const ids = [...new Set(stringList(query.id ?? query['id[]']))];
    if (ids.length > MAX_BATCH_IDS)
      throw new ApiError(422, `Too many ids requested (at most ${MAX_BATCH_IDS})`);
    const wanted = ids.filter((i) => /^\d{1,19}$/.test(i));
    const viewer = viewerOf(request);
    const visible = await visibleStatusIds(ctx, viewer, wanted);
    const views = await loadStatusViews(
      ctx,
      viewer,
      wanted.filter((i) => visible.has(i)),
    );
    return views.map((v) => serializeStatus(v, ctx.config));
  });

  app.get<{ Params: { id: string } }>(
    '/api/v1/statuses/:id',
    { config: { auth: { scopes: READ, optional: true } } },
    async (request) => {
      const viewer = viewerOf(request);
      const status = await visibleStatus(ctx, viewer, request.params.id);
      return one(ctx, viewer, status.id);
    },
  );

  app.put<{ Params: { id: string } }>(
    '/api/v1/statuses/:id',
    { config: { auth: { scopes: WRITE, user: true } } },
    async (request) => {
      const { account, user } = currentUser(request);
      const body = (request.body ?? {}) as Params;
      const params: EditParams = {};
      if (body.status !== undefined) params.text = str(body.status) ?? '';
      if (body.spoiler_text !== undefined) params.spoilerText = str(body.spoiler_text) ?? '';
      if (body.sensitive !== undefined) params.sensitive = castBoolean(body.sensitive) ?? false;
      if (body.language !== undefined) params.language = str(body.language);
      if (body.media_ids !== undefined) params.mediaIds = stringList(body.media_ids);
      if (body.media_attributes !== undefined)
        params.mediaAttributes = mediaAttributes(body.media_attributes);
      if (body.poll !== undefined) params.poll = parsePoll(body.poll);
      const status = await editStatus(ctx, { account, user }, request.params.id, params);
      return one(ctx, account.id, status.id);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/statuses/:id',
    { config: { auth: { scopes: WRITE, user: true } } },
    async (request) => {
      const { account } = currentUser(request);
      const view = await loadStatusView(ctx, account.id, request.params.id);
      if (view === undefined || view.status.accountId !== account.id || view.status.reblogOfId !== null) {
        throw new ApiError(404, 'Record not found');
      }
      // Rendered before the deletion, with the source text for redrafting (Mastodon's order).
      const entity = serializeStatus(view, ctx.config, { source: true });
      const deleteMedia =
        castBoolean(
          (request.query as Params).delete_media ?? (request.body as Params | undefined)?.delete_media,
        ) === true;
      await deleteStatus(ctx, account.id, view.status.id, { deleteMedia });
      return entity;
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/statuses/:id/context',
    { config: { auth: { scopes: READ, optional: true } } },
    async (request) => {
      const viewer = viewerOf(request);
      const { ancestors, descendants } = await statusContext(ctx, viewer, request.params.id);
      const views = new Map(
        (await loadStatusViews(ctx, viewer, [...ancestors, ...descendants])).map((v) => [v.status.id, v]),
      );
      const pick = (ids: string[]) =>
        ids.flatMap((i) => {
          const v = views.get(i);
          return v ? [serializeStatus(v, ctx.config)] : [];
        });
      return { ancestors: pick(ancestors), descendants: pick(descendants) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/statuses/:id/history',
    { config: { auth: { scopes: READ, optional: true } } },
    async (request) => {
      const viewer = viewerOf(request);
      const { status, versions } = await statusHistory(ctx, viewer, request.params.id);
      const view = await loadStatusView(ctx, viewer, status.id);
      if (view === undefined) throw new ApiError(404, 'Record not found');
      const account = serializeAccount(view.account, ctx.config);
      return versions.map((v) => serializeStatusEdit(v, account, ctx.config));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/statuses/:id/source',
    { config: { auth: { scopes: READ, user: true } } },
    async (request) => {
      const { account } = currentUser(request);
      const status = await visibleStatus(ctx, account.id, request.params.id);
      return { id: status.id, text: status.text, spoiler_text: status.spoilerText };
    },
  );

  // Actions answer with the status acted on, as the viewer now sees it.
  const action = (
    path: string,
    scopes: string[],
    run: (request: FastifyRequest, accountId: string, id: string) => Promise<{ id: string }>,
    limited?: ActionFamily,
  ) =>
    app.post<{ Params: { id: string } }>(
      path,
      { config: { auth: { scopes, user: true } } },
      async (request, reply) => {
        const { account } = currentUser(request);
        const status = await run(request, account.id, request.params.id);
        if (limited !== undefined) await setActionLimitHeaders(ctx, reply, account.id, limited);
        return one(ctx, account.id, status.id);
      },
    );

  const FAVOURITES = ['write', 'write:favourites'];
  const BOOKMARKS = ['write', 'write:bookmarks'];
  action('/api/v1/statuses/:id/favourite', FAVOURITES, (_r, a, id) => favourite(ctx, a, id));
  action('/api/v1/statuses/:id/unfavourite', FAVOURITES, (_r, a, id) => unfavourite(ctx, a, id));
  action(
    '/api/v1/statuses/:id/reblog',
    WRITE,
    (request, _a, id) => {
      const { account, user } = currentUser(request);
      const body = (request.body ?? {}) as Params;
      return reblog(ctx, { account, user }, id, str(body.visibility));
    },
    'statuses',
  );
  action('/api/v1/statuses/:id/unreblog', WRITE, (_r, a, id) => unreblog(ctx, a, id));
  action('/api/v1/statuses/:id/bookmark', BOOKMARKS, (_r, a, id) => bookmark(ctx, a, id));
  action('/api/v1/statuses/:id/unbookmark', BOOKMARKS, (_r, a, id) => unbookmark(ctx, a, id));
  action('/api/v1/statuses/:id/pin', ['write', 'write:accounts'], (_r, a, id) => pin(ctx, a, id));
  action('/api/v1/statuses/:id/unpin', ['write', 'write:accounts'], (_r, a, id) => unpin(ctx, a, id));
  action('/api/v1/statuses/:id/mute', ['write', 'write:mutes'], (_r, a, id) =>
    muteConversation(ctx, a, id, true),
  );
  action('/api/v1/statuses/:id/unmute', ['write', 'write:mutes'], (_r, a, id) =>
    muteConversation(ctx, a, id, false),
  );

  const accountList = (path: string, load: typeof favouritedBy) =>
    app.get<{ Params: { id: string } }>(
      path,
      { config: { auth: { scopes: ['read', 'read:accounts'], optional: true } } },
      async (request, reply) => {
        const viewer = viewerOf(request);
        const page = parsePage(request.query, { defaultLimit: 40, maxLimit: 80 });
        const items = await load(ctx, viewer, request.params.id, page);
        const views = new Map(
          (
            await getAccounts(
              ctx,
              items.map((i) => i.account.id),
            )
          ).map((v) => [v.account.id, v]),
        );
        const shown = items.filter((i) => views.has(i.account.id));
        setLinkHeader(reply, request, { items, idOf: (i) => i.cursor, next: items.length >= page.limit });
        return shown.map((i) => serializeAccount(views.get(i.account.id)!, ctx.config));
      },
    );
  accountList('/api/v1/statuses/:id/favourited_by', favouritedBy);
  accountList('/api/v1/statuses/:id/reblogged_by', rebloggedBy);

  app.get<{ Params: { id: string } }>(
    '/api/v1/polls/:id',
    { config: { auth: { scopes: READ, optional: true } } },
    async (request) => {
      const viewer = viewerOf(request);
      const { poll } = await visiblePoll(ctx, viewer, request.params.id);
      return serializePoll(await pollView(ctx, viewer, poll), viewer !== null);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/polls/:id/votes',
    { config: { auth: { scopes: WRITE, user: true } } },
    async (request) => {
      const { account } = currentUser(request);
      const body = (request.body ?? {}) as Params;
      const raw = Array.isArray(body.choices)
        ? body.choices
        : body.choices === undefined || body.choices === ''
          ? []
          : [body.choices];
      if (raw.length === 0) throw new ApiError(400, 'param is missing or the value is empty: choices');
      const choices = raw.map((c) =>
        typeof c === 'number' ? c : typeof c === 'string' && /^\d+$/.test(c) ? Number(c) : -1,
      );
      const poll = await vote(ctx, account.id, request.params.id, choices);
      return serializePoll(await pollView(ctx, account.id, poll), true);
    },
  );
}

/**
 * `media_attributes[]` of an edit: `[{id, description, focus, thumbnail}]` as a JSON array, or a
 * Rails hash (`media_attributes[0][id]=…`); entries without an id are ignored, as by Mastodon.
 */
function mediaAttributes(raw: unknown): ({ id: string } & MediaParams)[] {
  const entries = Array.isArray(raw)
    ? raw
    : typeof raw === 'object' && raw !== null
      ? Object.values(raw as Record<string, unknown>)
      : [];
  return entries.flatMap((entry) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const e = entry as Record<string, unknown>;
    const id = typeof e.id === 'string' || typeof e.id === 'number' ? String(e.id) : undefined;
    if (id === undefined) return [];
    return [{ id, ...mediaParams(e, false) }];
  });
}
