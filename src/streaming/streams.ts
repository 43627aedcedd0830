import { scopesAllow } from '../domain/auth/scopes.ts';
import type { Context } from '../domain/context.ts';
import { type FeedHalves, mayStreamList, streamFeedHalves } from '../domain/streaming/access.ts';
import {
  directChannel,
  hashtagChannel,
  listChannel,
  notificationsChannel,
  publicChannel,
  userChannel,
} from '../domain/streaming/channels.ts';
import { StreamError, type StreamViewer } from './auth.ts';

/**
 * The streams a client asks for (mastodon.md §3) and how each maps to pub/sub channels, which
 * halves of the feed it carries and whether its statuses are filtered per viewer.
 */
export const STREAM_NAMES = [
  'user',
  'user:notification',
  'public',
  'public:media',
  'public:local',
  'public:local:media',
  'public:remote',
  'public:remote:media',
  'hashtag',
  'hashtag:local',
  'list',
  'direct',
] as const;

export type StreamName = (typeof STREAM_NAMES)[number];

export function isStreamName(value: unknown): value is StreamName {
  return typeof value === 'string' && (STREAM_NAMES as readonly string[]).includes(value);
}

/** The SSE endpoint's stream, from its path and `only_media`; undefined for an unknown path. */
export function streamFromPath(path: string, onlyMedia: boolean): StreamName | undefined {
  switch (path.replace(/\/+$/, '')) {
    case '/api/v1/streaming/user':
      return 'user';
    case '/api/v1/streaming/user/notification':
      return 'user:notification';
    case '/api/v1/streaming/public':
      return onlyMedia ? 'public:media' : 'public';
    case '/api/v1/streaming/public/local':
      return onlyMedia ? 'public:local:media' : 'public:local';
    case '/api/v1/streaming/public/remote':
      return onlyMedia ? 'public:remote:media' : 'public:remote';
    case '/api/v1/streaming/hashtag':
      return 'hashtag';
    case '/api/v1/streaming/hashtag/local':
      return 'hashtag:local';
    case '/api/v1/streaming/direct':
      return 'direct';
    case '/api/v1/streaming/list':
      return 'list';
    default:
      return undefined;
  }
}

export interface StreamParams {
  tag?: unknown;
  list?: unknown;
}

/** One stream resolved for one viewer. */
export interface ResolvedStream {
  name: StreamName;
  /** The channels it listens to; joined, they identify the subscription on a connection. */
  channels: readonly string[];
  key: string;
  /** `stream` of the WebSocket frames: the name, with the tag or list id as the client gave it. */
  stream: readonly string[];
  /** Public and hashtag streams: the halves carried; their statuses are filtered per viewer. */
  halves: FeedHalves | null;
  /** Per-user channels: publishers render for them only while someone listens (presence keys). */
  presence: boolean;
}

/**
 * Mastodon's scope rule: `read` opens every stream; otherwise `read:statuses`, except the
 * notification stream, which needs `read:notifications`.
 */
export function checkStreamScopes(viewer: StreamViewer, name: string): void {
  const needed = name === 'user:notification' ? 'read:notifications' : 'read:statuses';
  if (!scopesAllow(viewer.scopes, ['read', needed])) {
    throw new StreamError(401, 'Access token does not have the required scopes');
  }
}

function nonEmptyParam(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/**
 * The channels of a stream for a viewer. `authorize` runs the checks that need the database (list
 * ownership); an unsubscription skips them, as it only has to find the subscription again.
 */
export async function resolveStream(
  ctx: Pick<Context, 'database'>,
  viewer: StreamViewer,
  name: unknown,
  params: StreamParams,
  options: { authorize: boolean },
): Promise<ResolvedStream> {
  if (!isStreamName(name)) throw new StreamError(400, 'Unknown stream type');
  const make = (
    channels: string[],
    stream: string[],
    halves: FeedHalves | null,
    presence: boolean,
  ): ResolvedStream => ({ name, channels, key: channels.join(';'), stream, halves, presence });
  switch (name) {
    case 'user': {
      const channels = [userChannel(viewer.accountId)];
      // The user stream carries notifications only for tokens that may read them.
      if (scopesAllow(viewer.scopes, ['read', 'read:notifications'])) {
        channels.push(notificationsChannel(viewer.accountId));
      }
      return make(channels, [name], null, true);
    }
    case 'user:notification':
      return make([notificationsChannel(viewer.accountId)], [name], null, true);
    case 'direct':
      return make([directChannel(viewer.accountId)], [name], null, true);
    case 'public':
    case 'public:media':
    case 'public:local':
    case 'public:local:media':
    case 'public:remote':
    case 'public:remote:media': {
      const scope = name.includes(':local') ? 'local' : name.includes(':remote') ? 'remote' : 'all';
      const channel = publicChannel(scope, name.endsWith(':media'));
      return make([channel], [name], streamFeedHalves('live', viewer.permissions), false);
    }
    case 'hashtag':
    case 'hashtag:local': {
      const tag = nonEmptyParam(params.tag);
      if (tag === undefined) throw new StreamError(400, 'Missing tag name parameter');
      const channel = hashtagChannel(tag, name === 'hashtag:local');
      return make([channel], [name, tag], streamFeedHalves('hashtag', viewer.permissions), false);
    }
    case 'list': {
      const list = nonEmptyParam(params.list);
      if (list === undefined) throw new StreamError(400, 'Missing list name parameter');
      if (
        options.authorize &&
        !(/^\d{1,19}$/.test(list) && (await mayStreamList(ctx, viewer.accountId, list)))
      ) {
        throw new StreamError(401, 'Not authorized to stream this list');
      }
      return make([listChannel(list)], [name, list], null, true);
    }
  }
}
