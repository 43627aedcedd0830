/**
 * The media processor: an uploaded file (a path) in, the files and facts of Mastodon's
 * MediaAttachment out. No database, storage or HTTP: the domain stores the outputs and fills the
 * row. What each kind becomes follows Mastodon 4.5 (app/models/media_attachment.rb, lib/paperclip):
 *
 * - images (JPEG, PNG, WebP, still GIF, AVIF): re-encoded without metadata after EXIF orientation,
 *   originals ≤ 8,294,400 px, `small` ≤ 230,400 px in the same format (AVIF → JPEG), blurhash;
 * - animated GIF, APNG and animated WebP → `gifv`, a silent H.264 MP4; without ffmpeg an animated
 *   GIF or WebP is kept as an animated `image` (sharp re-encodes it) rather than refused, since the
 *   embedded shape often runs without ffmpeg and GIFs are common;
 * - video → H.264/AAC MP4 (copied when already h264 + aac/none + yuv420p), a PNG first frame as
 *   `small`; a video without sound becomes `gifv`, as Mastodon's transcoder decides;
 * - audio → MP3 (LAME VBR quality 2) and its cover art as `thumbnail`, with the player's colours.
 *
 * Pixel work goes through sharp one image at a time; ffmpeg runs as child processes, at most
 * `maxFfmpegProcesses` at once, each with a timeout. HEIC/HEIF are refused: sharp's prebuilt libvips
 * decodes AVIF only (its libheif has no HEVC decoder), and ffmpeg 5 cannot read HEIF either.
 */
import { mkdir, mkdtemp, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import sharp from 'sharp';
import { extractColors } from './colors.ts';
import { CommandError, runCommand, Semaphore } from './command.ts';
import {
  blurhashOf,
  configureSharp,
  coverCrop,
  fitToPixels,
  type ImageHeader,
  imageGeometry,
  imageReadError,
  isAnimatedPng,
  readImageHeader,
  renderImage,
  type StillFormat,
  smallRgb,
} from './images.ts';
import { BLURHASH, PROCESSING_LIMITS, PROFILE_IMAGE_DIMENSIONS } from './limits.ts';
import { checkVideoLimits, type ProbeFacts, parseProbe } from './probe.ts';
import { readHead, type Sniffed, sniff } from './sniff.ts';
import {
  type Identified,
  type MediaDimensions,
  type MediaMeta,
  MediaProcessingError,
  type MediaProcessor,
  type MediaProcessorOptions,
  type ProcessedFile,
  type ProcessedMedia,
  type ProcessedThumbnail,
} from './types.ts';

/** A whole transcode; long 4K videos on two cores take minutes. */
const DEFAULT_FFMPEG_TIMEOUT_MS = 20 * 60 * 1000;
/** ffprobe reads headers only. */
const PROBE_TIMEOUT_MS = 30 * 1000;
/** ffprobe runs beside the transcodes, so that identifying an upload never waits for one. */
const CONCURRENT_PROBES = 2;
/** Decoded images are large; one at a time keeps the instance within its memory budget. */
const CONCURRENT_IMAGES = 1;
/** Threads of one ffmpeg (decoder and encoder each): a run keeps a 2-core machine busy, no more. */
const FFMPEG_THREADS = 2;
/** Mastodon's Paperclip::Transcoder::BITS_PER_PIXEL (H.264 "High" at 30 fps). */
const BITS_PER_PIXEL = 0.11;
const AUDIO_BITRATE = 192_000;

/** The demuxer each container is read with, so that ffmpeg never guesses from the bytes. */
function demuxerOf(sniffed: Sniffed, animatedPng: boolean): string | null {
  switch (sniffed.family) {
    case 'container':
      return sniffed.container === 'isobmff' ? 'mov' : sniffed.container === 'webm' ? 'matroska' : 'ogg';
    case 'audio':
      switch (sniffed.mimetype) {
        case 'audio/wav':
          return 'wav';
        case 'audio/mpeg':
          return 'mp3';
        case 'audio/flac':
          return 'flac';
        case 'audio/aac':
          return 'aac';
        case 'video/x-ms-asf':
          return 'asf';
        default:
          return null;
      }
    case 'gif':
      return 'gif';
    case 'image':
      return animatedPng ? 'apng' : null;
    default:
      return null;
  }
}

const STILL_FORMATS: Record<string, StillFormat> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  // Mastodon's IMAGE_CONVERTIBLE_MIME_TYPES are stored as JPEG.
  'image/avif': 'jpeg',
};

