/**
 * Still (and, without ffmpeg, animated) images with sharp: the stored original, the `small`
 * preview, the blurhash, custom thumbnails and profile images. Every output is re-encoded from
 * decoded pixels, so no metadata (EXIF with GPS, XMP, comments) survives; EXIF orientation is applied
 * first. Decompression bombs are refused from the header, before any pixel is decoded.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode as encodeBlurhash } from 'blurhash';
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { BLURHASH, PROCESSING_LIMITS } from './limits.ts';
import { type MediaDimensions, MediaProcessingError, type ProcessedFile } from './types.ts';

/**
 * Tuned for a 512 MB instance on a small machine: one libvips worker thread per image (each thread
 * holds its own tile buffers, and the other core stays free for the event loop and the database),
 * and no operation cache — uploads are never processed twice, so cached pixels would only hold
 * memory. Process-wide settings, hence applied once by the processor.
 */
export function configureSharp(): void {
  sharp.concurrency(1);
  sharp.cache(false);
}

export type StillFormat = 'jpeg' | 'png' | 'webp' | 'gif';

const CONTENT_TYPES: Record<StillFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
};
const EXTENSIONS: Record<StillFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', gif: 'gif' };

export interface ImageHeader {
  format: string;
  /** After EXIF orientation. */
  width: number;
  height: number;
  /** Frames of an animated GIF or WebP (1 for a still image). */
  pages: number;
  /** The EXIF orientation must be applied (it is neither absent nor 1). */
  rotated: boolean;
}

function dimensionsTooLarge(width: number, height: number): MediaProcessingError {
  return new MediaProcessingError(
    'dimensions_too_large',
    `Image dimensions exceed ${PROCESSING_LIMITS.imageMatrixLimit} pixels (this one is ${width}x${height})`,
  );
}

/** A decoding failure of the input, told apart from the limits sharp enforces. */
export function imageReadError(error: unknown): MediaProcessingError {
  if (error instanceof MediaProcessingError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/pixel limit/i.test(message)) {
    return new MediaProcessingError(
      'dimensions_too_large',
      `Image dimensions exceed ${PROCESSING_LIMITS.imageMatrixLimit} pixels`,
      { cause: error },
    );
  }
  if (/unsupported image format/i.test(message)) {
    return new MediaProcessingError('unsupported_type', 'The file is not an image this server can read', {
      cause: error,
    });
  }
  return new MediaProcessingError(
    'corrupt',
    'The image could not be read: the file is damaged or incomplete',
    {
      cause: error,
    },
  );
}

/** The header alone: sharp reads no pixels here, so a bomb costs nothing to refuse. */
export async function readImageHeader(path: string): Promise<ImageHeader> {
  let metadata: Metadata;
  try {
    metadata = await sharp(path).metadata();
  } catch (error) {
    throw imageReadError(error);
  }
  const { width, height } = metadata;
  if (!width || !height) {
    throw new MediaProcessingError('corrupt', 'The image could not be read: it has no dimensions');
  }
  if (width * height > PROCESSING_LIMITS.imageMatrixLimit) throw dimensionsTooLarge(width, height);
  const oriented = metadata.autoOrient ?? { width, height };
  return {
    format: metadata.format,
    width: oriented.width,
    height: oriented.height,
    pages: metadata.pages ?? 1,
    rotated: (metadata.orientation ?? 1) !== 1,
  };
}

/**
 * Input options every decode shares: the pixel limit and truncation refused; EXIF orientation
 * applied when the header asks for it (it costs a copy of the image, so not otherwise).
 */
function input(path: string, options: { animated?: boolean; rotated?: boolean } = {}): Sharp {
  return sharp(path, {
    limitInputPixels: PROCESSING_LIMITS.imageMatrixLimit,
    // 'truncated' refuses cut-off files but accepts the harmless warnings real cameras produce.
    failOn: 'truncated',
    autoOrient: options.rotated ?? false,
    animated: options.animated ?? false,
  });
}

/**
 * The largest size with the same aspect that fits in `pixels` (Mastodon's PixelGeometryParser,
 * floored so that the result never exceeds the limit), or null when the image already fits.
 */
export function fitToPixels(
  width: number,
  height: number,
  pixels: number,
): { width: number; height: number } | null {
  if (width * height <= pixels) return null;
  const scale = Math.sqrt(pixels / (width * height));
  const fitted = {
    width: Math.max(1, Math.floor(width * scale)),
    height: Math.max(1, Math.floor(height * scale)),
  };
  // A sliver (one side shrunk below a pixel) gives up its aspect rather than the limit.
  if (fitted.height === 1) fitted.width = Math.min(fitted.width, pixels);
  if (fitted.width === 1) fitted.height = Math.min(fitted.height, pixels);
  return fitted;
}

