// The tile index of an image collection, built from the files' headers alone (what the indexing Job
// runs): per tile its files by band, each file's image HDUs, the tile's WCS and pixel scale, and its
// footprint as RA/Dec bounds with the RA-0 crossing flagged (DES's CROSSRA0), from points along the
// image's outer pixel edges. A directory's files (buildIndex) and a bucket's (s3/index.ts) are indexed by the same
// code from their HDUs (indexScanned).

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { uncompressedHeader } from '../fits/compressed.js';
import { FitsError, type Header } from '../fits/header.js';
import { FitsFile, type Hdu } from '../fits/read.js';
import { normRa, TanWcs } from '../wcs.js';

export interface Footprint {
  /** RA bounds in [0, 360); when crossRa0, the tile covers raMin…360 and 0…raMax. */
  readonly raMin: number;
  readonly raMax: number;
  readonly decMin: number;
  readonly decMax: number;
  readonly crossRa0: boolean;
}

export interface IndexedHdu {
  readonly index: number;
  readonly name: string;
  readonly bitpix: number;
  readonly compressed: boolean;
}

export interface IndexedFile {
  /** Path relative to the collection's root. */
  readonly path: string;
  readonly band: string;
  /** Size of the file (the object in a bucket); absent from an index an older runner wrote. */
  readonly bytes?: number;
  readonly hdus: readonly IndexedHdu[];
}

export interface IndexedTile {
  readonly tile: string;
  readonly width: number;
  readonly height: number;
  /** Arcseconds per pixel along x and y. */
  readonly pixelScale: readonly [number, number];
  readonly wcs: { crpix: [number, number]; crval: [number, number]; cd: [number, number, number, number] };
  readonly footprint: Footprint;
  readonly files: readonly IndexedFile[];
}

export interface TileIndex {
  readonly tiles: readonly IndexedTile[];
  readonly bands: readonly string[];
  /** Files that could not be indexed, with the reason (never silently dropped). */
  readonly skipped: readonly { path: string; reason: string }[];
}

/** The footprint of a width × height image: its outer pixel edges sampled every 1/16 of a side. */
export function footprint(w: TanWcs, width: number, height: number): Footprint {
  const pts: [number, number][] = [];
  for (let i = 0; i <= 16; i++) {
    const fx = -0.5 + (width * i) / 16;
    const fy = -0.5 + (height * i) / 16;
    pts.push([fx, -0.5], [fx, height - 0.5], [-0.5, fy], [width - 0.5, fy]);
  }
  const [raC] = w.pixelToWorld((width - 1) / 2, (height - 1) / 2);
  let lo = Infinity;
  let hi = -Infinity;
  let decMin = Infinity;
  let decMax = -Infinity;
  for (const [x, y] of pts) {
    const [ra, dec] = w.pixelToWorld(x, y);
    // RA relative to the centre's, in (−180, 180]: continuous across RA 0.
    const d = ((((ra - raC) % 360) + 540) % 360) - 180;
    lo = Math.min(lo, d);
    hi = Math.max(hi, d);
    decMin = Math.min(decMin, dec);
    decMax = Math.max(decMax, dec);
  }
  const raMin = normRa(raC + lo);
  const raMax = normRa(raC + hi);
  return { raMin, raMax, decMin, decMax, crossRa0: raMin > raMax };
}

/** True when (ra, dec) lies in the footprint widened by `margin` degrees (of arc). */
export function inFootprint(f: Footprint, ra: number, dec: number, margin = 0): boolean {
  if (dec < f.decMin - margin || dec > f.decMax + margin) return false;
  const cos = Math.max(Math.cos((Math.max(Math.abs(f.decMin), Math.abs(f.decMax)) * Math.PI) / 180), 1e-6);
  const m = Math.min(margin / cos, 180);
  // The RA interval as one increasing span (raMax + 360 when it crosses 0); RA tested in three turns.
  const start = f.raMin - m;
  const end = (f.crossRa0 ? f.raMax + 360 : f.raMax) + m;
  const r = normRa(ra);
  return [r - 360, r, r + 360].some((v) => v >= start && v <= end);
}