const PROFILE_FORMATS = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

function unavailable(): MediaProcessingError {
  return new MediaProcessingError('video_unavailable', 'Video processing is not available on this server');
}

function unsupported(
  message = 'The file is not a supported image, video or audio format',
): MediaProcessingError {
  return new MediaProcessingError('unsupported_type', message);
}

function heicRefused(): MediaProcessingError {
  return unsupported(
    'HEIC and HEIF images cannot be read by this server; please upload JPEG, PNG, WebP or AVIF',
  );
}

interface Identification {
  identified: Identified;
  sniffed: Sniffed;
  head: Buffer;
  header?: ImageHeader;
  facts?: ProbeFacts;
}

/** Identifications remembered for process(); a handful covers uploads in flight. */
const RECENT_IDENTIFICATIONS = 32;

/** Changes when the file is replaced or rewritten. */
async function fileKey(path: string): Promise<string> {
  const info = await stat(path, { bigint: true });
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
}

async function fileOf(path: string, contentType: string, extension: string): Promise<ProcessedFile> {
  return { path, contentType, extension, size: (await stat(path)).size };
}

class Processor implements MediaProcessor {
  readonly videoSupported: boolean;
  readonly #options: MediaProcessorOptions;
  readonly #tempDir: string;
  readonly #timeoutMs: number;
  readonly #ffmpegSlots: Semaphore;
  readonly #probeSlots = new Semaphore(CONCURRENT_PROBES);
  readonly #imageSlots = new Semaphore(CONCURRENT_IMAGES);
  readonly #recent = new Map<string, { key: string; found: Identification }>();
  #closed = false;
  readonly #running = new Set<Promise<unknown>>();

  constructor(options: MediaProcessorOptions, videoSupported: boolean) {
    this.#options = options;
    this.#tempDir = resolve(options.tempDir);
    this.#timeoutMs = options.ffmpegTimeoutMs ?? DEFAULT_FFMPEG_TIMEOUT_MS;
    this.#ffmpegSlots = new Semaphore(options.maxFfmpegProcesses);
    this.videoSupported = videoSupported;
  }

  /** Runs one public operation, counted so that close() can wait for it. */
  #track<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('The media processor is closed'));
    const promise = work();
    this.#running.add(promise);
    const forget = () => this.#running.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  /** A fresh output directory; removed with everything in it when the work fails. */
  async #inFreshDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(this.#tempDir, 'media-'));
    try {
      return await work(dir);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  #images<T>(work: () => Promise<T>): Promise<T> {
    return this.#imageSlots.run(work);
  }

