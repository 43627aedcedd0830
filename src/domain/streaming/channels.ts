import type { StatusFactsWire } from './status-facts.ts';

/**
 * The streaming wire, shared by the publishers (domain → ctx.pubsub) and the streaming server
 * (ctx.pubsub → clients): channel names, event names and the presence keys. Channel names are
 * Mastodon's own, so the layout matches what operators know from Mastodon's Redis.
 */

/** Events a client may receive. */
export const StreamEvent = {
  update: 'update',
  delete: 'delete',
  statusUpdate: 'status.update',
  notification: 'notification',
  notificationsMerged: 'notifications_merged',
  conversation: 'conversation',
  filtersChanged: 'filters_changed',
  announcement: 'announcement',
  announcementReaction: 'announcement.reaction',
  announcementDelete: 'announcement.delete',
} as const;

export type StreamEventName = (typeof StreamEvent)[keyof typeof StreamEvent];

/** Internal control events: acted on by the streaming server, never forwarded to clients. */
export const ControlEvent = {
  /** Close the connections listening on this channel (revoked token, closed account). */
  kill: 'kill',
  /** The account's blocks, mutes, domain blocks, blockers or chosen languages changed: reload them. */
  viewerStateChanged: 'viewer_state_changed',
} as const;

export type ControlEventName = (typeof ControlEvent)[keyof typeof ControlEvent];

/** The body of every message on a channel; `payload` is an entity, an id string or absent. */
export interface StreamMessage {
  event: StreamEventName | ControlEventName;
  payload?: unknown;
  /** Woolly's: the facts the per-viewer filter reads, beside a status payload (status-facts.ts). */
  status_facts?: StatusFactsWire;
}

/**
 * How long a presence key lives without a refresh, and how often the streaming server refreshes it
 * while a connection streams the channel: three refreshes per lifetime, so one missed refresh (a
 * busy event loop, a slow Redis) does not make publishers stop rendering for a connected user.
 */
export const PRESENCE_TTL_SECONDS = 18 * 60;
export const PRESENCE_REFRESH_SECONDS = 6 * 60;

/** The `user` stream: home updates, deletes, edits, filter and announcement events. */
export function userChannel(accountId: string): string {
  return `timeline:${accountId}`;
}

/** The `user:notification` stream (and the notification half of `user`). */
export function notificationsChannel(accountId: string): string {
  return `timeline:${accountId}:notifications`;
}

/** Which half of the federated timeline a public channel carries. */
export type PublicScope = 'all' | 'local' | 'remote';

/** `timeline:public`, `timeline:public:local`, `timeline:public:remote`, each with a `:media` variant. */
export function publicChannel(scope: PublicScope, onlyMedia = false): string {
  const base = scope === 'all' ? 'timeline:public' : `timeline:public:${scope}`;
  return onlyMedia ? `${base}:media` : base;
}

/** `timeline:hashtag:<tag>` or its `:local` half; the tag is normalised here, so any spelling works. */
export function hashtagChannel(tag: string, localOnly = false): string {
  const base = `timeline:hashtag:${streamTagName(tag)}`;
  return localOnly ? `${base}:local` : base;
}

export function listChannel(listId: string): string {
  return `timeline:list:${listId}`;
}

/** The `direct` stream: conversation updates of one account. */
export function directChannel(accountId: string): string {
  return `timeline:direct:${accountId}`;
}

/** Control channel of one access token: `kill` when it is revoked. */
export function accessTokenChannel(tokenId: string): string {
  return `timeline:access_token:${tokenId}`;
}

/** Control channel of one account: `kill`, `filters_changed`, `viewer_state_changed`. */
export function systemChannel(accountId: string): string {
  return `timeline:system:${accountId}`;
}

/** The cache key that exists while some connection streams `channel`. */
export function presenceKey(channel: string): string {
  return `subscribed:${channel}`;
}

/**
 * Latin letters with diacritics (Latin-1 Supplement and Latin Extended-A) folded to their ASCII
 * letter, the same set Mastodon folds, so `#Café` and `#cafe` share a channel. Letters without an
 * ASCII base (æ, ß, þ, œ) stay as they are, as in Mastodon.
 */
const FOLD_WITHOUT_DECOMPOSITION: Readonly<Record<string, string>> = {
  Ð: 'D',
  ð: 'd',
  Đ: 'D',
  đ: 'd',
  Ħ: 'H',
  ħ: 'h',
  ı: 'i',
  ĸ: 'k',
  Ŀ: 'L',
  ŀ: 'l',
  Ł: 'L',
  ł: 'l',
  ŉ: 'n',
  Ŋ: 'N',
  ŋ: 'n',
  Ø: 'O',
  ø: 'o',
  ſ: 's',
  Ŧ: 'T',
  ŧ: 't',
};

const LATIN_WITH_DIACRITIC = /[\u00c0-\u017f]/g;

function foldLatinToAscii(text: string): string {
  return text.replace(LATIN_WITH_DIACRITIC, (ch) => {
    const explicit = FOLD_WITHOUT_DECOMPOSITION[ch];
    if (explicit !== undefined) return explicit;
    // A canonical decomposition to an ASCII letter plus combining marks: keep the letter.
    const base = ch.normalize('NFD')[0];
    return base !== undefined && /^[A-Za-z]$/.test(base) ? base : ch;
  });
}

/** Anything but letters, digits and the hashtag separators `_`, `·` (U+00B7) and ZWNJ (U+200C). */
const NOT_TAG_CHARACTER = /[^\p{L}\p{N}_\u00b7\u200c]/gu;

/**
 * The name of a hashtag in channel names: NFKC, lowercase, Latin diacritics folded to ASCII, then
 * everything but letters, digits, `_`, `·` and ZWNJ dropped. Publisher and streaming server both go
 * through this one function, so a client asking for `#Café` hears statuses tagged `#cafe`.
 */
export function streamTagName(tag: string): string {
  return foldLatinToAscii(tag.normalize('NFKC').toLowerCase()).replace(NOT_TAG_CHARACTER, '');
}
