// One cutout: which tile it comes from, which pixels, and the FITS HDU it becomes. The pixel box follows
// astropy's Cutout2D exactly (first pixel = ceil(position − size/2) on each axis, position 0-based), so a
// cutout that needs no padding is bit for bit astropy's. The header is the source header with NAXISn set
// and CRPIX shifted by the box origin — CRVAL, CD and every other card kept — plus CHECKSUM/DATASUM.
// Outside the tile: `pad` fills NaN (BLANK for integer images) keeping the requested shape, `trim` crops
// to the covered pixels, `error` refuses. `mosaic` fills from neighbouring tiles on the same pixel grid.
// A circle is cut as its bounding box with every pixel whose centre lies farther than the radius from the
// exact (sub-pixel) requested position blanked like padding; coverage then counts the circle's pixels only.

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

/**
 * A circular cutout in the cutout's 0-based pixels: pixel (i, j) is inside when
 * (i − cx)² + (j − cy)² ≤ r² (its centre within the radius of the requested position).
 */
export interface Circle {
  readonly cx: number;
  readonly cy: number;
  /** Radius in pixels (half the diameter over the tile's pixel scale; not rounded). */
  readonly r: number;
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
  /** Fraction of the wanted pixels (the nx × ny box, or the circle's pixels in it) the pieces cover. */
  readonly coverage: number;
  /** Set for a circle: pixels outside it are blanked. */
  readonly circle?: Circle;
}

/** A cutout's size in a tile's pixels; `r` (the radius in pixels) makes it a circle in an nx × ny box. */
export interface PixelSize {
  readonly nx: number;
  readonly ny: number;
  readonly r?: number;
}

/**
 * The wanted pixels of each row of an nx × ny box: row j is [spans[2j], spans[2j+1]) — the whole row for a
 * box, the pixels whose centre lies within the circle for a circle (an empty span when none).
 */
export function rowSpans(nx: number, ny: number, circle: Circle | undefined): Int32Array {
  const spans = new Int32Array(2 * ny);
  for (let j = 0; j < ny; j++) {
    if (circle === undefined) {
      spans[2 * j + 1] = nx;
      continue;
    }
    const { cx, cy, r } = circle;
    const dy = j - cy;
    const inside = (i: number): boolean => (i - cx) * (i - cx) + dy * dy <= r * r;
    const h2 = r * r - dy * dy;
    let lo = 0;
    let hi = 0;
    if (h2 >= 0) {
      const h = Math.sqrt(h2);
      lo = Math.max(0, Math.ceil(cx - h));
      hi = Math.min(nx, Math.floor(cx + h) + 1);
      // `inside` is the definition; the square root's rounding may move an end by one pixel.
      while (lo > 0 && inside(lo - 1)) lo--;
      while (lo < hi && !inside(lo)) lo++;
      while (hi < nx && inside(hi)) hi++;
      while (hi > lo && !inside(hi - 1)) hi--;
    }
    spans[2 * j] = lo;
    spans[2 * j + 1] = Math.max(lo, hi);
  }
  return spans;
}

function spanCount(spans: Int32Array): number {
  let n = 0;
  for (let k = 0; k < spans.length; k += 2) n += (spans[k + 1] ?? 0) - (spans[k] ?? 0);
  return n;
}

export type PlanResult =
  { ok: true; plan: Plan } | { ok: false; status: 'unmatched' | 'failed'; reason: string };

interface Candidate {
  readonly tile: IndexedTile;
  readonly wcs: TanWcs;
}

/** Wanted pixels (`spans`) of a box whose first pixel is tile pixel (x0, y0) that a width × height tile covers. */
function overlap(spans: Int32Array, x0: number, y0: number, width: number, height: number): number {
  let n = 0;
  const ny = spans.length / 2;
  for (let j = Math.max(0, -y0); j < Math.min(ny, height - y0); j++) {
    const lo = Math.max(spans[2 * j] ?? 0, -x0);
    const hi = Math.min(spans[2 * j + 1] ?? 0, width - x0);
    if (hi > lo) n += hi - lo;
  }
  return n;
}

