import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { serializeAccount } from '../../convert/to-api/account.ts';
import {
  serializeNotification,
  serializeNotificationGroup,
  serializeNotificationRequest,
  serializePartialAccount,
  serializePolicy,
  serializePolicyV1,
} from '../../convert/to-api/notification.ts';
import { serializeStatus } from '../../convert/to-api/status.ts';
import { isId } from '../../db/ids.ts';
import { getAccounts } from '../../domain/accounts/views.ts';
import type { Context } from '../../domain/context.ts';
import { getPolicy, policySummary, updatePolicy } from '../../domain/notifications/policy.ts';
import {
  clearNotifications,
  dismissNotification,
  dismissNotificationGroup,
  type GroupedFilter,
  getNotification,
  getNotificationGroup,
  listGroupNotifications,
  listNotificationGroups,
  listNotifications,
  type NotificationFilter,
  type NotificationGroup,
  unreadCount,
  unreadGroupCount,
} from '../../domain/notifications/queries.ts';
import {
  acceptRequests,
  dismissRequests,
  getRequest,
  listRequests,
} from '../../domain/notifications/requests.ts';
import type { NotificationRecord } from '../../domain/notifications/types.ts';
import { loadStatusViews } from '../../domain/statuses/views.ts';
import { visibleStatusIds } from '../../domain/visibility/visibility.ts';
import { currentUser } from '../auth.ts';
import { ApiError, notFound } from '../errors.ts';
import { parsePage, setLinkHeader } from '../pagination.ts';
import { stringList, truthy } from '../params.ts';

const READ = { auth: { scopes: ['read', 'read:notifications'], user: true } };
const WRITE = { auth: { scopes: ['write', 'write:notifications'], user: true } };

/** Mastodon's limits: 40 notifications (80 at most), unread counts up to 100 (1,000 at most). */
const LIST_PAGE = { defaultLimit: 40 };
const COUNT_PAGE = { defaultLimit: 100, maxLimit: 1000 };

type Params = Record<string, unknown>;
type Entity = Record<string, unknown>;

function filterFrom(query: Params, withAccount: boolean): NotificationFilter {
  const filter: NotificationFilter = {
    types: stringList(query.types, { keepBlank: true }),
    excludeTypes: stringList(query.exclude_types, { keepBlank: true }),
    includeFiltered: truthy(query.include_filtered),
  };
  if (withAccount && typeof query.account_id === 'string' && query.account_id !== '') {
    // An account id that is no id matches no notification, as a lookup by it would.
    filter.fromAccountId = isId(query.account_id) ? query.account_id : '0';
  }
  return filter;
}

function groupedFilterFrom(query: Params): GroupedFilter {
  return { ...filterFrom(query, false), groupedTypes: stringList(query.grouped_types, { keepBlank: true }) };
}

/** Serialized accounts and statuses by id, for the viewer: what the entities embed. */
async function hydrate(
  ctx: Context,
  viewerId: string,
  accountIds: readonly string[],
  statusIds: readonly string[],
): Promise<{ accounts: Map<string, Entity>; statuses: Map<string, Entity> }> {
  const visible = await visibleStatusIds(ctx, viewerId, statusIds);
  const [accountViews, statusViews] = await Promise.all([
    getAccounts(ctx, accountIds),
    loadStatusViews(ctx, viewerId, [...visible]),
  ]);
  return {
    accounts: new Map(accountViews.map((v) => [v.account.id, serializeAccount(v, ctx.config) as Entity])),
    statuses: new Map(statusViews.map((v) => [v.status.id, serializeStatus(v, ctx.config) as Entity])),
  };
}

async function renderNotifications(ctx: Context, viewerId: string, list: readonly NotificationRecord[]) {
  const { accounts, statuses } = await hydrate(
    ctx,
    viewerId,
    list.map((n) => n.fromAccountId),
    list.flatMap((n) => (n.statusId === null ? [] : [n.statusId])),
  );
  return list.flatMap((n) => {
    const entity = serializeNotification(n, accounts, statuses);
    return entity === null ? [] : [entity];
  });
}

