import type { Logger } from 'pino';
import type { Context } from '../domain/context.ts';
import {
  accessTokenChannel,
  ControlEvent,
  PRESENCE_REFRESH_SECONDS,
  PRESENCE_TTL_SECONDS,
  presenceKey,
  StreamEvent,
  systemChannel,
} from '../domain/streaming/channels.ts';
import { statusFactsFromWire } from '../domain/streaming/status-facts.ts';
import { loadViewerState, statusReachesViewer, type ViewerState } from '../domain/streaming/viewer-state.ts';
import type { MessageHandler, Unsubscribe } from '../infra/pubsub/pubsub.ts';
import { errorStatusAndMessage, StreamError } from './auth.ts';
import {
  MAX_QUEUED_MESSAGES,
  type SseConnection,
  type StreamConnection,
  type WsConnection,
} from './connections.ts';
import { Delivery, errorFrame } from './frames.ts';
import { checkStreamScopes, type ResolvedStream, resolveStream, type StreamParams } from './streams.ts';

/**
 * The streaming process's heart (DESIGN.md §7–§8). Whatever the number of connections:
 * - each pub/sub channel is subscribed once, and each message is parsed once and framed once per
 *   `stream` tuple, the same bytes going to every connection;
 * - public and hashtag statuses are filtered per viewer in memory, against a state loaded once per
 *   account (shared by its connections) and reloaded on `viewer_state_changed`: never a query per
 *   delivery;
 * - one timer for the WebSocket pings, one for the SSE heartbeats, one for the presence keys.
 */
export interface HubOptions {
  /** SSE heartbeat comment (Mastodon: 15 s). */
  heartbeatIntervalMs?: number;
  /** WebSocket ping; a socket that has not answered the previous one is dropped (Mastodon: 30 s). */
  pingIntervalMs?: number;
  /** How often presence keys are refreshed (their TTL is three times this by default). */
  presenceRefreshMs?: number;
  /** A client with more than this waiting to be written is disconnected (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Streams one WebSocket may listen to at once. */
  maxStreamsPerConnection?: number;
  /** How long a shutdown waits for WebSocket closing handshakes before cutting the sockets. */
  shutdownGraceMs?: number;
}

/** One stream a connection listens to. */
export interface Subscription {
  readonly connection: StreamConnection;
  readonly stream: ResolvedStream;
  /** The `stream` tuple encoded once, for the frames. */
  readonly streamJson: string;
  readonly channels: ChannelEntry[];
}

/** One pub/sub channel this process listens to, for as long as something needs it. */
interface ChannelEntry {
  readonly name: string;
  refs: number;
  /** Resolves once the pub/sub subscription is live (and the presence key set). */
  ready: Promise<Unsubscribe>;
  /** Data channels: the subscriptions it feeds. */
  readonly subscriptions: Set<Subscription>;
  /** Per-user channel whose presence key this process keeps alive. */
  readonly presence: boolean;
}

/** The filter state of one account, shared by all its connections. */
interface ViewerEntry {
  readonly accountId: string;
  state: ViewerState | null;
  readonly connections: Set<StreamConnection>;
  ready: Promise<void>;
  system: ChannelEntry;
  loading: boolean;
  reloadAgain: boolean;
}

const CONTROL_EVENTS: ReadonlySet<string> = new Set(Object.values(ControlEvent));
const noop = async () => {};

export class Hub {
  readonly maxBufferedBytes: number;
  private readonly ctx: Context;
  private readonly log: Logger;
  private readonly options: Required<HubOptions>;
  private readonly channels = new Map<string, ChannelEntry>();
  private readonly viewers = new Map<string, ViewerEntry>();
  private readonly tokens = new Map<string, { entry: ChannelEntry; connections: Set<StreamConnection> }>();
  private readonly sockets = new Set<WsConnection>();
  private readonly eventStreams = new Set<SseConnection>();
  private readonly timers: NodeJS.Timeout[] = [];
  private closing = false;