function encodeAs(pipeline: Sharp, format: StillFormat): Sharp {
  switch (format) {
    case 'jpeg':
      // Mastodon's `-quality 90`; baseline, as Mastodon writes it (progressive takes twice as long).
      return pipeline.jpeg({ quality: 90 });
    case 'png':
      return pipeline.png();
    case 'webp':
      return pipeline.webp({ quality: 90 });
    case 'gif':
      return pipeline.gif();
  }
}

async function writeImage(
  pipeline: Sharp,
  format: StillFormat,
  dir: string,
  name: string,
): Promise<{ file: ProcessedFile; width: number; height: number }> {
  let data: Buffer;
  let info: OutputInfo;
  try {
    // Encoded to memory and written by us, so that a sharp error is always about the input.
    ({ data, info } = await encodeAs(pipeline, format).toBuffer({ resolveWithObject: true }));
  } catch (error) {
    throw imageReadError(error);
  }
  const path = join(dir, `${name}.${EXTENSIONS[format]}`);
  await writeFile(path, data);
  const height = info.pageHeight ?? info.height;
  return {
    file: { path, contentType: CONTENT_TYPES[format], extension: EXTENSIONS[format], size: data.length },
    width: info.width,
    height,
  };
}

export function imageGeometry(width: number, height: number): MediaDimensions {
  return { width, height, size: `${width}x${height}`, aspect: width / height };
}

export interface ImageRendition {
  file: ProcessedFile;
  meta: MediaDimensions;
}

/** A still rendition of at most `pixels`, in `format`; `animated` keeps every frame. */
export async function renderImage(
  path: string,
  header: ImageHeader,
  options: { format: StillFormat; pixels: number; dir: string; name: string; animated?: boolean },
): Promise<ImageRendition> {
  let pipeline = input(path, { animated: options.animated ?? false, rotated: header.rotated });
  const target = fitToPixels(header.width, header.height, options.pixels);
  if (target) pipeline = pipeline.resize({ width: target.width, height: target.height, fit: 'inside' });
  const written = await writeImage(pipeline, options.format, options.dir, options.name);
  return { file: written.file, meta: imageGeometry(written.width, written.height) };
}

/**
 * Mastodon's blurhash: 4×4 components over the image shrunk to 100 pixels wide at most. Computed on
 * a rendition this module wrote (already upright, without EXIF).
 */
export async function blurhashOf(path: string): Promise<string> {
  let data: Buffer;
  let info: OutputInfo;
  try {
    ({ data, info } = await input(path)
      .resize({ width: BLURHASH.sampleSize, height: BLURHASH.sampleSize, fit: 'inside' })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true }));
  } catch (error) {
    throw imageReadError(error);
  }
  return encodeBlurhash(
    new Uint8ClampedArray(data.buffer, data.byteOffset, data.length),
    info.width,
    info.height,
    BLURHASH.componentsX,
    BLURHASH.componentsY,
  );
}

/** The RGB pixels of a rendition shrunk to `size` wide at most (the colour extractor's input). */
export async function smallRgb(
  path: string,
  size: number,
): Promise<{ data: Buffer; width: number; height: number }> {
  try {
    const { data, info } = await input(path)
      .resize({ width: size, height: size, fit: 'inside' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch (error) {
    throw imageReadError(error);
  }
}

/** A cover crop to exactly `width`×`height` (enlarging smaller images, as Mastodon's `400x400#`). */
export async function coverCrop(
  path: string,
  options: {
    width: number;
    height: number;
    format: StillFormat;
    animated: boolean;
    rotated: boolean;
    dir: string;
    name: string;
  },
): Promise<ProcessedFile> {
  const pipeline = input(path, { animated: options.animated, rotated: options.rotated }).resize({
    width: options.width,
    height: options.height,
    fit: 'cover',
    position: 'centre',
  });
  return (await writeImage(pipeline, options.format, options.dir, options.name)).file;
}

/** Whether a PNG is animated (APNG): an `acTL` chunk comes before the first `IDAT`. */
export function isAnimatedPng(head: Buffer): boolean {
  let at = 8;
  while (at + 8 <= head.length) {
    const length = head.readUInt32BE(at);
    const type = head.toString('latin1', at + 4, at + 8);
    if (type === 'acTL') return true;
    if (type === 'IDAT') return false;
    at += 12 + length;
  }
  return false;
}