/** GroupedNotificationsResults: each account and status once, beside the groups that name them. */
async function renderGroups(
  ctx: Context,
  viewerId: string,
  groups: readonly NotificationGroup[],
  expand: 'full' | 'partial_avatars',
) {
  const accountIds = [...new Set(groups.flatMap((g) => g.sampleAccountIds))];
  const statusIds = [
    ...new Set(groups.flatMap((g) => (g.notification.statusId === null ? [] : [g.notification.statusId]))),
  ];
  const { accounts, statuses } = await hydrate(ctx, viewerId, accountIds, statusIds);
  const shown = groups.filter((g) => {
    if (!accounts.has(g.notification.fromAccountId)) return false;
    return serializeNotification(g.notification, accounts, statuses) !== null;
  });
  const notificationGroups = shown.map((g) => {
    const entity = serializeNotificationGroup(g);
    entity.sample_account_ids = g.sampleAccountIds.filter((id) => accounts.has(id));
    return entity;
  });
  const groupStatuses = [
    ...new Set(shown.flatMap((g) => (g.notification.statusId === null ? [] : [g.notification.statusId]))),
  ].flatMap((id) => {
    const status = statuses.get(id);
    return status === undefined ? [] : [status];
  });
  const sampleIds = shown.map((g) => g.sampleAccountIds.filter((id) => accounts.has(id)));
  const pick = (ids: string[]): Entity[] =>
    ids.flatMap((id) => {
      const entity = accounts.get(id);
      return entity === undefined ? [] : [entity];
    });
  if (expand === 'partial_avatars') {
    // Full accounts for each group's first sample only; the others as avatars (Mastodon's presenter).
    const full = [...new Set(sampleIds.flatMap((ids) => ids.slice(0, 1)))];
    const partial = [...new Set(sampleIds.flatMap((ids) => ids.slice(1)))].filter((id) => !full.includes(id));
    return {
      accounts: pick(full),
      partial_accounts: pick(partial).map(serializePartialAccount),
      statuses: groupStatuses,
      notification_groups: notificationGroups,
    };
  }
  return {
    accounts: pick([...new Set(sampleIds.flat())]),
    statuses: groupStatuses,
    notification_groups: notificationGroups,
  };
}

function expandAccounts(value: unknown): 'full' | 'partial_avatars' {
  if (value === undefined || value === 'full') return 'full';
  if (value === 'partial_avatars') return 'partial_avatars';
  throw new ApiError(
    400,
    `Invalid value for 'expand_accounts': '${String(value)}', allowed values are 'full' and 'partial_avatars'`,
  );
}

function idParam(id: string): string {
  if (!isId(id)) throw notFound();
  return id;
}

async function renderPolicy(ctx: Context, accountId: string, version: 'v1' | 'v2') {
  const [policy, summary] = await Promise.all([getPolicy(ctx, accountId), policySummary(ctx, accountId)]);
  return version === 'v1' ? serializePolicyV1(policy, summary) : serializePolicy(policy, summary);
}

