import { serializeAccount } from '../convert/to-api/account.ts';
import { serializeNotification } from '../convert/to-api/notification.ts';
import { serializeStatus } from '../convert/to-api/status.ts';
import { getAccounts } from '../domain/accounts/views.ts';
import type { Context } from '../domain/context.ts';
import type { NotificationRecord } from '../domain/notifications/types.ts';
import { loadStatusView, loadViewersFlags, viewAsSeenBy } from '../domain/statuses/views.ts';
import {
  accessTokenChannel,
  ControlEvent,
  directChannel,
  hashtagChannel,
  notificationsChannel,
  presenceKey,
  publicChannel,
  StreamEvent,
  type StreamMessage,
  systemChannel,
  userChannel,
} from '../domain/streaming/channels.ts';
import type { AnnouncementReaction, DeletedStatus, StreamEvents } from '../domain/streaming/events.ts';
import { statusFactsToWire, streamedStatusFacts } from '../domain/streaming/status-facts.ts';
import { hasPublicVisibility, isPublicBroadcast, visibleStatusIds } from '../domain/visibility/visibility.ts';

/**
 * What the publisher works with. Control events (kill, viewer_state_changed, …) need only pubsub
 * and log, which is all a one-off command such as `woolly accounts modify --disable` has besides
 * its database; rendering reads the database (and whatever loadStatusViews reads: config, cache).
 */
export type PublisherDeps = Pick<Context, 'database' | 'config' | 'pubsub' | 'cache' | 'log'>;

type Entity = Record<string, unknown>;

/** How many presence checks or publishes are in flight at once (Redis pipelines them). */
const BATCH = 500;

/**
 * `ctx.streams`: renders events and publishes them on ctx.pubsub for the streaming server
 * (channel layout: src/domain/streaming/channels.ts). Per-user payloads are rendered only for users
 * who are streaming the channel right now (its presence key exists); public and hashtag payloads
 * are rendered once, anonymously, and the streaming server filters them per connection.
 */
export class StreamPublisher implements StreamEvents {
  private readonly deps: PublisherDeps;

  constructor(deps: PublisherDeps) {
    this.deps = deps;
  }

  statusDistributed(statusId: string, homeRecipients: readonly string[]): Promise<void> {
    return this.guard('statusDistributed', () =>
      this.publishStatus(statusId, homeRecipients, StreamEvent.update, false),
    );
  }

  statusUpdated(statusId: string, homeRecipients: readonly string[]): Promise<void> {
    return this.guard('statusUpdated', () =>
      this.publishStatus(statusId, homeRecipients, StreamEvent.statusUpdate, true),
    );
  }

  statusDeleted(status: DeletedStatus, homeRecipients: readonly string[]): Promise<void> {
    return this.guard('statusDeleted', async () => {
      const message = encode({ event: StreamEvent.delete, payload: status.id });
      const channels = homeRecipients.map(userChannel);
      // Mastodon's RemoveStatusService: public deletes for any public status (a boost included),
      // since its clients may hold it from a public stream or a timeline page.
      if (hasPublicVisibility(status.visibility)) {
        channels.push(...publicChannels(status.local, status.withMedia));
        channels.push(...hashtagChannels(status.tags, status.local));
      }
      await this.publishAll(unique(channels), message);
    });
  }

  notification(notification: NotificationRecord): Promise<void> {
    return this.guard('notification', async () => {
      if (notification.filtered) return;
      const recipient = notification.accountId;
      const [streaming] = await this.streamingUsers([recipient], true);
      if (streaming === undefined) return;
      const payload = await this.renderNotification(notification);
      if (payload === null) return;
      await this.deps.pubsub.publish(
        notificationsChannel(recipient),
        encode({ event: StreamEvent.notification, payload }),
      );
    });
  }

  notificationsMerged(accountId: string): Promise<void> {
    return this.guard('notificationsMerged', () =>
      this.deps.pubsub.publish(
        notificationsChannel(accountId),
        encode({ event: StreamEvent.notificationsMerged, payload: '1' }),
      ),
    );
  }

  tokensRevoked(tokenIds: readonly string[]): Promise<void> {
    return this.guard('tokensRevoked', async () => {
      const message = encode({ event: ControlEvent.kill });
      await inBatches(unique(tokenIds), (id) => this.deps.pubsub.publish(accessTokenChannel(id), message));
    });
  }