  constructor(ctx: Context, options: HubOptions = {}) {
    this.ctx = ctx;
    this.log = ctx.log.child({ component: 'streaming' });
    this.options = {
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 15_000,
      pingIntervalMs: options.pingIntervalMs ?? 30_000,
      presenceRefreshMs: options.presenceRefreshMs ?? PRESENCE_REFRESH_SECONDS * 1000,
      maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
      maxStreamsPerConnection: options.maxStreamsPerConnection ?? 256,
      shutdownGraceMs: options.shutdownGraceMs ?? 2_000,
    };
    this.maxBufferedBytes = this.options.maxBufferedBytes;
    const every = (ms: number, fn: () => void) => {
      const timer = setInterval(fn, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.pingIntervalMs, () => {
      for (const connection of this.sockets) connection.ping();
    });
    every(this.options.heartbeatIntervalMs, () => {
      for (const connection of this.eventStreams) connection.heartbeat();
    });
    every(this.options.presenceRefreshMs, () => this.refreshPresence());
  }

  /** Connections open now (WebSocket, SSE). */
  get connectionCount(): { websocket: number; eventsource: number } {
    return { websocket: this.sockets.size, eventsource: this.eventStreams.size };
  }

  /** Pub/sub channels this process listens to now. */
  get channelCount(): number {
    return this.channels.size;
  }

  /**
   * Registers a new connection: its account's filter state and control channel, its token's
   * control channel. Resolves once they are live; throws (and releases everything) when they
   * cannot be set up. A connection closed meanwhile is released by its close.
   */
  async open(connection: StreamConnection): Promise<void> {
    if (this.closing) throw new StreamError(503, 'The streaming server is shutting down');
    if (connection.kind === 'ws') this.sockets.add(connection);
    else this.eventStreams.add(connection);
    const viewer = this.acquireViewer(connection);
    const token = this.acquireToken(connection);
    try {
      await Promise.all([viewer.ready, token.ready]);
    } catch (error) {
      connection.markClosed();
      throw error;
    }
  }

  /** Starts a stream on a connection; a stream it already has is left as it is. */
  async subscribe(connection: StreamConnection, stream: ResolvedStream): Promise<void> {
    if (connection.closed || connection.subscriptions.has(stream.key)) return;
    if (connection.subscriptions.size >= this.options.maxStreamsPerConnection) {
      throw new StreamError(400, 'Too many streams on this connection');
    }
    const subscription: Subscription = {
      connection,
      stream,
      streamJson: JSON.stringify(stream.stream),
      channels: [],
    };
    connection.subscriptions.set(stream.key, subscription);
    for (const name of stream.channels) {
      const entry = this.acquireChannel(name, stream.presence);
      entry.subscriptions.add(subscription);
      subscription.channels.push(entry);
    }
    try {
      await Promise.all(subscription.channels.map((entry) => entry.ready));
    } catch (error) {
      this.unsubscribe(connection, stream.key);
      throw error;
    }
  }

  unsubscribe(connection: StreamConnection, key: string): void {
    const subscription = connection.subscriptions.get(key);
    if (subscription === undefined) return;
    connection.subscriptions.delete(key);
    for (const entry of subscription.channels) {
      entry.subscriptions.delete(subscription);
      this.releaseChannel(entry);
    }
  }

  /** The multiplexed protocol: `{"type":"subscribe"|"unsubscribe","stream":…,"tag":…,"list":…}`. */
  onClientMessage(connection: WsConnection, text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      connection.send(errorFrame('Invalid JSON in message', 400));
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      connection.send(errorFrame('A message must be a JSON object', 400));
      return;
    }
    const { type, stream, ...params } = message as Record<string, unknown>;
    if (type !== 'subscribe' && type !== 'unsubscribe') {
      connection.send(errorFrame('Unknown message type: expected subscribe or unsubscribe', 400));
      return;
    }
    if (connection.queued >= MAX_QUEUED_MESSAGES) {
      connection.send(errorFrame('Too many messages waiting: slow down', 429));
      return;
    }
    const name = Array.isArray(stream) ? stream[0] : stream;
    connection.queued++;
    connection.queue = connection.queue
      .then(() =>
        type === 'subscribe'
          ? this.subscribeByName(connection, name, params).then((error) => {
              if (error !== undefined) connection.send(error);
            })
          : this.unsubscribeFromClient(connection, name, params),
      )
      .finally(() => {
        connection.queued--;
      });
  }

  /**
   * Subscribes a connection to a stream by name. Failures come back as the error frame to send
   * (the socket stays open, as in Mastodon); undefined when the stream is live.
   */
  async subscribeByName(
    connection: WsConnection,
    name: unknown,
    params: StreamParams,
  ): Promise<string | undefined> {
    try {
      checkStreamScopes(connection.viewer, String(name));
      const stream = await resolveStream(this.ctx, connection.viewer, name, params, { authorize: true });
      await this.subscribe(connection, stream);
      return undefined;
    } catch (error) {
      const { status, message } = errorStatusAndMessage(error);
      if (status >= 500) {
        this.log.error({ err: error, accountId: connection.viewer.accountId }, 'subscription failed');
      }
      return errorFrame(message, status);
    }
  }

