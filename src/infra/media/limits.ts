/**
 * The numbers the processor enforces. The content limits are the same values as MEDIA_LIMITS in
 * src/domain/limits.ts (infra cannot import domain; test/infra/media/limits.test.ts asserts they
 * agree); the rest are Mastodon 4.5's MediaAttachment and Account::Avatar/Header constants.
 */
export const PROCESSING_LIMITS = {
  /** Pixels accepted on upload (MEDIA_LIMITS.imageMatrixLimit): larger headers are refused unread. */
  imageMatrixLimit: 33_177_600,
  /** Pixels of a stored original image, 3840×2160 (Mastodon's IMAGE_STYLES[:original]). */
  imageStoredPixels: 8_294_400,
  /** Pixels of an image's preview, 640×360 (IMAGE_STYLES[:small]). */
  smallPixels: 230_400,
  /** Video and gifv previews fit in this square (VIDEO_STYLES[:small], `min(640, iw)`). */
  videoSmallBox: 640,
  /** Pixels of a video (MEDIA_LIMITS.videoMatrixLimit). */
  videoMatrixLimit: 8_294_400,
  /** Frames per second (MEDIA_LIMITS.videoFrameRateLimit). */
  videoFrameRateLimit: 120,
  /** Frames of a video, about five minutes at 120 fps (MediaAttachment::MAX_VIDEO_FRAMES). */
  videoMaxFrames: 36_000,
  /** Bytes of a video or audio file (MEDIA_LIMITS.videoSizeLimit); the bitrate cap is computed from it. */
  videoSizeLimit: 103_809_024,
} as const;

/** Account::Avatar::AVATAR_DIMENSIONS and Account::Header::HEADER_DIMENSIONS. */
export const PROFILE_IMAGE_DIMENSIONS = {
  avatar: { width: 400, height: 400 },
  header: { width: 1500, height: 500 },
} as const;

/** Blurhash components (MediaAttachment::BLURHASH_OPTIONS), computed on an image at most this wide. */
export const BLURHASH = { componentsX: 4, componentsY: 4, sampleSize: 100 } as const;
