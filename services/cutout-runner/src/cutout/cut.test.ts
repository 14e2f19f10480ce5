import { describe, expect, it } from 'vitest';
import { formatCard, Header } from '../fits/header.js';
import type { Image } from '../fits/image.js';
import type { IndexedTile } from '../survey/tile-index.js';
import { cutoutHeader, cutPieces, type Plan } from './cut.js';

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