  private async unsubscribeFromClient(
    connection: WsConnection,
    name: unknown,
    params: StreamParams,
  ): Promise<void> {
    try {
      const stream = await resolveStream(this.ctx, connection.viewer, name, params, { authorize: false });
      this.unsubscribe(connection, stream.key);
    } catch (error) {
      const { status } = errorStatusAndMessage(error);
      connection.send(errorFrame('Error unsubscribing from channel', status));
    }
  }

  onConnectionClosed(connection: StreamConnection): void {
    if (connection.kind === 'ws') this.sockets.delete(connection);
    else this.eventStreams.delete(connection);
    for (const key of [...connection.subscriptions.keys()]) this.unsubscribe(connection, key);
    this.releaseToken(connection);
    this.releaseViewer(connection);
  }

  /** Closes every connection (WebSockets with 1001) and stops the timers; for the server's close. */
  async shutdown(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearInterval(timer);
    const sockets = [...this.sockets].flatMap((c) => (c.socket === null ? [] : [c.socket]));
    const closed = sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === socket.CLOSED) resolve();
          else socket.once('close', () => resolve());
        }),
    );
    for (const connection of [...this.sockets, ...this.eventStreams]) connection.close('shutdown');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(closed),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.shutdownGraceMs);
      }),
    ]);
    clearTimeout(timer);
    for (const socket of sockets) socket.terminate();
  }

  // ---- pub/sub channels

  /**
   * Takes a reference on a channel, subscribing at the pub/sub on the first one. A data channel
   * (no `control` handler) dispatches to its entry's subscriptions: the handler is bound to the
   * entry, so an old subscription still being torn down never feeds a newer entry of the same name.
   */
  private acquireChannel(name: string, presence: boolean, control?: MessageHandler): ChannelEntry {
    const existing = this.channels.get(name);
    if (existing !== undefined) {
      existing.refs++;
      return existing;
    }
    const entry: ChannelEntry = {
      name,
      refs: 1,
      ready: Promise.resolve(noop),
      subscriptions: new Set(),
      presence,
    };
    const handler = control ?? ((raw: string) => this.dispatch(entry, raw));
    entry.ready = this.ctx.pubsub.subscribe(name, handler).then(async (unsubscribe) => {
      if (presence) await this.setPresence(name);
      return unsubscribe;
    });
    entry.ready.catch((err: unknown) => {
      this.log.error({ err, channel: name }, 'subscribing to a channel failed');
      if (this.channels.get(name) === entry) this.channels.delete(name);
    });
    this.channels.set(name, entry);
    return entry;
  }

  private releaseChannel(entry: ChannelEntry): void {
    entry.refs--;
    if (entry.refs > 0 || this.channels.get(entry.name) !== entry) return;
    this.channels.delete(entry.name);
    // The presence key is left to expire: another streaming process may still serve the user.
    entry.ready.then((unsubscribe) => unsubscribe()).catch(noop);
  }

  private dispatch(entry: ChannelEntry, raw: string): void {
    if (entry.subscriptions.size === 0) return;
    const message = parseMessage(raw);
    if (message === undefined) {
      this.log.warn({ channel: entry.name }, 'dropped a malformed message');
      return;
    }
    if (CONTROL_EVENTS.has(message.event)) return;
    const delivery = new Delivery(message.event, message.payload, statusFactsFromWire(message.statusFacts));
    const filtered = message.event === StreamEvent.update || message.event === StreamEvent.statusUpdate;
    const now = Date.now();
    for (const subscription of entry.subscriptions) {
      const connection = subscription.connection;
      const halves = subscription.stream.halves;
      if (filtered && halves !== null) {
        const facts = delivery.statusFacts();
        if (facts === null || !(facts.domain === null ? halves.local : halves.remote)) continue;
        const state = this.viewers.get(connection.viewer.accountId)?.state;
        if (state == null || !statusReachesViewer(state, facts, now)) continue;
      }
      if (connection.kind === 'ws') connection.deliver(delivery, subscription);
      else connection.deliver(delivery);
    }
  }

  // ---- presence

  private async setPresence(channel: string): Promise<void> {
    try {
      await this.ctx.cache.set(presenceKey(channel), '1', PRESENCE_TTL_SECONDS);
    } catch (err) {
      // Presence only decides whether publishers render; the stream itself still works.
      this.log.warn({ err, channel }, 'setting a presence key failed');
    }
  }

  private refreshPresence(): void {
    for (const entry of this.channels.values()) {
      if (entry.presence) void this.setPresence(entry.name);
    }
  }

  // ---- control channels

  private acquireToken(connection: StreamConnection): ChannelEntry {
    const tokenId = connection.viewer.tokenId;
    let token = this.tokens.get(tokenId);
    if (token === undefined) {
      const entry = this.acquireChannel(accessTokenChannel(tokenId), false, (raw) =>
        this.onTokenMessage(tokenId, raw),
      );
      token = { entry, connections: new Set() };
      this.tokens.set(tokenId, token);
    }
    token.connections.add(connection);
    return token.entry;
  }

  private releaseToken(connection: StreamConnection): void {
    const tokenId = connection.viewer.tokenId;
    const token = this.tokens.get(tokenId);
    if (token === undefined || !token.connections.delete(connection)) return;
    if (token.connections.size > 0) return;
    this.tokens.delete(tokenId);
    this.releaseChannel(token.entry);
  }

  private onTokenMessage(tokenId: string, raw: string): void {
    if (parseMessage(raw)?.event !== ControlEvent.kill) return;
    const token = this.tokens.get(tokenId);
    if (token === undefined) return;
    this.log.info({ tokenId }, 'access token revoked: closing its streams');
    for (const connection of [...token.connections]) connection.close('kill');
  }

  private acquireViewer(connection: StreamConnection): ViewerEntry {
    const accountId = connection.viewer.accountId;
    let viewer = this.viewers.get(accountId);
    if (viewer === undefined) {
      const system = this.acquireChannel(systemChannel(accountId), false, (raw) =>
        this.onSystemMessage(accountId, raw),
      );
      const created: ViewerEntry = {
        accountId,
        state: null,
        connections: new Set(),
        ready: Promise.resolve(),
        system,
        loading: true,
        reloadAgain: false,
      };
      // The control channel first, so that a change made while the state loads triggers a reload.
      created.ready = system.ready
        .then(() => loadViewerState(this.ctx, accountId))
        .then((state) => {
          created.state = state;
        })
        .finally(() => this.loaded(created));
      created.ready.catch(() => {
        if (this.viewers.get(accountId) === created) {
          this.viewers.delete(accountId);
          this.releaseChannel(created.system);
        }
      });
      this.viewers.set(accountId, created);
      viewer = created;
    }
    viewer.connections.add(connection);
    return viewer;
  }

  private releaseViewer(connection: StreamConnection): void {
    const accountId = connection.viewer.accountId;
    const viewer = this.viewers.get(accountId);
    if (viewer === undefined || !viewer.connections.delete(connection)) return;
    if (viewer.connections.size > 0) return;
    this.viewers.delete(accountId);
    this.releaseChannel(viewer.system);
  }

  private onSystemMessage(accountId: string, raw: string): void {
    const viewer = this.viewers.get(accountId);
    if (viewer === undefined) return;
    const event = parseMessage(raw)?.event;
    if (event === ControlEvent.kill) {
      this.log.info({ accountId }, 'account closed: closing its streams');
      for (const connection of [...viewer.connections]) connection.close('kill');
    } else if (event === ControlEvent.viewerStateChanged || event === StreamEvent.filtersChanged) {
      this.reloadViewer(viewer);
    }
  }

  /** Reloads an account's state; changes arriving during a load make one more load after it. */
  private reloadViewer(viewer: ViewerEntry): void {
    if (viewer.loading) {
      viewer.reloadAgain = true;
      return;
    }
    viewer.loading = true;
    loadViewerState(this.ctx, viewer.accountId)
      .then((state) => {
        viewer.state = state;
      })
      .catch((err: unknown) => {
        this.log.error({ err, accountId: viewer.accountId }, 'reloading a viewer state failed');
      })
      .finally(() => this.loaded(viewer));
  }

  private loaded(viewer: ViewerEntry): void {
    viewer.loading = false;
    if (viewer.reloadAgain && this.viewers.get(viewer.accountId) === viewer) {
      viewer.reloadAgain = false;
      this.reloadViewer(viewer);
    }
  }
}

/**
 * `{"event": …, "payload": …}` from the wire, with Woolly's `status_facts` when the publisher sent
 * them; undefined when it is not that.
 */
function parseMessage(raw: string): { event: string; payload: unknown; statusFacts: unknown } | undefined {
  let message: unknown;
  try {
    message = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null) return undefined;
  const { event, payload, status_facts: statusFacts } = message as Record<string, unknown>;
  return typeof event === 'string' && event !== '' ? { event, payload, statusFacts } : undefined;
}