/** Whether a file name (directly in the root or under the prefix) is one of the collection's files. */
export function isTileFile(name: string): boolean {
  return /\.fits(\.fz)?$/.test(name) && !name.includes('/');
}

/** A file's HDUs as read from its headers (or why they could not be read), before indexing. */
export interface ScannedFile {
  /** Path relative to the collection's root (or key relative to the bucket prefix). */
  readonly path: string;
  readonly bytes: number;
  readonly hdus?: readonly Hdu[];
  readonly error?: string;
}

/** Indexes every `*.fits` / `*.fits.fz` file directly in `root` by its TILENAME and BAND cards. */
export function buildIndex(root: string): TileIndex {
  const names = readdirSync(root).filter(isTileFile).sort();
  const scanned = names.map((path): ScannedFile => {
    const file = join(root, path);
    try {
      const f = FitsFile.open(file);
      f.close();
      return { path, bytes: statSync(file).size, hdus: f.hdus };
    } catch (e) {
      return { path, bytes: 0, error: e instanceof Error ? e.message : String(e) };
    }
  });
  return indexScanned(scanned);
}

/** The header of an HDU's image (for a compressed image: the header of the image it holds). */
function imageHeader(h: Hdu): Header {
  return h.kind === 'compressed-image' ? uncompressedHeader(h.header) : h.header;
}

/** The index of scanned files (in the order given), by their TILENAME and BAND cards; a bad file is skipped. */
export function indexScanned(files: readonly ScannedFile[]): TileIndex {
  const byTile = new Map<string, { info: Omit<IndexedTile, 'files'>; files: IndexedFile[] }>();
  const skipped: { path: string; reason: string }[] = [];
  for (const { path, bytes, hdus, error } of files) {
    try {
      if (hdus === undefined) throw new FitsError('Unreadable', error ?? 'not read');
      const images = hdus.filter((h) => h.kind === 'image' || h.kind === 'compressed-image');
      const first = images[0];
      if (first === undefined) throw new FitsError('NoImage', 'no image HDU');
      const h = imageHeader(first);
      const card = (k: string): string => {
        const v = h.get(k) ?? hdus[0]?.header.get(k);
        if (typeof v !== 'string' || v.trim() === '') throw new FitsError('MissingKeyword', `no ${k} card`);
        return v.trim();
      };
      const tile = card('TILENAME');
      const band = card('BAND');
      const wcs = TanWcs.fromHeader(h, `${path} HDU ${first.index}`);
      const width = h.number('NAXIS1');
      const height = h.number('NAXIS2');
      const entry = byTile.get(tile) ?? {
        info: {
          tile,
          width,
          height,
          pixelScale: wcs.pixelScales().map((v) => v * 3600) as [number, number],
          wcs: { crpix: [...wcs.crpix], crval: [...wcs.crval], cd: [...wcs.cd] },
          footprint: footprint(wcs, width, height),
        },
        files: [],
      };
      if (entry.files.some((x) => x.band === band))
        throw new FitsError('Duplicate', `a second file for ${tile} ${band}`);
      entry.files.push({
        path,
        band,
        bytes,
        hdus: images.map((x) => ({
          index: x.index,
          name: x.name,
          bitpix: Number(imageHeader(x).get('BITPIX')),
          compressed: x.kind === 'compressed-image',
        })),
      });
      byTile.set(tile, entry);
    } catch (e) {
      skipped.push({ path, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  const tiles = [...byTile.values()].map((t) => ({ ...t.info, files: t.files }));
  const bands = [...new Set(tiles.flatMap((t) => t.files.map((f) => f.band)))].sort();
  return { tiles, bands, skipped };
}

/** Bytes of the largest tile's files (all bands; 0 for an index of an older runner without sizes). */
export function largestTileBytes(index: TileIndex): number {
  return Math.max(0, ...index.tiles.map((t) => t.files.reduce((n, f) => n + (f.bytes ?? 0), 0)));
}

/** The WCS an index entry describes. */
export function tileWcs(t: IndexedTile): TanWcs {
  return new TanWcs(t.wcs.crpix, t.wcs.crval, t.wcs.cd);
}
