/**
 * ffprobe's view of a video or audio file, reduced to the facts Mastodon's VideoMetadataExtractor
 * reads, and the limits Mastodon checks before accepting a video.
 */
import { PROCESSING_LIMITS } from './limits.ts';
import { MediaProcessingError } from './types.ts';

export interface VideoStreamFacts {
  index: number;
  codec: string;
  pixelFormat: string | null;
  /** Displayed size: swapped when the stream carries a ±90° rotation. */
  width: number;
  height: number;
  /** `"30/1"`, reduced, from avg_frame_rate (r_frame_rate when the average is 0/0). */
  frameRate: string | null;
  framesPerSecond: number | null;
  /** r_frame_rate, the highest rate in a variable-rate stream. */
  realFramesPerSecond: number | null;
  frames: number | null;
}

export interface AudioStreamFacts {
  index: number;
  codec: string;
}

export interface ProbeFacts {
  formatName: string;
  duration: number | null;
  bitrate: number | null;
  video: VideoStreamFacts | null;
  audio: AudioStreamFacts | null;
  /** Embedded cover art (an `attached_pic` stream): its index and codec. */
  coverArt: { index: number; codec: string } | null;
}

interface RawStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_frames?: string;
  disposition?: { attached_pic?: number };
  tags?: { rotate?: string };
  side_data_list?: { rotation?: number }[];
}

interface RawProbe {
  format?: { format_name?: string; duration?: string; bit_rate?: string };
  streams?: RawStream[];
  error?: { string?: string };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** `"60000/2002"` → `"30000/1001"` and its value; null for `0/0` or nonsense. */
export function parseRate(raw: string | undefined): { text: string; value: number } | null {
  const match = /^(\d+)\/(\d+)$/.exec(raw ?? '');
  if (!match) return null;
  const num = Number(match[1]);
  const den = Number(match[2]);
  if (num === 0 || den === 0) return null;
  const d = gcd(num, den);
  return { text: `${num / d}/${den / d}`, value: num / den };
}

function positiveNumber(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const value = Number(raw);
  return Number.isFinite(value) && value > 0 ? value : null;
}

function rotation(stream: RawStream): number {
  const fromSideData = stream.side_data_list?.find((s) => typeof s.rotation === 'number')?.rotation;
  if (typeof fromSideData === 'number') return fromSideData;
  const fromTag = Number(stream.tags?.rotate);
  return Number.isFinite(fromTag) ? fromTag : 0;
}

/** ffprobe's JSON (`-show_format -show_streams -show_error`) → facts; null when it saw no media. */
export function parseProbe(json: string): ProbeFacts | null {
  let raw: RawProbe;
  try {
    raw = JSON.parse(json) as RawProbe;
  } catch {
    return null;
  }
  if (raw.error || !raw.format || !Array.isArray(raw.streams)) return null;
  const streams = raw.streams;
  const videoStream = streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  const audioStream = streams.find((s) => s.codec_type === 'audio');
  const coverStream = streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic === 1);

  let video: VideoStreamFacts | null = null;
  if (videoStream?.width && videoStream.height) {
    const average = parseRate(videoStream.avg_frame_rate);
    const real = parseRate(videoStream.r_frame_rate);
    const rate = average ?? real;
    const quarterTurn = Math.abs(rotation(videoStream)) % 180 === 90;
    video = {
      index: videoStream.index ?? 0,
      codec: videoStream.codec_name ?? 'unknown',
      pixelFormat: videoStream.pix_fmt ?? null,
      width: quarterTurn ? videoStream.height : videoStream.width,
      height: quarterTurn ? videoStream.width : videoStream.height,
      frameRate: rate?.text ?? null,
      framesPerSecond: rate?.value ?? null,
      realFramesPerSecond: real?.value ?? null,
      frames: positiveNumber(videoStream.nb_frames),
    };
  }
  const duration = positiveNumber(raw.format.duration);
  const bitrate = positiveNumber(raw.format.bit_rate);
  return {
    formatName: raw.format.format_name ?? '',
    duration,
    bitrate: bitrate === null ? null : Math.round(bitrate),
    video,
    audio: audioStream ? { index: audioStream.index ?? 0, codec: audioStream.codec_name ?? 'unknown' } : null,
    coverArt: coverStream
      ? { index: coverStream.index ?? 0, codec: coverStream.codec_name ?? 'unknown' }
      : null,
  };
}

/** The frames a video holds: counted by the container when it says, else duration × rate. */
export function frameCount(facts: ProbeFacts): number | null {
  if (!facts.video) return null;
  if (facts.video.frames !== null) return facts.video.frames;
  if (facts.duration !== null && facts.video.framesPerSecond !== null) {
    return Math.round(facts.duration * facts.video.framesPerSecond);
  }
  return null;
}

/** Mastodon's check_video_dimensions, plus the frame limit it enforces by truncating. */
export function checkVideoLimits(facts: ProbeFacts): void {
  const video = facts.video;
  if (!video) throw new MediaProcessingError('corrupt', 'The video has no video stream');
  if (video.width * video.height > PROCESSING_LIMITS.videoMatrixLimit) {
    throw new MediaProcessingError(
      'dimensions_too_large',
      `Video dimensions exceed ${PROCESSING_LIMITS.videoMatrixLimit} pixels (this one is ${video.width}x${video.height})`,
    );
  }
  if (
    video.framesPerSecond !== null &&
    Math.floor(video.framesPerSecond) > PROCESSING_LIMITS.videoFrameRateLimit
  ) {
    throw new MediaProcessingError(
      'frame_rate_too_high',
      `Video frame rate exceeds ${PROCESSING_LIMITS.videoFrameRateLimit} frames per second (this one has ${Math.floor(video.framesPerSecond)})`,
    );
  }
  const frames = frameCount(facts);
  if (frames !== null && frames > PROCESSING_LIMITS.videoMaxFrames) {
    throw new MediaProcessingError(
      'too_long',
      `Video is too long: at most ${PROCESSING_LIMITS.videoMaxFrames} frames are accepted (this one has ${frames})`,
    );
  }
}
