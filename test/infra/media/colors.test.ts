import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ciede2000, contrast, extractColors, type Rgb, toHex } from '../../../src/infra/media/colors.ts';

/** Packed RGB pixels from a function of the position. */
function image(width: number, height: number, color: (x: number, y: number) => Rgb): Buffer {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const { r, g, b } = color(x, y);
      data.set([r, g, b], (y * width + x) * 3);
    }
  }
  return data;
}

describe('colour extraction', () => {
  test('CIEDE2000: zero for equal colours, symmetric, and near published values', () => {
    const red = { r: 255, g: 0, b: 0 };
    const blue = { r: 0, g: 0, b: 255 };
    assert.equal(ciede2000(red, red), 0);
    assert.ok(Math.abs(ciede2000(red, blue) - ciede2000(blue, red)) < 1e-9);
    // Reference values for sRGB pairs (CIEDE2000 on D65 Lab): black–white 100, red–blue ≈ 52.88.
    assert.ok(Math.abs(ciede2000({ r: 0, g: 0, b: 0 }, { r: 255, g: 255, b: 255 }) - 100) < 0.01);
    assert.ok(Math.abs(ciede2000(red, blue) - 52.88) < 0.1, `${ciede2000(red, blue)}`);
  });

  test('WCAG contrast: 21 for black on white, 1 for a colour on itself', () => {
    assert.ok(Math.abs(contrast({ r: 0, g: 0, b: 0 }, { r: 255, g: 255, b: 255 }) - 21) < 0.01);
    assert.equal(contrast({ r: 10, g: 200, b: 30 }, { r: 10, g: 200, b: 30 }), 1);
  });

  test('toHex floors and clamps', () => {
    assert.equal(toHex({ r: 12.8, g: 0, b: 255.9 }), '#0c00ff');
  });

  test('background from the edges, a contrasting foreground from the middle', () => {
    // A black frame around a white square.
    const data = image(100, 100, (x, y) =>
      x >= 30 && x < 70 && y >= 30 && y < 70 ? { r: 255, g: 255, b: 255 } : { r: 0, g: 0, b: 0 },
    );
    const colors = extractColors(data, 100, 100)!;
    // Bin centres: black → #0c0c0c, white → #f3f3f3.
    assert.equal(colors.background, '#0c0c0c');
    assert.equal(colors.foreground, '#f3f3f3');
    assert.match(colors.accent, /^#[0-9a-f]{6}$/);
  });

  test('a flat image gets foreground and accent made by lightening the background', () => {
    const data = image(50, 50, () => ({ r: 20, g: 20, b: 60 }));
    const colors = extractColors(data, 50, 50)!;
    assert.equal(colors.background, '#0c0c40');
    assert.notEqual(colors.foreground, colors.background);
    assert.notEqual(colors.accent, colors.background);
    // Dark background: the made-up colours are lighter.
    assert.ok(Number.parseInt(colors.foreground.slice(1, 3), 16) > 12);
  });

  test('an empty image has no colours', () => {
    assert.equal(extractColors(Buffer.alloc(0), 0, 0), null);
  });
});
