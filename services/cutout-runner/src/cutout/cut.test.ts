import { describe, expect, it } from 'vitest';
import { formatCard, Header } from '../fits/header.js';
import type { Image } from '../fits/image.js';
import type { IndexedTile } from '../survey/tile-index.js';
import { cutoutHeader, cutPieces, rowSpans, type Circle, type Plan } from './cut.js';

const tile = { tile: 'T', width: 10, height: 8 } as IndexedTile;
function image(bitpix: -32 | 16): Image {
  const data = bitpix === -32 ? new Float32Array(80) : new Int16Array(80);
  for (let i = 0; i < 80; i++) data[i] = i;
  const header = new Header([
    formatCard('CRPIX1', 5.5),
    formatCard('CRPIX2', 4.5),
    formatCard('CRVAL1', 1),
    formatCard('NAXIS1', 10),
    formatCard('NAXIS2', 8),
  ]);
  return { header, bitpix, width: 10, height: 8, data };
}
const plan = (x0: number, y0: number, nx: number, ny: number): Plan => ({
  best: tile,
  x: 0,
  y: 0,
  nx,
  ny,
  pieces: [{ tile, x0, y0 }],
  coverage: 0,
});

describe('cutPieces', () => {
  it('inside the tile: the pixels, NAXISn and CRPIX shifted by the origin, CRVAL kept', () => {
    const c = cutPieces(plan(2, 3, 4, 2), [image(-32)], 'pad')!;
    expect(Array.from(c.image.data)).toEqual([32, 33, 34, 35, 42, 43, 44, 45]);
    expect([
      c.header.get('NAXIS1'),
      c.header.get('NAXIS2'),
      c.header.get('CRPIX1'),
      c.header.get('CRPIX2'),
      c.header.get('CRVAL1'),
    ]).toEqual([4, 2, 3.5, 1.5, 1]);
    expect(c.coverage).toBe(1);
  });

  it('pad keeps the shape with NaN (floats) or BLANK (integers); trim crops; error refuses', () => {
    const pad = cutPieces(plan(-2, 6, 4, 3), [image(-32)], 'pad')!;
    expect([pad.image.width, pad.image.height]).toEqual([4, 3]);
    expect(Array.from(pad.image.data).map((v) => (Number.isNaN(v) ? null : v))).toEqual([
      null,
      null,
      60,
      61,
      null,
      null,
      70,
      71,
      null,
      null,
      null,
      null,
    ]);
    expect(pad.coverage).toBeCloseTo(4 / 12, 12);
    const ints = cutPieces(plan(-2, 6, 4, 3), [image(16)], 'pad')!;
    expect(ints.image.data[0]).toBe(-32768);
    expect(ints.header.get('BLANK')).toBe(-32768);
    const trim = cutPieces(plan(-2, 6, 4, 3), [image(-32)], 'trim')!;
    expect([trim.image.width, trim.image.height, Array.from(trim.image.data)]).toEqual([
      2,
      2,
      [60, 61, 70, 71],
    ]);
    expect([trim.header.get('CRPIX1'), trim.header.get('CRPIX2'), trim.coverage]).toEqual([5.5, -1.5, 1]);
    expect(cutPieces(plan(-2, 6, 4, 3), [image(-32)], 'error')).toBeUndefined();
  });

  it('a mosaic takes each pixel from the first piece that has it', () => {
    const right = image(-32);
    right.data.fill(-1);
    const p: Plan = {
      ...plan(8, 0, 4, 1),
      pieces: [
        { tile, x0: 8, y0: 0 },
        { tile, x0: -2, y0: 0 },
      ],
    };
    expect(Array.from(cutPieces(p, [image(-32), right], 'pad')!.image.data)).toEqual([8, 9, -1, -1]);
  });

  it('cutoutHeader changes only NAXISn and CRPIX', () => {
    const src = image(-32).header;
    const h = cutoutHeader(src, 3, -4, 0, 0, 7, 9);
    const changed = h.cards.filter((c, i) => c !== src.cards[i]).map((c) => c.slice(0, 8).trim());
    expect(changed.sort()).toEqual(['CRPIX1', 'CRPIX2', 'NAXIS1', 'NAXIS2']);
  });
});

