import type { FastifyInstance } from 'fastify';
import { serializeScheduledStatus } from '../../convert/to-api/scheduled-status.ts';
import type { Context } from '../../domain/context.ts';
import { mediaOfScheduledStatuses } from '../../domain/media/attach.ts';
import {
  cancelScheduledStatus,
  getScheduledStatus,
  listScheduledStatuses,
  rescheduleStatus,
  type ScheduledStatusRecord,
} from '../../domain/statuses/scheduled.ts';
import { currentUser } from '../auth.ts';
import { parsePage, setLinkHeader } from '../pagination.ts';

const READ = ['read', 'read:statuses'];
const WRITE = ['write', 'write:statuses'];

/** `/api/v1/scheduled_statuses`: the user's statuses waiting for their time. */
export function scheduledStatusRoutes(app: FastifyInstance, ctx: Context): void {
  const render = async (row: ScheduledStatusRecord) =>
    serializeScheduledStatus(
      row,
      ctx.config,
      (await mediaOfScheduledStatuses(ctx, [row.id])).get(row.id) ?? [],
    );

  app.get(
    '/api/v1/scheduled_statuses',
    { config: { auth: { scopes: READ, user: true } } },
    async (request, reply) => {
      const { account } = currentUser(request);
      const page = parsePage(request.query);
      const rows = await listScheduledStatuses(ctx, account.id, page);
      setLinkHeader(reply, request, { items: rows, idOf: (r) => r.id, next: rows.length >= page.limit });
      const media = await mediaOfScheduledStatuses(
        ctx,
        rows.map((r) => r.id),
      );
      return rows.map((r) => serializeScheduledStatus(r, ctx.config, media.get(r.id) ?? []));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/scheduled_statuses/:id',
    { config: { auth: { scopes: READ, user: true } } },
    async (request) => {
      const { account } = currentUser(request);
      return render(await getScheduledStatus(ctx, account.id, request.params.id));
    },
  );

  app.put<{ Params: { id: string } }>(
    '/api/v1/scheduled_statuses/:id',
    { config: { auth: { scopes: WRITE, user: true } } },
    async (request) => {
      const { account } = currentUser(request);
      const body = (request.body ?? {}) as Record<string, unknown>;
      const at = typeof body.scheduled_at === 'string' ? body.scheduled_at : null;
      return render(await rescheduleStatus(ctx, account.id, request.params.id, at));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/scheduled_statuses/:id',
    { config: { auth: { scopes: WRITE, user: true } } },
    async (request) => {
      const { account } = currentUser(request);
      await cancelScheduledStatus(ctx, account.id, request.params.id);
      return {};
    },
  );
}