export function notificationRoutes(app: FastifyInstance, ctx: Context): void {
  // ——— v1 ———

  app.get('/api/v1/notifications', { config: READ }, async (request, reply) => {
    const { account } = currentUser(request);
    const query = (request.query ?? {}) as Params;
    const page = parsePage(query, LIST_PAGE);
    const list = await listNotifications(ctx, account.id, filterFrom(query, true), page);
    setLinkHeader(reply, request, { items: list, idOf: (n) => n.id });
    return renderNotifications(ctx, account.id, list);
  });

  app.get('/api/v1/notifications/unread_count', { config: READ }, async (request) => {
    const { account } = currentUser(request);
    const query = (request.query ?? {}) as Params;
    const { limit } = parsePage(query, COUNT_PAGE);
    return { count: await unreadCount(ctx, account.id, filterFrom(query, true), limit) };
  });

  app.post('/api/v1/notifications/clear', { config: WRITE }, async (request) => {
    await clearNotifications(ctx, currentUser(request).account.id);
    return {};
  });

  app.get<{ Params: { id: string } }>('/api/v1/notifications/:id', { config: READ }, async (request) => {
    const { account } = currentUser(request);
    const n = await getNotification(ctx, account.id, idParam(request.params.id));
    if (n === undefined) throw notFound();
    const [entity] = await renderNotifications(ctx, account.id, [n]);
    if (entity === undefined) throw notFound();
    return entity;
  });

  app.post<{ Params: { id: string } }>(
    '/api/v1/notifications/:id/dismiss',
    { config: WRITE },
    async (request) => {
      const { account } = currentUser(request);
      if (!(await dismissNotification(ctx, account.id, idParam(request.params.id)))) throw notFound();
      return {};
    },
  );

  // ——— Policy ———

  for (const version of ['v1', 'v2'] as const) {
    const path = `/api/${version}/notifications/policy`;
    app.get(path, { config: READ }, async (request) =>
      renderPolicy(ctx, currentUser(request).account.id, version),
    );
    const update = async (request: FastifyRequest) => {
      const { account } = currentUser(request);
      const params = { ...((request.query ?? {}) as Params), ...((request.body ?? {}) as Params) };
      await updatePolicy(ctx, account.id, params, version);
      return renderPolicy(ctx, account.id, version);
    };
    app.put(path, { config: WRITE }, update);
    app.patch(path, { config: WRITE }, update);
  }

  // ——— Requests ———

  const renderRequests = async (viewerId: string, requests: Awaited<ReturnType<typeof listRequests>>) => {
    const { accounts, statuses } = await hydrate(
      ctx,
      viewerId,
      requests.map((r) => r.fromAccountId),
      requests.flatMap((r) => (r.lastStatusId === null ? [] : [r.lastStatusId])),
    );
    return requests.flatMap((r) => {
      const account = accounts.get(r.fromAccountId);
      if (account === undefined) return [];
      const status = r.lastStatusId === null ? null : (statuses.get(r.lastStatusId) ?? null);
      return [serializeNotificationRequest(r, account, status)];
    });
  };

  app.get('/api/v1/notifications/requests', { config: READ }, async (request, reply) => {
    const { account } = currentUser(request);
    const page = parsePage(request.query, LIST_PAGE);
    const requests = await listRequests(ctx, account.id, page);
    setLinkHeader(reply, request, {
      items: requests,
      idOf: (r) => r.id,
      next: requests.length === page.limit,
    });
    return renderRequests(account.id, requests);
  });

  app.get('/api/v1/notifications/requests/merged', { config: READ }, async (request) => {
    currentUser(request);
    // Accepting merges before it answers (src/domain/notifications/requests.ts): nothing is pending.
    return { merged: true };
  });

  const bulkIds = (request: FastifyRequest): string[] => {
    const params = { ...((request.query ?? {}) as Params), ...((request.body ?? {}) as Params) };
    return stringList(params.id).filter(isId);
  };

  app.post('/api/v1/notifications/requests/accept', { config: WRITE }, async (request) => {
    await acceptRequests(ctx, currentUser(request).account.id, bulkIds(request));
    return {};
  });

  app.post('/api/v1/notifications/requests/dismiss', { config: WRITE }, async (request) => {
    await dismissRequests(ctx, currentUser(request).account.id, bulkIds(request));
    return {};
  });

  const ownRequest = async (request: FastifyRequest<{ Params: { id: string } }>) => {
    const { account } = currentUser(request);
    const found = await getRequest(ctx, account.id, idParam(request.params.id));
    if (found === undefined) throw notFound();
    return { account, found };
  };

  app.get<{ Params: { id: string } }>(
    '/api/v1/notifications/requests/:id',
    { config: READ },
    async (request) => {
      const { account, found } = await ownRequest(request);
      const [entity] = await renderRequests(account.id, [found]);
      if (entity === undefined) throw notFound();
      return entity;
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/notifications/requests/:id/accept',
    { config: WRITE },
    async (request) => {
      const { account, found } = await ownRequest(request);
      await acceptRequests(ctx, account.id, [found.id]);
      return {};
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/notifications/requests/:id/dismiss',
    { config: WRITE },
    async (request) => {
      const { account, found } = await ownRequest(request);
      await dismissRequests(ctx, account.id, [found.id]);
      return {};
    },
  );

  // ——— v2 (grouped) ———

  app.get('/api/v2/notifications', { config: READ }, async (request, reply: FastifyReply) => {
    const { account } = currentUser(request);
    const query = (request.query ?? {}) as Params;
    const expand = expandAccounts(query.expand_accounts);
    const page = parsePage(query, LIST_PAGE);
    const groups = await listNotificationGroups(ctx, account.id, groupedFilterFrom(query), page);
    setLinkHeader(reply, request, { items: groups, idOf: (g) => g.notification.id });
    return renderGroups(ctx, account.id, groups, expand);
  });

  app.get('/api/v2/notifications/unread_count', { config: READ }, async (request) => {
    const { account } = currentUser(request);
    const query = (request.query ?? {}) as Params;
    const { limit } = parsePage(query, COUNT_PAGE);
    return { count: await unreadGroupCount(ctx, account.id, groupedFilterFrom(query), limit) };
  });

  app.post('/api/v2/notifications/clear', { config: WRITE }, async (request) => {
    await clearNotifications(ctx, currentUser(request).account.id);
    return {};
  });

  app.get<{ Params: { group_key: string } }>(
    '/api/v2/notifications/:group_key',
    { config: READ },
    async (request) => {
      const { account } = currentUser(request);
      const group = await getNotificationGroup(ctx, account.id, request.params.group_key);
      if (group === undefined) throw notFound();
      const rendered = await renderGroups(ctx, account.id, [group], 'full');
      if (rendered.notification_groups.length === 0) throw notFound();
      return rendered;
    },
  );

  app.get<{ Params: { group_key: string } }>(
    '/api/v2/notifications/:group_key/accounts',
    { config: READ },
    async (request, reply) => {
      const { account } = currentUser(request);
      const page = parsePage(request.query, LIST_PAGE);
      const list = await listGroupNotifications(ctx, account.id, request.params.group_key, page);
      setLinkHeader(reply, request, { items: list, idOf: (n) => n.id, next: list.length === page.limit });
      const views = await getAccounts(
        ctx,
        list.map((n) => n.fromAccountId),
      );
      const byId = new Map(views.map((v) => [v.account.id, v]));
      // One entry per notification, as Mastodon's (an account that followed twice appears twice).
      return list.flatMap((n) => {
        const view = byId.get(n.fromAccountId);
        return view === undefined ? [] : [serializeAccount(view, ctx.config)];
      });
    },
  );

  app.post<{ Params: { group_key: string } }>(
    '/api/v2/notifications/:group_key/dismiss',
    { config: WRITE },
    async (request) => {
      await dismissNotificationGroup(ctx, currentUser(request).account.id, request.params.group_key);
      return {};
    },
  );
}