describe('circles', () => {
  /** An nx × ny cutout at origin (x0, y0) of a w × h float image whose pixel values are their indexes. */
  function circleCut(
    w: number,
    h: number,
    x0: number,
    y0: number,
    n: number,
    circle: Circle,
    bitpix: -32 | 16,
  ) {
    const t = { tile: 'T', width: w, height: h } as IndexedTile;
    const data = bitpix === -32 ? new Float32Array(w * h) : new Int16Array(w * h);
    for (let i = 0; i < w * h; i++) data[i] = i % 30000;
    const header = new Header([
      formatCard('NAXIS1', w),
      formatCard('NAXIS2', h),
      formatCard('CRPIX1', 1),
      formatCard('CRPIX2', 1),
    ]);
    const p: Plan = { best: t, x: 0, y: 0, nx: n, ny: n, pieces: [{ tile: t, x0, y0 }], coverage: 0, circle };
    return {
      cut: (edge: 'pad' | 'trim' | 'error' = 'pad') =>
        cutPieces(p, [{ header, bitpix, width: w, height: h, data }], edge),
      data,
    };
  }

  it('a pixel whose centre is just inside the radius keeps its value, just outside is NaN', () => {
    // Pixel (7, 5) lies at distance d from the centre (4.3, 3.6); radii d ± 1e-9 put it on either side.
    const d = Math.hypot(7 - 4.3, 5 - 3.6);
    const inside = circleCut(20, 20, 0, 0, 9, { cx: 4.3, cy: 3.6, r: d + 1e-9 }, -32).cut()!;
    const outside = circleCut(20, 20, 0, 0, 9, { cx: 4.3, cy: 3.6, r: d - 1e-9 }, -32).cut()!;
    expect(inside.image.data[5 * 9 + 7]).toBe(5 * 20 + 7);
    expect(outside.image.data[5 * 9 + 7]).toBeNaN();
    // Every pixel follows the rule, judged by an independent distance.
    for (const [c, r] of [
      [inside, d + 1e-9],
      [outside, d - 1e-9],
    ] as const) {
      for (let j = 0; j < 9; j++) {
        for (let i = 0; i < 9; i++) {
          const v = c.image.data[j * 9 + i]!;
          if (Math.hypot(i - 4.3, j - 3.6) <= r) expect(v, `${i},${j}`).toBe(j * 20 + i);
          else expect(v, `${i},${j}`).toBeNaN();
        }
      }
      // On the tile: the circle is fully covered although the square's corners are blank.
      expect(c.coverage).toBe(1);
    }
    expect(inside.header.get('CUTSHAPE')).toBe('circle');
    expect(inside.header.get('CUTRAD')).toBeCloseTo(d + 1e-9, 10);
    expect([inside.header.get('CUTCEN1'), inside.header.get('CUTCEN2')]).toEqual([5.3, 4.6]);
    expect(inside.header.cards.some((c) => c.startsWith('HISTORY skyport: circle cutout'))).toBe(true);
  });

  it('integer HDUs (MSK) get BLANK outside the circle, with a BLANK card', () => {
    const c = circleCut(20, 20, 2, 2, 11, { cx: 5, cy: 5, r: 5.5 }, 16).cut()!;
    expect(c.image.data[0]).toBe(-32768); // a corner
    expect(c.image.data[5 * 11 + 5]).toBe(7 * 20 + 7); // the centre
    expect(c.image.data[5 * 11 + 0]).toBe(7 * 20 + 2); // distance 5 ≤ 5.5
    expect(c.header.get('BLANK')).toBe(-32768);
    expect(c.coverage).toBe(1);
  });

  it('coverage counts the circle: half off the tile is ≈ 0.5, and edgePolicy error refuses it', () => {
    // The centre sits on the tile's left edge (tile pixel −0.5): cutout x 49.5 with the box from tile x −50.
    const { cut } = circleCut(200, 200, -50, 50, 100, { cx: 49.5, cy: 49.7, r: 50 }, -32);
    const pad = cut()!;
    expect(Math.abs(pad.coverage - 0.5)).toBeLessThan(0.01);
    let kept = 0;
    for (const v of pad.image.data) if (!Number.isNaN(v)) kept++;
    const circlePixels = Array.from({ length: 100 * 100 }, (_, k) =>
      Math.hypot((k % 100) - 49.5, Math.floor(k / 100) - 49.7) <= 50 ? 1 : 0,
    ).reduce<number>((a, b) => a + b, 0);
    expect(pad.coverage).toBeCloseTo(kept / circlePixels, 12);
    expect(cut('error')).toBeUndefined();
    // trim: the covered half-disc's bounding box (rows 0 and 99 are 49.7 and 49.3 px from the centre, so
    // their first tile column is inside), its circle pixels all covered.
    const trim = cut('trim')!;
    expect([trim.image.width, trim.image.height, trim.coverage]).toEqual([50, 100, 1]);
    expect(trim.circle).toEqual({ cx: -0.5, cy: 49.7, r: 50 });
    expect(trim.header.get('CUTCEN1')).toBe(0.5);
  });

  it('rowSpans agrees with the distance rule at every pixel, whatever the centre', () => {
    for (const [cx, cy, r] of [
      [3.5, 3.5, 3.5],
      [10.01, 9.99, 7.3],
      [0, 0, 2],
      [2.2, -1.5, 3],
    ] as const) {
      const spans = rowSpans(21, 21, { cx, cy, r });
      for (let j = 0; j < 21; j++) {
        for (let i = 0; i < 21; i++) {
          const inSpan = i >= spans[2 * j]! && i < spans[2 * j + 1]!;
          expect(inSpan, `${cx},${cy},${r} at ${i},${j}`).toBe((i - cx) ** 2 + (j - cy) ** 2 <= r * r);
        }
      }
    }
  });
});
