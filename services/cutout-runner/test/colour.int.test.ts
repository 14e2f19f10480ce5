// Colour PNGs against astropy.visualization.make_lupton_rgb (astropy 8) on the same three float32 images
// (written as FITS by our writer, read by astropy): the PNG decodes (pngjs) to width × height RGB, flipped
// so FITS row 0 is the bottom, and every channel value is astropy's within 1 level (float32 rounding of
// asinh differs between numpy and V8); at least 99 % are identical. Measured numbers are printed.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { luptonRgb, rgbPng } from '../src/colour/lupton.js';
import { formatCard, Header } from '../src/fits/header.js';
import { emptyPrimary, hduBytes, imageHduBytes } from '../src/fits/image.js';
import { astropy, astropyPython } from './support/astropy.js';

const dir = mkdtempSync(join(tmpdir(), 'skyport-colour-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const W = 64;
const H = 40;

function band(stars: [number, number, number][], seed: number): Float32Array {
  const out = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let v = Math.sin(x * 12.9898 + y * 78.233 + seed) * 2; // deterministic "noise"
      for (const [sx, sy, f] of stars) v += f * Math.exp(-((x - sx) ** 2 + (y - sy) ** 2) / 4.5);
      out[y * W + x] = v;
    }
  }
  return out;
}

describe('colour PNG matches make_lupton_rgb', () => {
  it('DES defaults (minimum 1, stretch 50, Q 10): shape, orientation, channel order, values ±1', () => {
    const r = band(
      [
        [10, 5, 3000],
        [40, 30, 300],
      ],
      1,
    );
    const g = band(
      [
        [50, 20, 3000],
        [40, 30, 300],
      ],
      2,
    );
    const b = band([[40, 30, 300]], 3);
    const parts = [hduBytes(emptyPrimary(), new Uint8Array(0))];
    for (const [name, data] of [
      ['R', r],
      ['G', g],
      ['B', b],
    ] as const) {
      parts.push(
        imageHduBytes(
          new Header([formatCard('EXTNAME', name)]),
          { bitpix: -32, width: W, height: H, data },
          false,
        ),
      );
    }
    const path = join(dir, 'rgb.fits');
    writeFileSync(path, Buffer.concat(parts));

    const png = PNG.sync.read(rgbPng(luptonRgb(r, g, b), W, H));
    expect([png.width, png.height]).toEqual([W, H]);
    const ref = astropy<{ shape: number[]; rgb: string }>(astropyPython(), 'lupton', {
      images: [
        [path, 'R'],
        [path, 'G'],
        [path, 'B'],
      ],
      minimum: 1.0,
      stretch: 50,
      Q: 10,
    });
    expect(ref.shape).toEqual([H, W, 3]);
    const want = Buffer.from(ref.rgb, 'base64');
    let worst = 0;
    let same = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        for (let c = 0; c < 3; c++) {
          // PNG row 0 is the top: FITS row H − 1.
          const ours = png.data[((H - 1 - y) * W + x) * 4 + c]!;
          const theirs = want[(y * W + x) * 3 + c]!;
          worst = Math.max(worst, Math.abs(ours - theirs));
          if (ours === theirs) same++;
        }
      }
    }
    console.log(
      `lupton vs astropy: worst ${worst} level(s), ${((100 * same) / (W * H * 3)).toFixed(2)} % identical`,
    );
    expect(worst).toBeLessThanOrEqual(1);
    expect(same / (W * H * 3)).toBeGreaterThanOrEqual(0.99);
    // The red star at FITS (10, 5) is red in the PNG (row H − 1 − 5), the green one green.
    const px = (x: number, y: number): number[] =>
      Array.from(png.data.subarray(((H - 1 - y) * W + x) * 4, ((H - 1 - y) * W + x) * 4 + 3));
    const red = px(10, 5);
    expect(red[0]).toBeGreaterThan(200);
    expect(red[1]! + red[2]!).toBeLessThan(60);
    const green = px(50, 20);
    expect(green[1]).toBeGreaterThan(200);
    expect(green[0]! + green[2]!).toBeLessThan(60);
  });
});
