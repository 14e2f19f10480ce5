// One cutout: which tile it comes from, which pixels, and the FITS HDU it becomes. The pixel box follows
// astropy's Cutout2D exactly (first pixel = ceil(position − size/2) on each axis, position 0-based), so a
// cutout that needs no padding is bit for bit astropy's. The header is the source header with NAXISn set
// and CRPIX shifted by the box origin — CRVAL, CD and every other card kept — plus CHECKSUM/DATASUM.
// Outside the tile: `pad` fills NaN (BLANK for integer images) keeping the requested shape, `trim` crops
// to the covered pixels, `error` refuses. `mosaic` fills from neighbouring tiles on the same pixel grid.

import { Header } from '../fits/header.js';
import { allocPixels, type Image, type Pixels } from '../fits/image.js';
import { inFootprint, tileWcs, type IndexedTile, type TileIndex } from '../survey/tile-index.js';
import type { TanWcs } from '../wcs.js';

export type EdgePolicy = 'pad' | 'trim' | 'error';
export type MultiTilePolicy = 'mosaic' | 'best-tile' | 'error';

/** A source tile and where its pixels sit in the cutout's grid. */
export interface Piece {
  readonly tile: IndexedTile;
  /** Cutout pixel (i, j) is this tile's pixel (x0 + i, y0 + j). */
  readonly x0: number;
  readonly y0: number;
}

export interface Plan {
  readonly best: IndexedTile;
  /** The position in the best tile's 0-based pixels. */
  readonly x: number;
  readonly y: number;
  readonly nx: number;
  readonly ny: number;
  /** Best tile first; others only for mosaics. */
  readonly pieces: readonly Piece[];
  /** Fraction of the nx × ny box the pieces cover. */
  readonly coverage: number;
}

export type PlanResult =
  { ok: true; plan: Plan } | { ok: false; status: 'unmatched' | 'failed'; reason: string };

interface Candidate {
  readonly tile: IndexedTile;
  readonly wcs: TanWcs;
}

/** Covered pixel count of a box [x0, x0+nx) × [y0, y0+ny) on a width × height tile. */
function overlap(x0: number, y0: number, nx: number, ny: number, width: number, height: number): number {
  const w = Math.max(0, Math.min(x0 + nx, width) - Math.max(x0, 0));
  const h = Math.max(0, Math.min(y0 + ny, height) - Math.max(y0, 0));
  return w * h;
}

/**
 * Chooses the tile(s) for a box of nx × ny pixels centred on (ra, dec). `wcsCache` memoises the tiles'
 * WCS. The best tile is one whose pixel area contains the centre, the most covering first.
 */
export function planCutout(
  index: TileIndex,
  ra: number,
  dec: number,
  size: (tile: IndexedTile) => { nx: number; ny: number },
  multi: MultiTilePolicy,
  wcsCache: Map<string, TanWcs> = new Map(),
): PlanResult {
  const wcsOf = (t: IndexedTile): TanWcs => {
    let w = wcsCache.get(t.tile);
    if (w === undefined) wcsCache.set(t.tile, (w = tileWcs(t)));
    return w;
  };
  const holders: (Candidate & { x: number; y: number; covered: number; nx: number; ny: number })[] = [];
  for (const tile of index.tiles) {
    if (!inFootprint(tile.footprint, ra, dec, 1 / 3600)) continue;
    const wcs = wcsOf(tile);
    const [x, y] = wcs.worldToPixel(ra, dec);
    if (!(x >= -0.5 && x < tile.width - 0.5 && y >= -0.5 && y < tile.height - 0.5)) continue;
    const { nx, ny } = size(tile);
    const covered = overlap(Math.ceil(x - nx / 2), Math.ceil(y - ny / 2), nx, ny, tile.width, tile.height);
    holders.push({ tile, wcs, x, y, covered, nx, ny });
  }
  holders.sort((a, b) => b.covered - a.covered || a.tile.tile.localeCompare(b.tile.tile));
  const best = holders[0];
  if (best === undefined)
    return { ok: false, status: 'unmatched', reason: 'out-of-footprint: no tile contains the position' };
  const { nx, ny } = best;
  const bx0 = Math.ceil(best.x - nx / 2);
  const by0 = Math.ceil(best.y - ny / 2);
  const pieces: Piece[] = [{ tile: best.tile, x0: bx0, y0: by0 }];
  let covered = best.covered;
  if (covered < nx * ny && multi === 'error') {
    return {
      ok: false,
      status: 'failed',
      reason: 'multi-tile: the cutout crosses a tile edge (multiTilePolicy error)',
    };
  }
  if (covered < nx * ny && multi === 'mosaic') {
    const mask = new Uint8Array(nx * ny);
    markCovered(mask, nx, ny, bx0, by0, best.tile);
    const margin = ((Math.hypot(nx, ny) / 2) * Math.max(...best.tile.pixelScale)) / 3600;
    for (const tile of index.tiles) {
      if (tile === best.tile || !inFootprint(tile.footprint, ra, dec, margin)) continue;
      const off = best.wcs.gridOffset(wcsOf(tile));
      if (off === undefined) continue; // another pixel grid: a mosaic would need resampling
      const piece = { tile, x0: bx0 - off[0], y0: by0 - off[1] };
      const added = markCovered(mask, nx, ny, piece.x0, piece.y0, tile);
      if (added > 0) {
        pieces.push(piece);
        covered += added;
      }
    }
  }
  return {
    ok: true,
    plan: { best: best.tile, x: best.x, y: best.y, nx, ny, pieces, coverage: covered / (nx * ny) },
  };
}

