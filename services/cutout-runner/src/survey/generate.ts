// A deterministic sample survey for tests, the bench and the run command: a square of tiles × tiles coadd
// tiles per band on one TAN grid (one tangent point and CD, tiles offset by whole pixels, as Rubin/HSC
// patches of a tract), centred on RA 0 so a column of tiles crosses RA 0. Each file has an empty primary
// HDU and SCI (float32: stars with known RA/Dec and fluxes on Gaussian noise), MSK (int16 bit flags) and
// WGT (float32 inverse variance) extensions. The listed tiles are written RICE_1 tile-compressed
// (`.fits.fz`). The same inputs give the same bytes.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { compressedHduBytes } from '../fits/compressed.js';
import { formatCard, Header } from '../fits/header.js';
import { emptyPrimary, hduBytes, imageHduBytes, type Image } from '../fits/image.js';
import { writeFileAtomic } from '../fits/write.js';
import { TanWcs } from '../wcs.js';

export interface SurveyOptions {
  readonly dir: string;
  /** Pixels per tile side (default 512; the full size is 2048). */
  readonly tileSize?: number;
  /** Tiles per side of the square (default 3). */
  readonly tilesPerSide?: number;
  readonly bands?: readonly string[];
  /** Stars per tile (default 30). */
  readonly starsPerTile?: number;
  /** Tiles written RICE_1-compressed (default the first and the centre one). */
  readonly compressed?: readonly string[];
  readonly seed?: number;
  /** Tangent point of the grid (default RA 0, Dec −30). */
  readonly centre?: readonly [number, number];
  /** Arcseconds per pixel (default DES's 0.263). */
  readonly pixelScale?: number;
}

export interface Star {
  readonly id: string;
  readonly ra: number;
  readonly dec: number;
  /** Flux per band (image units summed over the PSF). */
  readonly flux: Record<string, number>;
}

export interface Survey {
  readonly files: readonly string[];
  readonly stars: readonly Star[];
  readonly tiles: readonly string[];
  readonly bands: readonly string[];
}

const SIGMA_PSF = 1.5;
const SATURATION = 2000;
const NOISE: Record<string, number> = { g: 1.0, r: 1.2, i: 1.5, z: 2.0, Y: 2.5 };

/** mulberry32: small, fast, deterministic. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform deviate in (0, 1) from a global pixel and a stream number (same value in every tile). */
function hash01(x: number, y: number, stream: number): number {
  let h = Math.imul(x, 0x9e3779b1) ^ Math.imul(y, 0x85ebca77) ^ Math.imul(stream, 0xc2b2ae3d);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  return ((h >>> 0) + 0.5) / 4294967296;
}

export function tileName(ix: number, iy: number): string {
  return `T${ix}${iy}`;
}

/** Writes the survey's files into `dir` and returns their names (relative) and the star catalogue. */
export function generateSurvey(o: SurveyOptions): Survey {
  const n = o.tileSize ?? 512;
  const k = o.tilesPerSide ?? 3;
  const bands = o.bands ?? ['g', 'r', 'i', 'z'];
  const seed = o.seed ?? 1;
  const [ra0, dec0] = o.centre ?? [0, -30];
  const s = (o.pixelScale ?? 0.263) / 3600;
  const compressed = new Set(
    o.compressed ?? [tileName(0, 0), tileName(Math.floor(k / 2), Math.floor(k / 2))],
  );
  const g = n * k;
  const grid = new TanWcs([g / 2 + 0.5, g / 2 + 0.5], [ra0, dec0], [-s, 0, 0, s]);
  const r = rng(seed);
  const stars: (Star & { gx: number; gy: number })[] = [];
  for (let i = 0; i < (o.starsPerTile ?? 30) * k * k; i++) {
    const gx = r() * g - 0.5;
    const gy = r() * g - 0.5;
    const [ra, dec] = grid.pixelToWorld(gx, gy);
    const base = 10 ** (1 + r() * 3.5); // 10 to ~30,000
    const flux = Object.fromEntries(bands.map((b, j) => [b, base * (0.6 + 0.25 * j + 0.3 * r())]));
    stars.push({ id: `S${String(i).padStart(5, '0')}`, ra, dec, flux, gx, gy });
  }
  mkdirSync(o.dir, { recursive: true });
  const files: string[] = [];
  const tiles: string[] = [];
  for (let iy = 0; iy < k; iy++) {
    for (let ix = 0; ix < k; ix++) {
      const name = tileName(ix, iy);
      tiles.push(name);
      const wcs = new TanWcs([g / 2 + 0.5 - ix * n, g / 2 + 0.5 - iy * n], [ra0, dec0], [-s, 0, 0, s]);
      bands.forEach((band, bi) => {
        const file = `${name}_${band}.fits${compressed.has(name) ? '.fz' : ''}`;
        const images = renderTile({ n, ox: ix * n, oy: iy * n, band, stream: seed * 16 + bi, stars });
        const meta = [formatCard('TILENAME', name, 'sample survey tile'), formatCard('BAND', band, 'filter')];
        const parts = [
          hduBytes(emptyPrimary([...meta, formatCard('SURVEY', 'skyport-sample')]), new Uint8Array(0)),
        ];
        for (const [extname, img] of images) {
          const h = new Header([formatCard('EXTNAME', extname), ...meta, ...wcsCards(wcs)]);
          if (extname === 'SCI') h.set('BUNIT', 'count', 'flux units (zero point MAGZERO)');
          if (extname === 'SCI') h.set('MAGZERO', 30, 'AB magnitude zero point');
          const image: Image = { ...img, header: h };
          parts.push(
            compressed.has(name)
              ? compressedHduBytes(image, { ditherSeed: 1 + ((seed * 97 + bi * 13 + ix * 7 + iy) % 10000) })
              : imageHduBytes(h, img, false),
          );
        }
        writeFileAtomic(join(o.dir, file), Buffer.concat(parts));
        files.push(file);
      });
    }
  }
  return { files, stars: stars.map(({ id, ra, dec, flux }) => ({ id, ra, dec, flux })), tiles, bands };
}

