/**
 * The media processor's interface: what an uploaded file turns into (src/infra/media/processor.ts).
 * The record shapes of Mastodon's attachment (`MediaType`, `MediaDimensions`, `MediaMeta`) live here
 * because the processor produces them; src/domain/media/types.ts re-exports them.
 */

/** Mastodon's attachment types; `gifv` is a looping silent video (GIFs are converted to it). */
export type MediaType = 'image' | 'gifv' | 'video' | 'audio' | 'unknown';

/** One rendition's facts, as Mastodon's `meta.original` / `meta.small` show them. */
export interface MediaDimensions {
  width?: number;
  height?: number;
  /** `"WxH"`. */
  size?: string;
  aspect?: number;
  /** Video and audio, seconds. */
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
  /**
   * The top-level video fields older Mastodon versions (before 3.x, paperclip-av-transcoder) wrote.
   * Mastodon 4.5 no longer writes them for new uploads (MediaAttachment#populate_meta keeps only
   * focus, colors, original and small), so the processor leaves them out; they remain here for rows
   * that carry them, such as remote attachments' metadata.
   */
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

/** One file the processor wrote; the caller stores it and then deletes it with `cleanup()`. */
export interface ProcessedFile {
  path: string;
  contentType: string;
  /** Without the dot. */
  extension: string;
  /** Bytes. */
  size: number;
}

export interface ProcessedMedia {
  type: 'image' | 'gifv' | 'video' | 'audio';
  /** What is stored as the attachment's file. */
  original: ProcessedFile;
  /**
   * The preview: the original's format for images (JPEG for converted AVIF), a PNG frame for video
   * and gifv, as Mastodon's VIDEO_STYLES[:small]; absent for audio.
   */
  small?: ProcessedFile;
  /** Audio: the embedded cover art, when there is one (Mastodon's `thumbnail` attachment). */
  thumbnail?: ProcessedFile;
  /** Mastodon's `meta` minus `focus` (the caller adds focus). */
  meta: MediaMeta;
  blurhash: string | null;
}

/** What a file is, read from its bytes (magic numbers, then ffprobe), never from the client's claim. */
export interface Identified {
  kind: 'image' | 'gif' | 'video' | 'audio';
  mimetype: string;
}

export type MediaProcessingFailure =
  | 'unsupported_type'
  | 'corrupt'
  | 'dimensions_too_large'
  | 'too_long'
  | 'frame_rate_too_high'
  | 'video_unavailable';

/** A refusal of the file itself; the message is user-facing English. */
export class MediaProcessingError extends Error {
  readonly reason: MediaProcessingFailure;

  constructor(reason: MediaProcessingFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MediaProcessingError';
    this.reason = reason;
  }
}

export interface MediaProcessorOptions {
  /** A command on PATH or an absolute path; a missing one means image-only media. */
  ffmpegBinary: string;
  ffprobeBinary: string;
  /** ffmpeg processes running at once, across every call of this processor. */
  maxFfmpegProcesses: number;
  /** Each call's outputs go to a fresh directory under this one. */
  tempDir: string;
  /** Milliseconds one ffmpeg or ffprobe run may take before it is killed; default 10 minutes. */
  ffmpegTimeoutMs?: number;
}

/** A custom preview image for a video or audio attachment. */
export interface ProcessedThumbnail {
  file: ProcessedFile;
  meta: MediaDimensions;
  blurhash: string | null;
  /** The audio player's colours, as Mastodon extracts them from a thumbnail. */
  colors: { background: string; foreground: string; accent: string } | null;
}

export interface MediaProcessor {
  /** ffmpeg and ffprobe were found and answered `-version` when the processor was created. */
  readonly videoSupported: boolean;
  /** Throws MediaProcessingError: `unsupported_type` for unknown bytes, or a limit the header already breaks. */
  identify(path: string): Promise<Identified>;
  /** Outputs land in a fresh directory under tempDir; the caller deletes them with cleanup(). */
  process(path: string, identified: Identified): Promise<ProcessedMedia>;
  /** A custom thumbnail image for video or audio, at most the `small` size. */
  thumbnail(path: string): Promise<ProcessedThumbnail>;
  /**
   * An avatar (400×400) or header (1500×500), cover-cropped; `static` is a still PNG when the
   * input is animated, else null.
   */
  profileImage(
    path: string,
    kind: 'avatar' | 'header',
  ): Promise<{ original: ProcessedFile; static: ProcessedFile | null }>;
  /** Deletes the files (and their directory once empty); missing ones are ignored. */
  cleanup(...files: (ProcessedFile | undefined | null)[]): Promise<void>;
  /** Waits for running work and refuses new work. */
  close(): Promise<void>;
}