/** Marks the cutout pixels a tile covers that no earlier piece did; returns how many. */
function markCovered(
  mask: Uint8Array,
  nx: number,
  ny: number,
  x0: number,
  y0: number,
  t: IndexedTile,
): number {
  let added = 0;
  for (let j = Math.max(0, -y0); j < Math.min(ny, t.height - y0); j++) {
    for (let i = Math.max(0, -x0); i < Math.min(nx, t.width - x0); i++) {
      if (mask[j * nx + i] === 0) {
        mask[j * nx + i] = 1;
        added++;
      }
    }
  }
  return added;
}

/** The value that marks a pixel no tile covers: NaN, or BLANK (the header's, else the type's minimum). */
export function fillValue(img: Image): number {
  if (img.bitpix < 0) return NaN;
  const blank = img.header.get('BLANK');
  if (typeof blank === 'number') return blank;
  return img.bitpix === 8 ? 0 : img.bitpix === 16 ? -32768 : -2147483648;
}

export interface Cut {
  readonly header: Header;
  readonly image: Omit<Image, 'header'>;
  /** Covered fraction of the output (1 for trimmed cutouts unless a hole remains inside). */
  readonly coverage: number;
}

/**
 * Cuts the planned box out of the piece images (`images[k]` is piece k's image of one HDU), applying the
 * edge policy. Returns undefined for `error` when the box is not fully covered.
 */
export function cutPieces(plan: Plan, images: readonly Image[], edge: EdgePolicy): Cut | undefined {
  const first = images[0];
  if (first === undefined) throw new Error('cutPieces: no image');
  const { nx, ny } = plan;
  const fill = fillValue(first);
  const out = allocPixels(first.bitpix, nx * ny);
  out.fill(fill);
  const mask = new Uint8Array(nx * ny);
  plan.pieces.forEach((p, k) => {
    const img = images[k];
    if (img === undefined) return;
    copyBox(img, p.x0, p.y0, nx, ny, out, mask);
  });
  let covered = 0;
  for (const m of mask) covered += m;
  if (covered < nx * ny && edge === 'error') return undefined;
  let ox = 0;
  let oy = 0;
  let w = nx;
  let h = ny;
  let data: Pixels = out;
  if (edge === 'trim' && covered < nx * ny) {
    ({ ox, oy, w, h } = bbox(mask, nx, ny));
    data = allocPixels(first.bitpix, w * h);
    for (let j = 0; j < h; j++) data.set(out.subarray((oy + j) * nx + ox, (oy + j) * nx + ox + w), j * w);
    let inBox = 0;
    for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) inBox += mask[(oy + j) * nx + ox + i] ?? 0;
    covered = inBox;
  }
  const header = cutoutHeader(first.header, plan.pieces[0]?.x0 ?? 0, plan.pieces[0]?.y0 ?? 0, ox, oy, w, h);
  if (first.bitpix > 0 && covered < w * h && !header.has('BLANK')) {
    header.insertAfter('NAXIS2', 'BLANK', fill, 'pixels no tile covers');
  }
  return {
    header,
    image: { bitpix: first.bitpix, width: w, height: h, data },
    coverage: w * h === 0 ? 0 : covered / (w * h),
  };
}

function copyBox(
  img: Image,
  x0: number,
  y0: number,
  nx: number,
  ny: number,
  out: Pixels,
  mask: Uint8Array,
): void {
  const i0 = Math.max(0, -x0);
  const i1 = Math.min(nx, img.width - x0);
  if (i1 <= i0) return;
  for (let j = Math.max(0, -y0); j < Math.min(ny, img.height - y0); j++) {
    const src = (y0 + j) * img.width + x0;
    for (let i = i0; i < i1; i++) {
      if (mask[j * nx + i] === 1) continue;
      out[j * nx + i] = img.data[src + i] ?? 0;
      mask[j * nx + i] = 1;
    }
  }
}

function bbox(mask: Uint8Array, nx: number, ny: number): { ox: number; oy: number; w: number; h: number } {
  let x0 = nx;
  let y0 = ny;
  let x1 = -1;
  let y1 = -1;
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      if (mask[j * nx + i] === 1) {
        x0 = Math.min(x0, i);
        x1 = Math.max(x1, i);
        y0 = Math.min(y0, j);
        y1 = Math.max(y1, j);
      }
    }
  }
  return x1 < 0 ? { ox: 0, oy: 0, w: 0, h: 0 } : { ox: x0, oy: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/** The source header with only CRPIX shifted by the cutout's origin (0-based tile pixel of its first pixel). */
export function cutoutHeader(
  src: Header,
  x0: number,
  y0: number,
  ox: number,
  oy: number,
  w: number,
  h: number,
): Header {
  const out = src.clone();
  out.set('NAXIS1', w);
  out.set('NAXIS2', h);
  out.delete('CHECKSUM');
  out.delete('DATASUM');
  out.set('CRPIX1', src.number('CRPIX1') - (x0 + ox));
  out.set('CRPIX2', src.number('CRPIX2') - (y0 + oy));
  return out;
}