  async #ffmpeg(args: string[]): Promise<void> {
    try {
      await this.#ffmpegSlots.run(() =>
        runCommand(
          this.#options.ffmpegBinary,
          ['-nostdin', '-hide_banner', '-loglevel', 'error', '-protocol_whitelist', 'file', ...args],
          { timeoutMs: this.#timeoutMs },
        ),
      );
    } catch (error) {
      if (error instanceof CommandError && error.notFound) throw unavailable();
      if (error instanceof CommandError && error.timedOut) {
        throw new MediaProcessingError('corrupt', 'The file could not be processed in time', {
          cause: error,
        });
      }
      throw new MediaProcessingError(
        'corrupt',
        'The file could not be processed: it is damaged or incomplete',
        {
          cause: error,
        },
      );
    }
  }

  /** ffprobe's facts, or null when it could not read the file. */
  async #probe(path: string, demuxer: string): Promise<ProbeFacts | null> {
    let stdout: Buffer;
    try {
      ({ stdout } = await this.#probeSlots.run(() =>
        runCommand(
          this.#options.ffprobeBinary,
          [
            '-v',
            'error',
            '-protocol_whitelist',
            'file',
            '-print_format',
            'json',
            '-show_format',
            '-show_streams',
            '-show_error',
            '-f',
            demuxer,
            `file:${path}`,
          ],
          { timeoutMs: PROBE_TIMEOUT_MS },
        ),
      ));
    } catch (error) {
      if (error instanceof CommandError && error.notFound) throw unavailable();
      if (error instanceof CommandError && !error.timedOut) return null;
      throw new MediaProcessingError('corrupt', 'The file could not be read in time', { cause: error });
    }
    return parseProbe(stdout.toString('utf8'));
  }

  identify(path: string): Promise<Identified> {
    return this.#track(async () => {
      const found = (await this.#recentIdentification(path)) ?? (await this.#identify(path));
      // Kept for the process() call that usually follows, so that it need not run ffprobe again.
      const key = await fileKey(path);
      this.#recent.delete(path);
      this.#recent.set(path, { key, found });
      if (this.#recent.size > RECENT_IDENTIFICATIONS) this.#recent.delete(this.#recent.keys().next().value!);
      return found.identified;
    });
  }

  /** What identify() found for this file, if the file has not changed since. */
  async #recentIdentification(path: string): Promise<Identification | null> {
    const recent = this.#recent.get(path);
    if (!recent) return null;
    this.#recent.delete(path);
    return recent.key === (await fileKey(path)) ? recent.found : null;
  }

  async #identify(path: string): Promise<Identification> {
    const head = await readHead(path);
    const sniffed = sniff(head);
    switch (sniffed.family) {
      case 'unknown':
        throw unsupported();
      case 'heic':
        throw heicRefused();
      case 'image':
      case 'gif': {
        const header = await readImageHeader(path);
        const identified: Identified = {
          kind: sniffed.family === 'gif' ? 'gif' : 'image',
          mimetype: sniffed.mimetype,
        };
        return { identified, sniffed, head, header };
      }
      case 'container':
      case 'audio': {
        if (!this.videoSupported) throw unavailable();
        const facts = await this.#probe(path, demuxerOf(sniffed, false)!);
        if (!facts || (!facts.video && !facts.audio)) {
          // A bare MPEG frame sync is a weak signature: unreadable means it was not audio at all.
          const weak =
            sniffed.family === 'audio' &&
            (sniffed.mimetype === 'audio/mpeg' || sniffed.mimetype === 'audio/aac');
          if (weak && head.subarray(0, 3).toString('latin1') !== 'ID3') throw unsupported();
          throw new MediaProcessingError(
            'corrupt',
            'The file could not be read: it is damaged or incomplete',
          );
        }
        if (sniffed.family === 'container' && facts.video) {
          checkVideoLimits(facts);
          return { identified: { kind: 'video', mimetype: sniffed.videoMimetype }, sniffed, head, facts };
        }
        if (!facts.audio) throw unsupported('The file has neither a playable video nor an audio stream');
        const mimetype = sniffed.family === 'container' ? sniffed.audioMimetype : sniffed.mimetype;
        return { identified: { kind: 'audio', mimetype }, sniffed, head, facts };
      }
    }
  }

  process(path: string, identified: Identified): Promise<ProcessedMedia> {
    return this.#track(async () => {
      const found = (await this.#recentIdentification(path)) ?? (await this.#identify(path));
      if (found.identified.kind !== identified.kind) {
        throw new Error(`process() was given a ${identified.kind} but the file is ${found.identified.kind}`);
      }
      const { sniffed, head, header, facts } = found;
      if (sniffed.family === 'image' || sniffed.family === 'gif') {
        const animatedPng = sniffed.mimetype === 'image/png' && isAnimatedPng(head);
        const animated = header!.pages > 1 || animatedPng;
        if (animated && this.videoSupported) {
          return this.#inFreshDir((dir) => this.#animationToGifv(path, sniffed, header!, animatedPng, dir));
        }
        // Without ffmpeg, GIF and WebP keep their animation as images; an APNG's first frame is all sharp reads.
        const keepAnimation = header!.pages > 1;
        return this.#inFreshDir((dir) => this.#image(path, sniffed.mimetype, header!, keepAnimation, dir));
      }
      if (found.identified.kind === 'video') {
        return this.#inFreshDir((dir) => this.#video(path, demuxerOf(sniffed, false)!, facts!, dir));
      }
      return this.#inFreshDir((dir) => this.#audio(path, demuxerOf(sniffed, false)!, facts!, dir));
    });
  }

  async #image(
    path: string,
    mimetype: string,
    header: ImageHeader,
    keepAnimation: boolean,
    dir: string,
  ): Promise<ProcessedMedia> {
    const format = STILL_FORMATS[mimetype];
    if (!format) throw unsupported();
    if (keepAnimation) {
      // A whole animation decoded by sharp counts every frame's pixels against the image limit.
      const total = header.width * header.height * header.pages;
      if (total > PROCESSING_LIMITS.imageMatrixLimit) {
        throw new MediaProcessingError(
          'video_unavailable',
          'Animations this large need video processing, which is not available on this server',
        );
      }
    }
    return this.#images(async () => {
      const original = await renderImage(path, header, {
        format,
        pixels: PROCESSING_LIMITS.imageStoredPixels,
        dir,
        name: 'original',
        animated: keepAnimation,
      });
      const small = await renderImage(
        original.file.path,
        // The original is upright and single-frame for this purpose: its first frame is the preview.
        { format, width: original.meta.width!, height: original.meta.height!, pages: 1, rotated: false },
        { format, pixels: PROCESSING_LIMITS.smallPixels, dir, name: 'small' },
      );
      const blurhash = await blurhashOf(small.file.path);
      return {
        type: 'image',
        original: original.file,
        small: small.file,
        meta: { original: original.meta, small: small.meta },
        blurhash,
      };
    });
  }

  /**
   * An H.264 MP4 from `input` — copied when Mastodon's passthrough rules allow, else re-encoded —
   * and the first frame as a PNG within 640×640 (Mastodon's VIDEO_STYLES[:small]). A re-encode
   * writes both in one run, from the same decoded frames.
   */
  async #encodeMp4(
    input: { path: string; demuxer: string },
    facts: ProbeFacts,
    options: { withAudio: boolean; passthrough: boolean },
    output: { video: string; frame: string },
  ): Promise<void> {
    const video = facts.video!;
    const args = ['-threads', String(FFMPEG_THREADS), '-f', input.demuxer, '-i', `file:${input.path}`];
    args.push('-map', '0:V:0');
    const filters: string[] = [];
    if (options.withAudio) args.push('-map', '0:a:0?');
    else args.push('-an');
    args.push('-map_metadata', '-1', '-map_chapters', '-1', '-sn', '-dn');
    if (options.passthrough) {
      args.push('-c', 'copy');
    } else {
      const target = fitToPixels(video.width, video.height, PROCESSING_LIMITS.videoMatrixLimit);
      if (target) filters.push(`scale=${target.width}:${target.height}`);
      // H.264 in 4:2:0 needs even sides; cropping a pixel avoids the blur of scaling (Mastodon's choice).
      filters.push('crop=floor(iw/2)*2:floor(ih/2)*2');
      const pixels = (target?.width ?? video.width) * (target?.height ?? video.height);
      const desired = Math.floor(pixels * 30 * BITS_PER_PIXEL);
      const duration = Math.max(facts.duration ?? 1, 1);
      // Keep the result under the upload size limit, leaving room for the audio.
      const ceiling = Math.floor((PROCESSING_LIMITS.videoSizeLimit * 8) / duration) - AUDIO_BITRATE;
      const bitrate = Math.max(Math.min(desired, ceiling), 64_000);
      args.push(
        '-vf',
        filters.join(','),
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-pix_fmt',
        'yuv420p',
        '-threads',
        String(FFMPEG_THREADS),
        // Slice threads hold one frame at a time, and a shorter lookahead fewer: at 1080p this keeps
        // ffmpeg near 200 MB instead of 300 (bench/media), at a small cost in compression.
        '-x264-params',
        'sliced-threads=1:rc-lookahead=5',
        '-b:v',
        String(bitrate),
        '-maxrate',
        String(bitrate + AUDIO_BITRATE),
        '-bufsize',
        String(bitrate * 5),
        '-frames:v',
        String(PROCESSING_LIMITS.videoMaxFrames),
      );
      const highRate = (video.realFramesPerSecond ?? 0) > PROCESSING_LIMITS.videoFrameRateLimit;
      // Animations have uneven frame delays; a variable rate keeps them instead of duplicating frames.
      if (highRate || !options.withAudio) args.push('-fps_mode', 'vfr');
      if (options.withAudio) args.push('-c:a', 'aac', '-b:a', String(AUDIO_BITRATE));
    }
    args.push('-movflags', '+faststart', '-f', 'mp4', '-y', `file:${output.video}`);
    if (options.passthrough) {
      await this.#ffmpeg(args);
      // A copy decodes nothing; a separate run decodes just the first frame.
      await this.#ffmpeg(['-f', 'mov', '-i', `file:${output.video}`, ...this.#frameOutput(output.frame, [])]);
    } else {
      // The frame goes through the same scale and crop, so that it matches the video.
      await this.#ffmpeg([...args, ...this.#frameOutput(output.frame, filters)]);
    }
  }

  /** Output options writing the first video frame as a PNG within the preview box. */
  #frameOutput(path: string, filters: string[]): string[] {
    const box = PROCESSING_LIMITS.videoSmallBox;
    return [
      '-map',
      '0:V:0',
      '-map_metadata',
      '-1',
      '-vf',
      [...filters, `scale='min(${box},iw)':'min(${box},ih)':force_original_aspect_ratio=decrease`].join(','),
      '-frames:v',
      '1',
      '-c:v',
      'png',
      '-f',
      'image2',
      '-y',
      `file:${path}`,
    ];
  }

  /** The stored MP4 and its preview frame as Mastodon's files and meta. */
  async #videoResult(
    type: 'video' | 'gifv',
    output: { video: string; frame: string },
  ): Promise<ProcessedMedia> {
    const original = await fileOf(output.video, 'video/mp4', 'mp4');
    // Probed again: what clients receive is what meta describes.
    const facts = await this.#probe(output.video, 'mov');
    if (!facts?.video) {
      throw new MediaProcessingError('corrupt', 'The file could not be processed: the result has no video');
    }
    const originalMeta: MediaDimensions = { width: facts.video.width, height: facts.video.height };
    if (facts.video.frameRate) originalMeta.frame_rate = facts.video.frameRate;
    if (facts.duration !== null) originalMeta.duration = facts.duration;
    if (facts.bitrate !== null) originalMeta.bitrate = facts.bitrate;

    const frame = await readImageHeader(output.frame);
    const blurhash = await this.#images(() => blurhashOf(output.frame));
    return {
      type,
      original,
      small: await fileOf(output.frame, 'image/png', 'png'),
      meta: { original: originalMeta, small: imageGeometry(frame.width, frame.height) },
      blurhash,
    };
  }

  async #video(path: string, demuxer: string, facts: ProbeFacts, dir: string): Promise<ProcessedMedia> {
    const video = facts.video!;
    const passthrough =
      video.codec === 'h264' &&
      (facts.audio === null || facts.audio.codec === 'aac') &&
      (video.pixelFormat === 'yuv420p' || video.pixelFormat === 'yuvj420p');
    const output = { video: join(dir, 'original.mp4'), frame: join(dir, 'small.png') };
    await this.#encodeMp4({ path, demuxer }, facts, { withAudio: facts.audio !== null, passthrough }, output);
    // Mastodon's transcoder makes a video without sound a gifv.
    return this.#videoResult(facts.audio ? 'video' : 'gifv', output);
  }

  async #animationToGifv(
    path: string,
    sniffed: Sniffed,
    header: ImageHeader,
    animatedPng: boolean,
    dir: string,
  ): Promise<ProcessedMedia> {
    let input = { path, demuxer: demuxerOf(sniffed, animatedPng) };
    if (!input.demuxer) {
      // ffmpeg 5 cannot decode animated WebP: sharp turns it into a GIF (keeping each frame's delay)
      // first, holding every frame at once, so all of them together must fit the image limit.
      if (header.width * header.height * header.pages > PROCESSING_LIMITS.imageMatrixLimit) {
        throw new MediaProcessingError(
          'dimensions_too_large',
          `Animated WebP images may have at most ${PROCESSING_LIMITS.imageMatrixLimit} pixels in all their frames together`,
        );
      }
      const gifPath = join(dir, 'frames.gif');
      await this.#images(async () => {
        try {
          await sharp(path, {
            animated: true,
            limitInputPixels: PROCESSING_LIMITS.imageMatrixLimit,
            failOn: 'truncated',
          })
            .gif()
            .toFile(gifPath);
        } catch (error) {
          throw imageReadError(error);
        }
      });
      input = { path: gifPath, demuxer: 'gif' };
    }
    const facts = await this.#probe(input.path, input.demuxer!);
    if (!facts?.video) {
      throw new MediaProcessingError(
        'corrupt',
        'The image could not be read: the file is damaged or incomplete',
      );
    }
    const output = { video: join(dir, 'original.mp4'), frame: join(dir, 'small.png') };
    await this.#encodeMp4(
      { path: input.path, demuxer: input.demuxer! },
      facts,
      { withAudio: false, passthrough: false },
      output,
    );
    if (input.path !== path) await unlink(input.path);
    return this.#videoResult('gifv', output);
  }

  async #audio(path: string, demuxer: string, facts: ProbeFacts, dir: string): Promise<ProcessedMedia> {
    const output = join(dir, 'original.mp3');
    await this.#ffmpeg([
      '-f',
      demuxer,
      '-i',
      `file:${path}`,
      '-map',
      '0:a:0',
      '-vn',
      '-sn',
      '-dn',
      '-map_metadata',
      '-1',
      '-c:a',
      'libmp3lame',
      '-q:a',
      '2',
      '-f',
      'mp3',
      '-y',
      `file:${output}`,
    ]);
    const original = await fileOf(output, 'audio/mpeg', 'mp3');
    const outputFacts = await this.#probe(output, 'mp3');
    const originalMeta: MediaDimensions = {};
    if (outputFacts?.duration != null) originalMeta.duration = outputFacts.duration;
    if (outputFacts?.bitrate != null) originalMeta.bitrate = outputFacts.bitrate;
    const meta: MediaMeta = { original: originalMeta };

    const cover = facts.coverArt ? await this.#coverArt(path, demuxer, facts.coverArt, dir) : null;
    if (!cover) return { type: 'audio', original, meta, blurhash: null };
    meta.small = cover.meta;
    if (cover.colors) meta.colors = cover.colors;
    return { type: 'audio', original, thumbnail: cover.file, meta, blurhash: cover.blurhash };
  }

  /** The embedded picture as a thumbnail; a cover that cannot be decoded is left out, as Mastodon does. */
  async #coverArt(
    path: string,
    demuxer: string,
    cover: { index: number; codec: string },
    dir: string,
  ): Promise<ProcessedThumbnail | null> {
    const extracted = join(dir, 'cover-extracted.png');
    try {
      await this.#ffmpeg([
        '-f',
        demuxer,
        '-i',
        `file:${path}`,
        '-map',
        `0:${cover.index}`,
        '-frames:v',
        '1',
        '-c:v',
        'png',
        '-f',
        'image2',
        '-y',
        `file:${extracted}`,
      ]);
    } catch (error) {
      if (error instanceof MediaProcessingError && error.reason === 'corrupt') return null;
      throw error;
    }
    try {
      // Photographs (JPEG covers) stay JPEG; drawn covers stay lossless.
      return await this.#thumbnailFrom(extracted, cover.codec === 'mjpeg' ? 'jpeg' : 'png', dir, 'thumbnail');
    } catch (error) {
      if (error instanceof MediaProcessingError) return null;
      throw error;
    } finally {
      await unlink(extracted).catch(() => undefined);
    }
  }

  async #thumbnailFrom(
    path: string,
    format: StillFormat,
    dir: string,
    name: string,
  ): Promise<ProcessedThumbnail> {
    const header = await readImageHeader(path);
    return this.#images(async () => {
      const rendition = await renderImage(path, header, {
        format,
        pixels: PROCESSING_LIMITS.smallPixels,
        dir,
        name,
      });
      const blurhash = await blurhashOf(rendition.file.path);
      const pixels = await smallRgb(rendition.file.path, BLURHASH.sampleSize);
      return {
        file: rendition.file,
        meta: rendition.meta,
        blurhash,
        colors: extractColors(pixels.data, pixels.width, pixels.height),
      };
    });
  }

  thumbnail(path: string): Promise<ProcessedThumbnail> {
    return this.#track(async () => {
      const sniffed = sniff(await readHead(path));
      if (sniffed.family === 'heic') throw heicRefused();
      if (sniffed.family !== 'image' && sniffed.family !== 'gif') {
        throw unsupported('A thumbnail must be a JPEG, PNG, GIF, WebP or AVIF image');
      }
      const format = STILL_FORMATS[sniffed.mimetype]!;
      return this.#inFreshDir((dir) => this.#thumbnailFrom(path, format, dir, 'thumbnail'));
    });
  }

  profileImage(
    path: string,
    kind: 'avatar' | 'header',
  ): Promise<{ original: ProcessedFile; static: ProcessedFile | null }> {
    return this.#track(async () => {
      const sniffed = sniff(await readHead(path));
      if (sniffed.family === 'heic') throw heicRefused();
      if (
        (sniffed.family !== 'image' && sniffed.family !== 'gif') ||
        !PROFILE_FORMATS.has(sniffed.mimetype)
      ) {
        throw unsupported(`The ${kind} must be a JPEG, PNG, GIF or WebP image`);
      }
      const header = await readImageHeader(path);
      const format = STILL_FORMATS[sniffed.mimetype]!;
      const animated = header.pages > 1;
      const { width, height } = PROFILE_IMAGE_DIMENSIONS[kind];
      return this.#inFreshDir((dir) =>
        this.#images(async () => {
          const crop = { width, height, rotated: header.rotated, dir };
          const original = await coverCrop(path, { ...crop, format, animated, name: 'original' });
          const still = animated
            ? await coverCrop(path, { ...crop, format: 'png', animated: false, name: 'static' })
            : null;
          return { original, static: still };
        }),
      );
    });
  }

  async cleanup(...files: (ProcessedFile | undefined | null)[]): Promise<void> {
    const dirs = new Set<string>();
    for (const file of files) {
      if (!file) continue;
      const path = resolve(file.path);
      const inside = relative(this.#tempDir, path);
      // Only what this processor wrote: never a path outside its temporary directory.
      if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
        throw new Error(`cleanup() refuses ${path}: it is not under ${this.#tempDir}`);
      }
      await unlink(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      dirs.add(dirname(path));
    }
    for (const dir of dirs) {
      if (dir === this.#tempDir) continue;
      // The call's directory goes once its last file has been taken.
      await rmdir(dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOTEMPTY' && error.code !== 'ENOENT' && error.code !== 'EEXIST') throw error;
      });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#running]);
  }
}

/** `-version` answers when the binary exists and runs. */
async function answers(binary: string): Promise<boolean> {
  try {
    await runCommand(binary, ['-version'], { timeoutMs: PROBE_TIMEOUT_MS });
    return true;
  } catch (error) {
    if (error instanceof CommandError) return false;
    throw error;
  }
}

export async function createMediaProcessor(options: MediaProcessorOptions): Promise<MediaProcessor> {
  if (!Number.isInteger(options.maxFfmpegProcesses) || options.maxFfmpegProcesses < 1) {
    throw new RangeError(`maxFfmpegProcesses must be a whole number ≥ 1, got ${options.maxFfmpegProcesses}`);
  }
  configureSharp();
  await mkdir(options.tempDir, { recursive: true });
  const [ffmpeg, ffprobe] = await Promise.all([
    answers(options.ffmpegBinary),
    answers(options.ffprobeBinary),
  ]);
  return new Processor(options, ffmpeg && ffprobe);
}