  accountClosed(accountId: string): Promise<void> {
    return this.guard('accountClosed', () =>
      this.deps.pubsub.publish(systemChannel(accountId), encode({ event: ControlEvent.kill })),
    );
  }

  viewerStateChanged(accountIds: readonly string[]): Promise<void> {
    return this.guard('viewerStateChanged', async () => {
      const message = encode({ event: ControlEvent.viewerStateChanged });
      await inBatches(unique(accountIds), (id) => this.deps.pubsub.publish(systemChannel(id), message));
    });
  }

  filtersChanged(accountId: string): Promise<void> {
    return this.guard('filtersChanged', async () => {
      // Clients refetch their filters; the streaming server drops the ones it cached.
      const message = encode({ event: StreamEvent.filtersChanged });
      await this.deps.pubsub.publish(userChannel(accountId), message);
      await this.deps.pubsub.publish(systemChannel(accountId), message);
    });
  }

  announcement(entity: Readonly<Record<string, unknown>>): Promise<void> {
    return this.guard('announcement', () =>
      this.toStreamingLocalUsers(encode({ event: StreamEvent.announcement, payload: entity })),
    );
  }

  announcementReaction(reaction: AnnouncementReaction): Promise<void> {
    return this.guard('announcementReaction', () =>
      this.toStreamingLocalUsers(
        encode({
          event: StreamEvent.announcementReaction,
          payload: { name: reaction.name, count: reaction.count, announcement_id: reaction.announcementId },
        }),
      ),
    );
  }

  announcementDeleted(announcementId: string): Promise<void> {
    return this.guard('announcementDeleted', () =>
      this.toStreamingLocalUsers(encode({ event: StreamEvent.announcementDelete, payload: announcementId })),
    );
  }

  conversation(accountId: string, render: () => Promise<Readonly<Record<string, unknown>>>): Promise<void> {
    return this.guard('conversation', async () => {
      const channel = directChannel(accountId);
      if ((await this.deps.cache.get(presenceKey(channel))) === null) return;
      const payload = await render();
      await this.deps.pubsub.publish(channel, encode({ event: StreamEvent.conversation, payload }));
    });
  }

  /**
   * `update` / `status.update` of a status: anonymous to the public and hashtag channels when it is
   * broadcast publicly (isPublicBroadcast; silencing does not exist yet), with the facts the
   * streaming server filters by beside the payload, and to each home recipient who is streaming,
   * rendered for that viewer. Edits also reach the notification streams of local accounts it
   * mentions, who may see it nowhere else.
   */
  private async publishStatus(
    statusId: string,
    homeRecipients: readonly string[],
    event: typeof StreamEvent.update | typeof StreamEvent.statusUpdate,
    edit: boolean,
  ): Promise<void> {
    const view = await loadStatusView(this.renderContext(), null, statusId);
    if (view === undefined) return; // deleted before its turn
    const { status } = view;
    const local = view.account.account.domain === null;

    if (isPublicBroadcast(status)) {
      const entity = serializeStatus(view, this.deps.config);
      const message = encode({
        event,
        payload: entity,
        status_facts: statusFactsToWire(streamedStatusFacts(view)),
      });
      const withMedia = Array.isArray(entity.media_attachments) && entity.media_attachments.length > 0;
      // Public channels leave out replies to others (Mastodon's rule); hashtag channels keep them.
      const replyToOther = status.inReplyToId !== null && status.inReplyToAccountId !== status.accountId;
      const channels = hashtagChannels(
        view.tags.map((t) => t.name),
        local,
      );
      if (!replyToOther) channels.push(...publicChannels(local, withMedia));
      await this.publishAll(unique(channels), message);
    }

    const homes = await this.streamingUsers(unique(homeRecipients), false);
    const mentioned = edit
      ? await this.streamingUsers(
          unique(view.mentions.filter((a) => a.domain === null).map((a) => a.id)),
          true,
        )
      : [];
    const viewers = unique([...homes, ...mentioned]);
    if (viewers.length === 0) return;
    const flags = await loadViewersFlags(this.deps, viewers, [
      view.status,
      ...(view.reblog ? [view.reblog.status] : []),
    ]);
    const rendered = new Map<string, string>();
    const renderFor = (viewer: string): string => {
      let message = rendered.get(viewer);
      if (message === undefined) {
        message = encode({
          event,
          payload: serializeStatus(viewAsSeenBy(view, viewer, flags), this.deps.config),
        });
        rendered.set(viewer, message);
      }
      return message;
    };
    await inBatches(homes, (viewer) => this.deps.pubsub.publish(userChannel(viewer), renderFor(viewer)));
    await inBatches(mentioned, (viewer) =>
      this.deps.pubsub.publish(notificationsChannel(viewer), renderFor(viewer)),
    );
  }