/**
 * Chooses the tile(s) for a box of nx × ny pixels (or a circle in it) centred on (ra, dec). `wcsCache`
 * memoises the tiles' WCS. The best tile is one whose pixel area contains the centre, the most covering
 * first; coverage counts wanted pixels (the circle's, for a circle).
 */
export function planCutout(
  index: TileIndex,
  ra: number,
  dec: number,
  size: (tile: IndexedTile) => PixelSize,
  multi: MultiTilePolicy,
  wcsCache: Map<string, TanWcs> = new Map(),
): PlanResult {
  const wcsOf = (t: IndexedTile): TanWcs => {
    let w = wcsCache.get(t.tile);
    if (w === undefined) wcsCache.set(t.tile, (w = tileWcs(t)));
    return w;
  };
  type Holder = Candidate & PixelSize & { x: number; y: number; covered: number; spans: Int32Array };
  const holders: (Holder & { circle: Circle | undefined })[] = [];
  for (const tile of index.tiles) {
    if (!inFootprint(tile.footprint, ra, dec, 1 / 3600)) continue;
    const wcs = wcsOf(tile);
    const [x, y] = wcs.worldToPixel(ra, dec);
    if (!(x >= -0.5 && x < tile.width - 0.5 && y >= -0.5 && y < tile.height - 0.5)) continue;
    const { nx, ny, r } = size(tile);
    const x0 = Math.ceil(x - nx / 2);
    const y0 = Math.ceil(y - ny / 2);
    const circle = r === undefined ? undefined : { cx: x - x0, cy: y - y0, r };
    const spans = rowSpans(nx, ny, circle);
    const covered = overlap(spans, x0, y0, tile.width, tile.height);
    holders.push({ tile, wcs, x, y, covered, nx, ny, spans, circle });
  }
  holders.sort((a, b) => b.covered - a.covered || a.tile.tile.localeCompare(b.tile.tile));
  const best = holders[0];
  if (best === undefined)
    return { ok: false, status: 'unmatched', reason: 'out-of-footprint: no tile contains the position' };
  const { nx, ny, spans, circle } = best;
  const wanted = spanCount(spans);
  if (wanted === 0) {
    return { ok: false, status: 'failed', reason: 'circle: no pixel centre lies within the radius' };
  }
  const bx0 = Math.ceil(best.x - nx / 2);
  const by0 = Math.ceil(best.y - ny / 2);
  const pieces: Piece[] = [{ tile: best.tile, x0: bx0, y0: by0 }];
  let covered = best.covered;
  if (covered < wanted && multi === 'error') {
    return {
      ok: false,
      status: 'failed',
      reason: 'multi-tile: the cutout crosses a tile edge (multiTilePolicy error)',
    };
  }
  if (covered < wanted && multi === 'mosaic') {
    const mask = new Uint8Array(nx * ny);
    markCovered(mask, spans, nx, bx0, by0, best.tile);
    const margin = ((Math.hypot(nx, ny) / 2) * Math.max(...best.tile.pixelScale)) / 3600;
    for (const tile of index.tiles) {
      if (tile === best.tile || !inFootprint(tile.footprint, ra, dec, margin)) continue;
      const off = best.wcs.gridOffset(wcsOf(tile));
      if (off === undefined) continue; // another pixel grid: a mosaic would need resampling
      const piece = { tile, x0: bx0 - off[0], y0: by0 - off[1] };
      const added = markCovered(mask, spans, nx, piece.x0, piece.y0, tile);
      if (added > 0) {
        pieces.push(piece);
        covered += added;
      }
    }
  }
  return {
    ok: true,
    plan: {
      best: best.tile,
      x: best.x,
      y: best.y,
      nx,
      ny,
      pieces,
      coverage: covered / wanted,
      ...(circle !== undefined && { circle }),
    },
  };
}