function wcsCards(w: TanWcs): string[] {
  return [
    formatCard('RADESYS', 'ICRS'),
    formatCard('EQUINOX', 2000.0),
    formatCard('CTYPE1', 'RA---TAN'),
    formatCard('CTYPE2', 'DEC--TAN'),
    formatCard('CUNIT1', 'deg'),
    formatCard('CUNIT2', 'deg'),
    formatCard('CRPIX1', w.crpix[0]),
    formatCard('CRPIX2', w.crpix[1]),
    formatCard('CRVAL1', w.crval[0]),
    formatCard('CRVAL2', w.crval[1]),
    formatCard('CD1_1', w.cd[0]),
    formatCard('CD1_2', w.cd[1]),
    formatCard('CD2_1', w.cd[2]),
    formatCard('CD2_2', w.cd[3]),
  ];
}

type Plane = Omit<Image, 'header'>;

function renderTile(t: {
  n: number;
  ox: number;
  oy: number;
  band: string;
  stream: number;
  stars: readonly (Star & { gx: number; gy: number })[];
}): [string, Plane][] {
  const { n, ox, oy } = t;
  const sigma = NOISE[t.band] ?? 1;
  const sci = new Float64Array(n * n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const u1 = hash01(ox + x, oy + y, t.stream);
      const u2 = hash01(ox + x, oy + y, t.stream + 1000);
      sci[y * n + x] = sigma * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
  }
  const reach = Math.ceil(5 * SIGMA_PSF);
  const norm = 1 / (2 * Math.PI * SIGMA_PSF * SIGMA_PSF);
  for (const st of t.stars) {
    const cx = st.gx - ox;
    const cy = st.gy - oy;
    if (cx < -reach || cy < -reach || cx > n + reach || cy > n + reach) continue;
    const f = (st.flux[t.band] ?? 0) * norm;
    for (let y = Math.max(0, Math.floor(cy) - reach); y <= Math.min(n - 1, Math.ceil(cy) + reach); y++) {
      for (let x = Math.max(0, Math.floor(cx) - reach); x <= Math.min(n - 1, Math.ceil(cx) + reach); x++) {
        const r2 = (x - cx) ** 2 + (y - cy) ** 2;
        sci[y * n + x] = (sci[y * n + x] ?? 0) + f * Math.exp(-r2 / (2 * SIGMA_PSF * SIGMA_PSF));
      }
    }
  }
  const msk = new Int16Array(n * n);
  const wgt = new Float32Array(n * n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const i = y * n + x;
      const bad = (ox + x) % 997 === 500 ? 2 : 0; // one bad column every 997 global pixels
      msk[i] = ((sci[i] ?? 0) > SATURATION ? 1 : 0) | bad;
      wgt[i] = (1 / (sigma * sigma)) * (0.9 + (0.2 * (oy + y)) / (n * 8));
    }
  }
  return [
    ['SCI', { bitpix: -32, width: n, height: n, data: Float32Array.from(sci) }],
    ['MSK', { bitpix: 16, width: n, height: n, data: msk }],
    ['WGT', { bitpix: -32, width: n, height: n, data: wgt }],
  ];
}