  /** The Notification entity for its recipient, as GET /api/v1/notifications renders it. */
  private async renderNotification(n: NotificationRecord): Promise<Entity | null> {
    const ctx = this.renderContext();
    const viewer = n.accountId;
    const visible =
      n.statusId === null ? new Set<string>() : await visibleStatusIds(ctx, viewer, [n.statusId]);
    const [accountViews, statusView] = await Promise.all([
      getAccounts(ctx, [n.fromAccountId]),
      n.statusId !== null && visible.has(n.statusId)
        ? loadStatusView(ctx, viewer, n.statusId)
        : Promise.resolve(undefined),
    ]);
    const accounts = new Map(
      accountViews.map((v) => [v.account.id, serializeAccount(v, ctx.config) as Entity]),
    );
    const statuses = new Map<string, Entity>();
    if (statusView) statuses.set(statusView.status.id, serializeStatus(statusView, ctx.config));
    return serializeNotification(n, accounts, statuses);
  }

  /**
   * The users among `accountIds` streaming their `user` stream (or, with `notifications`, their
   * notification stream: the `user` stream carries notifications too, as NotifyService checks).
   */
  private async streamingUsers(accountIds: readonly string[], notifications: boolean): Promise<string[]> {
    const present: string[] = [];
    await inBatches(accountIds, async (id) => {
      const keys = [presenceKey(userChannel(id))];
      if (notifications) keys.push(presenceKey(notificationsChannel(id)));
      for (const key of keys) {
        if ((await this.deps.cache.get(key)) !== null) {
          present.push(id);
          return;
        }
      }
    });
    return present;
  }

  /**
   * Announcement events go to every local user streaming `user` (Mastodon: active accounts that
   * are subscribed), each found by its presence key.
   */
  private async toStreamingLocalUsers(message: string): Promise<void> {
    const rows = await this.deps.database.query<{ id: string }>(
      `select u.account_id::text as id from users u join accounts a on a.id = u.account_id
        where not u.disabled and a.suspended_at is null`,
    );
    const streaming = await this.streamingUsers(
      rows.map((r) => String(r.id)),
      false,
    );
    await inBatches(streaming, (id) => this.deps.pubsub.publish(userChannel(id), message));
  }

  private async publishAll(channels: readonly string[], message: string): Promise<void> {
    await inBatches(channels, (channel) => this.deps.pubsub.publish(channel, message));
  }

  /**
   * loadStatusViews is typed for the whole Context but reads only the database and what the
   * publisher has besides (config, cache); a command's publisher never renders statuses.
   */
  private renderContext(): Context {
    return this.deps as Context;
  }

  /** Publishing never fails what triggered it: the failure is logged and the caller goes on. */
  private async guard(what: string, publish: () => Promise<void>): Promise<void> {
    try {
      await publish();
    } catch (err) {
      this.deps.log.warn({ err, event: what }, 'streaming: publishing an event failed');
    }
  }
}

/** `timeline:public`, its local or remote half, and their `:media` variants when it has media. */
function publicChannels(local: boolean, withMedia: boolean): string[] {
  const half = local ? 'local' : 'remote';
  const channels = [publicChannel('all'), publicChannel(half)];
  if (withMedia) channels.push(publicChannel('all', true), publicChannel(half, true));
  return channels;
}

/** Each tag's channel, and its `:local` channel for a local author's status. */
function hashtagChannels(tags: readonly string[], local: boolean): string[] {
  return tags.flatMap((tag) =>
    local ? [hashtagChannel(tag), hashtagChannel(tag, true)] : [hashtagChannel(tag)],
  );
}

function encode(message: StreamMessage): string {
  return JSON.stringify(message);
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

async function inBatches<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await Promise.all(items.slice(i, i + BATCH).map(fn));
}

/** Gives a context its `streams` (the publisher needs the context it belongs to, so it comes last). */
export function withStreams<T extends PublisherDeps>(base: T): T & { streams: StreamEvents } {
  const ctx = base as T & { streams: StreamEvents };
  ctx.streams = new StreamPublisher(base);
  return ctx;
}
