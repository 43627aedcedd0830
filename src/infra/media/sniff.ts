/**
 * What a file is, from its first bytes: the signatures of the formats Mastodon accepts. Containers
 * that may hold video or audio (ISO BMFF, WebM, Ogg, ASF, MPEG audio) are only named here; ffprobe
 * decides what is inside (probe.ts).
 */
import { open } from 'node:fs/promises';

export type Sniffed =
  | { family: 'image'; mimetype: 'image/jpeg' | 'image/png' | 'image/webp' | 'image/avif' }
  | { family: 'gif'; mimetype: 'image/gif' }
  | { family: 'heic'; mimetype: 'image/heic' | 'image/heif' }
  /** Decided by ffprobe; `mimetype` is what the container says when its streams are video. */
  | {
      family: 'container';
      container: 'isobmff' | 'webm' | 'ogg';
      videoMimetype: string;
      audioMimetype: string;
    }
  | { family: 'audio'; mimetype: string }
  | { family: 'unknown' };

/** Enough for the ftyp box's compatible brands and the WebM DocType. */
const HEAD_BYTES = 4096;

export async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
const HEIF_BRANDS = new Set(['mif1', 'msf1', 'mif2']);
/** The ASF header object's GUID (75B22630-668E-11CF-A6D9-00AA0062CE6C, little-endian fields). */
const ASF_GUID = Buffer.from('3026b2758e66cf11a6d900aa0062ce6c', 'hex');

function startsWith(head: Buffer, bytes: readonly number[], offset = 0): boolean {
  if (head.length < offset + bytes.length) return false;
  return bytes.every((b, i) => head[offset + i] === b);
}

function ascii(head: Buffer, start: number, end: number): string {
  return head.subarray(start, end).toString('latin1');
}

/** The major and compatible brands of an ISO BMFF `ftyp` box at the start of the file. */
function ftypBrands(head: Buffer): string[] | null {
  if (head.length < 12 || ascii(head, 4, 8) !== 'ftyp') return null;
  const boxSize = head.readUInt32BE(0);
  const end = Math.min(Math.max(boxSize, 16), head.length);
  const brands = [ascii(head, 8, 12)];
  for (let at = 16; at + 4 <= end; at += 4) brands.push(ascii(head, at, at + 4));
  return brands;
}

export function sniff(head: Buffer): Sniffed {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { family: 'image', mimetype: 'image/jpeg' };
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { family: 'image', mimetype: 'image/png' };
  }
  const six = ascii(head, 0, 6);
  if (six === 'GIF87a' || six === 'GIF89a') return { family: 'gif', mimetype: 'image/gif' };

  const four = ascii(head, 0, 4);
  if (four === 'RIFF' && head.length >= 12) {
    const form = ascii(head, 8, 12);
    if (form === 'WEBP') return { family: 'image', mimetype: 'image/webp' };
    if (form === 'WAVE') return { family: 'audio', mimetype: 'audio/wav' };
    return { family: 'unknown' };
  }

  const brands = ftypBrands(head);
  if (brands) {
    if (brands.some((b) => AVIF_BRANDS.has(b))) return { family: 'image', mimetype: 'image/avif' };
    if (brands.some((b) => HEIC_BRANDS.has(b))) return { family: 'heic', mimetype: 'image/heic' };
    if (brands.some((b) => HEIF_BRANDS.has(b))) return { family: 'heic', mimetype: 'image/heif' };
    // Anything else in ISO BMFF (isom, mp41, mp42, avc1, M4A, M4V, dash…) is MP4 to Mastodon.
    const major = brands[0]!;
    if (major === 'qt  ') {
      return {
        family: 'container',
        container: 'isobmff',
        videoMimetype: 'video/quicktime',
        audioMimetype: 'audio/mp4',
      };
    }
    if (major.startsWith('3gp') || major.startsWith('3g2')) {
      // Mastodon accepts 3GPP as audio only (audio/3gpp); a 3GPP video is served as MP4 after re-encoding.
      return {
        family: 'container',
        container: 'isobmff',
        videoMimetype: 'video/mp4',
        audioMimetype: 'audio/3gpp',
      };
    }
    return {
      family: 'container',
      container: 'isobmff',
      videoMimetype: 'video/mp4',
      audioMimetype: 'audio/mp4',
    };
  }

  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) {
    // EBML: WebM and Matroska share it; only WebM is among Mastodon's types.
    if (head.includes('webm', 0, 'latin1')) {
      return {
        family: 'container',
        container: 'webm',
        videoMimetype: 'video/webm',
        audioMimetype: 'audio/webm',
      };
    }
    return { family: 'unknown' };
  }
  if (four === 'OggS') {
    return { family: 'container', container: 'ogg', videoMimetype: 'video/ogg', audioMimetype: 'audio/ogg' };
  }
  if (four === 'fLaC') return { family: 'audio', mimetype: 'audio/flac' };
  if (ascii(head, 0, 3) === 'ID3') return { family: 'audio', mimetype: 'audio/mpeg' };
  if (head.length >= 16 && head.subarray(0, 16).equals(ASF_GUID)) {
    // Mastodon lists video/x-ms-asf (WMA) among its audio types and transcodes it to MP3.
    return { family: 'audio', mimetype: 'video/x-ms-asf' };
  }
  if (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0) {
    // An MPEG audio frame sync; layer bits 00 with MPEG-4 is ADTS (AAC), anything else MP3/MP2.
    const layer = (head[1]! >> 1) & 0x03;
    if (layer === 0 && (head[1]! & 0xf6) === 0xf0) return { family: 'audio', mimetype: 'audio/aac' };
    if (layer !== 0 && (head[1]! & 0x18) !== 0x08) return { family: 'audio', mimetype: 'audio/mpeg' };
  }
  return { family: 'unknown' };
}
