/** The shapes media rows and the API share (db/schema/media.ts, convert/to-api/media.ts). */

/** Mastodon's attachment types; `gifv` is a looping silent video (GIFs are converted to it). */
export type MediaType = 'image' | 'gifv' | 'video' | 'audio' | 'unknown';

export type ProcessingState = 'queued' | 'in_progress' | 'complete' | 'failed';

/** One rendition's facts, as Mastodon's `meta.original` / `meta.small` show them. */
export interface MediaDimensions {
  width?: number;
  height?: number;
  /** `"WxH"`. */
  size?: string;
  aspect?: number;
  /** Video and audio. */
  duration?: number;
  /** `"30/1"` style, as ffprobe gives it, for video. */
  frame_rate?: string;
  bitrate?: number;
}

/** Mastodon's `meta`: only the keys that apply are present. */
export interface MediaMeta {
  original?: MediaDimensions;
  small?: MediaDimensions;
  /** −1..1 each; set by the uploader. */
  focus?: { x: number; y: number };
  /** Audio: the player's colours, `#rrggbb`. */
  colors?: { background: string; foreground: string; accent: string };
  /** Video: seconds (Mastodon's top-level fields for video). */
  length?: string;
  duration?: number;
  fps?: number;
  size?: string;
  width?: number;
  height?: number;
  aspect?: number;
  audio_encode?: string;
  audio_bitrate?: string;
  audio_channels?: string;
}
