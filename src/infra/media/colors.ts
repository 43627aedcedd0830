/**
 * The audio player's colours, as Mastodon's Paperclip::ColorExtractor picks them from a cover or a
 * custom thumbnail: the most common colour of the image's edges is the background; among the ten
 * most common colours of the whole image, the farthest from the background (CIEDE2000) with enough
 * contrast become the accent and the foreground, and missing ones are made by lightening or
 * darkening the background.
 */

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

export interface PlayerColors {
  background: string;
  foreground: string;
  accent: string;
}

const MIN_CONTRAST = 3.0;
const ACCENT_MIN_CONTRAST = 2.0;
/** Histogram bins per channel. */
const BINS = 10;
const PALETTE_SIZE = 10;

function linear(channel: number): number {
  const c = channel / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** CIE XYZ (D65), 0–100, from sRGB. */
function toXyz({ r, g, b }: Rgb): { x: number; y: number; z: number } {
  const lr = linear(r);
  const lg = linear(g);
  const lb = linear(b);
  return {
    x: (lr * 0.4124 + lg * 0.3576 + lb * 0.1805) * 100,
    y: (lr * 0.2126 + lg * 0.7152 + lb * 0.0722) * 100,
    z: (lr * 0.0193 + lg * 0.1192 + lb * 0.9505) * 100,
  };
}

function toLab(rgb: Rgb): { l: number; a: number; b: number } {
  const { x, y, z } = toXyz(rgb);
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 / 116) * t + 16 / 116);
  const fx = f(x / 95.047);
  const fy = f(y / 100);
  const fz = f(z / 108.883);
  return { l: 116 * fy - 16, a: 500 * (fx - fy), b: 200 * (fy - fz) };
}

const degrees = (radians: number) => (radians * 180) / Math.PI;
const radians = (deg: number) => (deg * Math.PI) / 180;

/** CIEDE2000 colour difference (Sharma, Wu and Dalal's formulation). */
export function ciede2000(first: Rgb, second: Rgb): number {
  const one = toLab(first);
  const two = toLab(second);
  const c1 = Math.hypot(one.a, one.b);
  const c2 = Math.hypot(two.a, two.b);
  const meanC = (c1 + c2) / 2;
  const g = 0.5 * (1 - Math.sqrt(meanC ** 7 / (meanC ** 7 + 25 ** 7)));
  const a1 = one.a * (1 + g);
  const a2 = two.a * (1 + g);
  const c1p = Math.hypot(a1, one.b);
  const c2p = Math.hypot(a2, two.b);
  const hue = (b: number, a: number) => {
    if (a === 0 && b === 0) return 0;
    const h = degrees(Math.atan2(b, a));
    return h < 0 ? h + 360 : h;
  };
  const h1p = hue(one.b, a1);
  const h2p = hue(two.b, a2);
  const deltaL = two.l - one.l;
  const deltaC = c2p - c1p;
  let deltaH = 0;
  if (c1p * c2p !== 0) {
    deltaH = h2p - h1p;
    if (deltaH > 180) deltaH -= 360;
    else if (deltaH < -180) deltaH += 360;
  }
  const deltaBigH = 2 * Math.sqrt(c1p * c2p) * Math.sin(radians(deltaH / 2));
  const meanL = (one.l + two.l) / 2;
  const meanCp = (c1p + c2p) / 2;
  let meanH = h1p + h2p;
  if (c1p * c2p !== 0) {
    if (Math.abs(h1p - h2p) <= 180) meanH = (h1p + h2p) / 2;
    else meanH = h1p + h2p < 360 ? (h1p + h2p + 360) / 2 : (h1p + h2p - 360) / 2;
  }
  const t =
    1 -
    0.17 * Math.cos(radians(meanH - 30)) +
    0.24 * Math.cos(radians(2 * meanH)) +
    0.32 * Math.cos(radians(3 * meanH + 6)) -
    0.2 * Math.cos(radians(4 * meanH - 63));
  const deltaTheta = 30 * Math.exp(-(((meanH - 275) / 25) ** 2));
  const rc = 2 * Math.sqrt(meanCp ** 7 / (meanCp ** 7 + 25 ** 7));
  const sl = 1 + (0.015 * (meanL - 50) ** 2) / Math.sqrt(20 + (meanL - 50) ** 2);
  const sc = 1 + 0.045 * meanCp;
  const sh = 1 + 0.015 * meanCp * t;
  const rt = -Math.sin(radians(2 * deltaTheta)) * rc;
  return Math.sqrt(
    (deltaL / sl) ** 2 + (deltaC / sc) ** 2 + (deltaBigH / sh) ** 2 + rt * (deltaC / sc) * (deltaBigH / sh),
  );
}

/** WCAG contrast ratio. */
export function contrast(first: Rgb, second: Rgb): number {
  const l1 = toXyz(first).y * 0.01 + 0.05;
  const l2 = toXyz(second).y * 0.01 + 0.05;
  return l1 > l2 ? l1 / l2 : l2 / l1;
}

