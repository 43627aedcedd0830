/**
 * The content limits Woolly enforces and advertises, Mastodon 4.5's defaults (mastodon.md §8.2).
 * The instance entity publishes these numbers, and the features that accept content enforce the
 * same constants, so what clients are told and what the server checks cannot drift apart.
 */

export const ACCOUNT_LIMITS = {
  maxFeaturedTags: 10,
  maxPinnedStatuses: 5,
} as const;

export const STATUS_LIMITS = {
  /** Graphemes of text plus content warning (local posts only). */
  maxCharacters: 500,
  maxMediaAttachments: 4,
  /** Each URL counts as this many characters, whatever its length. */
  charactersReservedPerUrl: 23,
} as const;

export const MEDIA_LIMITS = {
  /** Alt text, in characters. */
  descriptionLimit: 1500,
  /** 16 MiB. */
  imageSizeLimit: 16_777_216,
  /** Pixels (width × height) accepted on upload. */
  imageMatrixLimit: 33_177_600,
  /** 99 MiB (video and audio). */
  videoSizeLimit: 103_809_024,
  videoFrameRateLimit: 120,
  /** Pixels (width × height): 3840×2160. */
  videoMatrixLimit: 8_294_400,
} as const;

/** MIME types accepted for media uploads, in Mastodon's order. */
export const SUPPORTED_MIME_TYPES: readonly string[] = [
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/heic',
  'image/heif',
  'image/webp',
  'image/avif',
  'video/webm',
  'video/mp4',
  'video/quicktime',
  'video/ogg',
  'audio/wave',
  'audio/wav',
  'audio/x-wav',
  'audio/x-pn-wave',
  'audio/vnd.wave',
  'audio/ogg',
  'audio/vorbis',
  'audio/mpeg',
  'audio/mp3',
  'audio/webm',
  'audio/flac',
  'audio/aac',
  'audio/m4a',
  'audio/x-m4a',
  'audio/mp4',
  'audio/3gpp',
  'video/x-ms-asf',
];

export const POLL_LIMITS = {
  maxOptions: 4,
  maxCharactersPerOption: 50,
  /** Seconds: 5 minutes. */
  minExpiration: 300,
  /** Seconds: one month (30.436875 days). */
  maxExpiration: 2_629_746,
} as const;

/** Mastodon's ScheduledStatus rules (not advertised by the instance entity). */
export const SCHEDULED_STATUS_LIMITS = {
  /** A scheduled status is at least this far ahead (ms): 5 minutes. */
  minOffsetMs: 5 * 60 * 1000,
  /** Scheduled statuses an account may have waiting. */
  total: 300,
  /** Of those, scheduled for one day (UTC). */
  daily: 25,
} as const;