/** Marks the wanted cutout pixels a tile covers that no earlier piece did; returns how many. */
function markCovered(
  mask: Uint8Array,
  spans: Int32Array,
  nx: number,
  x0: number,
  y0: number,
  t: IndexedTile,
): number {
  let added = 0;
  const ny = spans.length / 2;
  for (let j = Math.max(0, -y0); j < Math.min(ny, t.height - y0); j++) {
    const i1 = Math.min(spans[2 * j + 1] ?? 0, t.width - x0);
    for (let i = Math.max(spans[2 * j] ?? 0, -x0); i < i1; i++) {
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
  /**
   * Covered fraction of the wanted pixels of the output: the whole output for a box, the circle's pixels for
   * a circle (1 for trimmed cutouts unless a hole remains inside).
   */
  readonly coverage: number;
  /** For a circle: the circle in the output's pixels (after trimming). */
  readonly circle?: Circle;
}

/**
 * Cuts the planned box out of the piece images (`images[k]` is piece k's image of one HDU), applying the
 * edge policy; a circle's outside pixels get the fill value. Returns undefined for `error` when a wanted
 * pixel (of the box, or of the circle) is not covered.
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
  const spans = rowSpans(nx, ny, plan.circle);
  if (plan.circle !== undefined) blankOutside(out, mask, spans, nx, fill);
  const wanted = spanCount(spans);
  let covered = 0;
  for (const m of mask) covered += m;
  if (covered < wanted && edge === 'error') return undefined;
  let ox = 0;
  let oy = 0;
  let w = nx;
  let h = ny;
  let data: Pixels = out;
  let inBox = wanted;
  if (edge === 'trim' && covered < wanted) {
    ({ ox, oy, w, h } = bbox(mask, nx, ny));
    data = allocPixels(first.bitpix, w * h);
    for (let j = 0; j < h; j++) data.set(out.subarray((oy + j) * nx + ox, (oy + j) * nx + ox + w), j * w);
    inBox = 0;
    for (let j = oy; j < oy + h; j++) {
      inBox += Math.max(0, Math.min(spans[2 * j + 1] ?? 0, ox + w) - Math.max(spans[2 * j] ?? 0, ox));
    }
  }
  const header = cutoutHeader(first.header, plan.pieces[0]?.x0 ?? 0, plan.pieces[0]?.y0 ?? 0, ox, oy, w, h);
  // The mask holds the covered wanted pixels; every other output pixel holds the fill value.
  if (first.bitpix > 0 && covered < w * h && !header.has('BLANK')) {
    header.insertAfter('NAXIS2', 'BLANK', fill, 'pixels no tile covers or outside the circle');
  }
  const circle =
    plan.circle === undefined
      ? undefined
      : { cx: plan.circle.cx - ox, cy: plan.circle.cy - oy, r: plan.circle.r };
  if (circle !== undefined) circleCards(header, circle);
  return {
    header,
    image: { bitpix: first.bitpix, width: w, height: h, data },
    coverage: inBox === 0 ? 0 : covered / inBox,
    ...(circle !== undefined && { circle }),
  };
}

/** Sets pixels outside the wanted spans to `fill` and clears their mask. */
function blankOutside(out: Pixels, mask: Uint8Array, spans: Int32Array, nx: number, fill: number): void {
  for (let j = 0; j < spans.length / 2; j++) {
    const row = j * nx;
    const lo = spans[2 * j] ?? 0;
    const hi = spans[2 * j + 1] ?? 0;
    out.fill(fill, row, row + lo);
    mask.fill(0, row, row + lo);
    out.fill(fill, row + hi, row + nx);
    mask.fill(0, row + hi, row + nx);
  }
}

/** The circle's cards: shape, radius and centre (FITS 1-based pixels of this HDU), and a HISTORY line. */
function circleCards(header: Header, c: Circle): void {
  header.set('CUTSHAPE', 'circle', 'skyport cutout shape');
  header.set('CUTRAD', round(c.r), '[pix] circle radius');
  header.set('CUTCEN1', round(c.cx + 1), '[pix] circle centre x (requested RA/Dec)');
  header.set('CUTCEN2', round(c.cy + 1), '[pix] circle centre y (requested RA/Dec)');
  header.addCommentary('HISTORY', `skyport: circle cutout, pixels beyond CUTRAD of CUTCEN1/2 are blank`);
}

/** 12 significant digits: the cards stay short and exact enough (1e-9 px). */
function round(x: number): number {
  return Number(x.toPrecision(12));
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