/** HSL with hue in degrees and saturation/lightness in percent, rounded as Mastodon rounds them. */
function toHsl({ r, g, b }: Rgb): [number, number, number] {
  const rn = r / 255;
  const gn = g / 255;
  const bn = b / 255;
  const max = Math.max(rn, gn, bn);
  const min = Math.min(rn, gn, bn);
  const l = (max + min) / 2;
  if (max === min) return [0, 0, Math.round(l * 100)];
  const d = max - min;
  const s = l >= 0.5 ? d / (2 - max - min) : d / (max + min);
  let h: number;
  if (max === rn) h = (gn - bn) / d + (gn < bn ? 6 : 0);
  else if (max === gn) h = (bn - rn) / d + 2;
  else h = (rn - gn) / d + 4;
  return [Math.round((h / 6) * 360), Math.round(s * 100), Math.round(l * 100)];
}

function hueToRgb(p: number, q: number, tIn: number): number {
  let t = tIn;
  if (t < 0) t += 1;
  if (t > 1) t -= 1;
  if (t < 1 / 6) return p + (q - p) * 6 * t;
  if (t < 1 / 2) return q;
  if (t < 2 / 3) return p + (q - p) * (2 / 3 - t) * 6;
  return p;
}

function fromHsl(hDeg: number, sPct: number, lPct: number): Rgb {
  const h = hDeg / 360;
  const s = sPct / 100;
  const l = lPct / 100;
  if (s === 0) {
    const v = Math.round(l * 255);
    return { r: v, g: v, b: v };
  }
  const q = l < 0.5 ? l * (s + 1) : l + s - l * s;
  const p = 2 * l - q;
  return {
    r: Math.round(hueToRgb(p, q, h + 1 / 3) * 255),
    g: Math.round(hueToRgb(p, q, h) * 255),
    b: Math.round(hueToRgb(p, q, h - 1 / 3) * 255),
  };
}

function lightenOrDarken(color: Rgb, by: number): Rgb {
  const [h, s, l] = toHsl(color);
  return fromHsl(h, s, l < 50 ? Math.min(100, l + by) : Math.max(0, l - by));
}

export function toHex({ r, g, b }: Rgb): string {
  const hex = (v: number) =>
    Math.max(0, Math.min(255, Math.floor(v)))
      .toString(16)
      .padStart(2, '0');
  return `#${hex(r)}${hex(g)}${hex(b)}`;
}

/**
 * The most common colours among the pixels `include` selects, most common first: a BINS³
 * histogram, each bin standing for its centre colour.
 */
function palette(
  data: Buffer,
  width: number,
  height: number,
  include: (x: number, y: number) => boolean,
): Rgb[] {
  const counts = new Uint32Array(BINS * BINS * BINS);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!include(x, y)) continue;
      const at = (y * width + x) * 3;
      const bin = (v: number) => Math.floor((v * BINS) / 256);
      counts[bin(data[at]!) * BINS * BINS + bin(data[at + 1]!) * BINS + bin(data[at + 2]!)]!++;
    }
  }
  const centre = (i: number) => ((i + 0.5) * 256) / BINS;
  return [...counts.keys()]
    .filter((i) => counts[i]! > 0)
    .sort((a, b) => counts[b]! - counts[a]! || a - b)
    .slice(0, PALETTE_SIZE)
    .map((i) => ({
      r: centre(Math.floor(i / (BINS * BINS))),
      g: centre(Math.floor(i / BINS) % BINS),
      b: centre(i % BINS),
    }));
}

function farthest(background: Rgb, candidates: Rgb[], minContrast: number, exclude: Rgb[]): Rgb | null {
  let best: Rgb | null = null;
  let bestDistance = 0;
  for (const color of candidates) {
    if (exclude.includes(color)) continue;
    const distance = ciede2000(background, color);
    if (distance > bestDistance && contrast(background, color) >= minContrast) {
      bestDistance = distance;
      best = color;
    }
  }
  return best;
}

/** Colours from packed RGB pixels (3 bytes each) of a small image (≤ 100 px wide, as Mastodon). */
export function extractColors(data: Buffer, width: number, height: number): PlayerColors | null {
  const blockEdge = Math.floor(height * 0.25);
  const lineEdge = Math.floor(width * 0.25);
  const onEdge = (x: number, y: number) =>
    y < blockEdge || y >= height - blockEdge || x < lineEdge || x >= width - lineEdge;
  const backgroundPalette = palette(data, width, height, onEdge);
  const foregroundPalette = palette(data, width, height, () => true);
  const background = backgroundPalette[0] ?? foregroundPalette[0];
  if (!background) return null;

  const foregrounds: Rgb[] = [];
  const accentCandidate = farthest(background, foregroundPalette, ACCENT_MIN_CONTRAST, []);
  if (accentCandidate) foregrounds.push(accentCandidate);
  const foregroundCandidate = farthest(background, foregroundPalette, MIN_CONTRAST, foregrounds);
  if (foregroundCandidate) foregrounds.push(foregroundCandidate);
  const missing = 2 - foregrounds.length;
  for (let i = 0; i < missing; i++) foregrounds.push(lightenOrDarken(background, 35 + i * 15));

  // The most contrasting becomes the foreground, the most saturated the accent.
  const foreground = foregrounds.reduce((best, c) =>
    contrast(background, c) > contrast(background, best) ? c : best,
  );
  const accent = foregrounds.reduce((best, c) => (toHsl(c)[1] > toHsl(best)[1] ? c : best));
  return { background: toHex(background), foreground: toHex(foreground), accent: toHex(accent) };
}
