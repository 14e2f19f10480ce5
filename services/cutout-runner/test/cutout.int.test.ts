// Cutouts against astropy: for positions inside tiles (plain and RICE_1-compressed), at the survey's outer
// edge (padding) and across tile edges (mosaics), the runner's FITS files are compared with astropy's
// Cutout2D (mode partial, NaN / BLANK fill) on the same tile as astropy reads it: pixels bit for bit,
// output shape exactly the requested one, CRVAL unchanged and CRPIX as astropy shifts it, the requested
// RA/Dec at the cutout's centre pixel through astropy's WCS of our header (≤ 0.01 px), checksums valid.
// Mosaics: every pixel a tile covers equals that tile's, and the covered pixels add up. Circles: astropy's
// geometry (its WCS of our header, its pixel scale) picks the pixels inside; those are Cutout2D's bits, the
// rest NaN (BLANK, which astropy reads as NaN, in MSK), and COVERAGE is the circle's covered fraction.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShard, type ManifestRow } from '../src/runner.js';
import { generateSurvey, type Survey } from '../src/survey/generate.js';
import { buildIndex, tileWcs, type TileIndex } from '../src/survey/tile-index.js';
import { astropy, astropyPython } from './support/astropy.js';

const dir = mkdtempSync(join(tmpdir(), 'skyport-cutout-compat-'));
const N = 512;
let python = '';
let survey: Survey;
let index: TileIndex;

interface Result {
  readonly no_overlap?: boolean;
  readonly shape: number[];
  readonly ref_shape: number[];
  readonly equal: boolean;
  readonly mismatches: number;
  readonly covered: number;
  readonly center: [number, number];
  readonly ref_center: [number, number];
  readonly ref_crpix: [number, number];
  readonly crpix: [number, number];
  readonly crval: [number, number];
  readonly checksum_ok: boolean;
  readonly nan: number;
  readonly dtype: string;
  readonly ref_dtype: string;
}

beforeAll(() => {
  python = astropyPython();
  survey = generateSurvey({ dir: join(dir, 'tiles'), tileSize: N, bands: ['g', 'r'], starsPerTile: 4 });
  index = buildIndex(join(dir, 'tiles'));
}, 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Positions: stars, points near internal tile edges (mosaics) and near the outer edge (padding). */
function positions(): { csv: string; kinds: Map<number, string> } {
  const lines = ['RA,DEC,ID'];
  const kinds = new Map<number, string>();
  const add = (ra: number, dec: number, id: string, kind: string): void => {
    lines.push(`${ra.toFixed(10)},${dec.toFixed(10)},${id}`);
    kinds.set(lines.length - 1, kind);
  };
  survey.stars.slice(0, 24).forEach((s) => add(s.ra, s.dec, s.id, 'star'));
  const w = tileWcs(index.tiles.find((t) => t.tile === 'T11')!);
  for (const [x, y, id] of [
    [3.2, 250.7, 'edge-left'],
    [N - 4.6, 100.1, 'edge-right'],
    [200.4, -0.4, 'edge-below'],
    [2.5, N - 1.5, 'corner'],
  ] as const) {
    const [ra, dec] = w.pixelToWorld(x, y);
    add(ra, dec, id, 'mosaic');
  }
  const t00 = tileWcs(index.tiles.find((t) => t.tile === 'T00')!);
  for (const [x, y, id] of [
    [10.3, 300.2, 'outer-left'],
    [1.1, 1.9, 'outer-corner'],
  ] as const) {
    const [ra, dec] = t00.pixelToWorld(x, y);
    add(ra, dec, id, 'outer');
  }
  return { csv: lines.join('\r\n') + '\r\n', kinds };
}

function compare(
  rows: readonly ManifestRow[],
  out: string,
  nx: number,
  ny: number,
  everyTile: boolean,
): Result[][] {
  const cases: Record<string, unknown>[] = [];
  const owners: number[] = [];
  rows.forEach((r, k) => {
    for (const file of r.files.filter((f) => f.endsWith('.fits'))) {
      const band = file.endsWith('_g.fits') ? 'g' : 'r';
      const tiles = everyTile ? index.tiles : index.tiles.filter((t) => t.tile === r.tile);
      const ordered = [...tiles].sort((a, b) => (a.tile === r.tile ? -1 : b.tile === r.tile ? 1 : 0));
      for (const t of ordered) {
        for (const hdu of ['SCI', 'MSK']) {
          cases.push({
            tile: join(dir, 'tiles', t.files.find((f) => f.band === band)!.path),
            hdu,
            ra: r.ra,
            dec: r.dec,
            nx,
            ny,
            blank: -32768,
            cutout: join(out, file),
            cutout_hdu: hdu,
            mode: everyTile ? 'covered' : 'exact',
          });
          owners.push(k);
        }
      }
    }
  });
  const got = astropy<Result[]>(python, 'cutouts', { cases });
  const byRow: Result[][] = rows.map(() => []);
  got.forEach((g, i) => byRow[owners[i]!]!.push(g));
  return byRow;
}

describe('cutouts match astropy Cutout2D', () => {
  it('best-tile, pad: bit for bit (NaN/BLANK padding included), exact shape, WCS centre ≤ 0.01 px', () => {
    const { csv, kinds } = positions();
    const out = join(dir, 'best');
    const { rows, summary } = runShard({
      positions: csv,
      root: join(dir, 'tiles'),
      index,
      outputDir: out,
      size: { x: 0.5, y: 0.4, unit: 'arcmin' },
      hdus: ['SCI', 'MSK'],
      multiTilePolicy: 'best-tile',
    });
    // 0.5′ and 0.4′ at 0.263″/px: 114.07 → 114 and 91.25 → 91 pixels.
    const [nx, ny] = [114, 91];
    expect(summary.counts.failed + summary.counts.unmatched).toBe(0);
    expect(rows.filter((r) => kinds.get(r.row) === 'outer').every((r) => r.status === 'partial')).toBe(true);
    const results = compare(rows, out, nx, ny, false);
    let worstCentre = 0;
    let compared = 0;
    results.forEach((list, k) => {
      for (const g of list) {
        const what = `${rows[k]!.id} ${rows[k]!.tile}`;
        expect(g.shape, what).toEqual([ny, nx]);
        expect(g.ref_shape, what).toEqual([ny, nx]);
        expect([g.dtype, g.mismatches], what).toEqual([g.ref_dtype, 0]);
        expect(g.equal, what).toBe(true);
        expect(g.checksum_ok, what).toBe(true);
        expect(g.crval, what).toEqual(index.tiles.find((t) => t.tile === rows[k]!.tile)!.wcs.crval);
        expect(
          Math.abs(g.crpix[0] - g.ref_crpix[0]) + Math.abs(g.crpix[1] - g.ref_crpix[1]),
          what,
        ).toBeLessThan(1e-9);
        worstCentre = Math.max(
          worstCentre,
          Math.abs(g.center[0] - g.ref_center[0]),
          Math.abs(g.center[1] - g.ref_center[1]),
        );
        // The position is within half a pixel of the geometric centre of the box.
        expect(Math.abs(g.center[0] - (nx - 1) / 2), what).toBeLessThanOrEqual(0.5);
        expect(Math.abs(g.center[1] - (ny - 1) / 2), what).toBeLessThanOrEqual(0.5);
        compared++;
      }
    });
    expect(compared).toBe(rows.length * 2 * 2); // rows × bands × HDUs
    expect(worstCentre).toBeLessThan(0.01);
    console.log(
      `best-tile: ${compared} HDUs bit-identical to Cutout2D, worst centre offset ${worstCentre.toExponential(2)} px`,
    );
    // Padded cutouts really are padded: NaN where the tile ends.
    const outer = rows.findIndex((r) => r.id === 'outer-corner');
    expect(results[outer]![0]!.nan).toBeGreaterThan(0);
  });

  it('mosaic, pad: each tile’s pixels exactly, covered pixels add up, full coverage inside the survey', () => {
    const { csv, kinds } = positions();
    const out = join(dir, 'mosaic');
    const { rows } = runShard({
      positions: csv,
      root: join(dir, 'tiles'),
      index,
      outputDir: out,
      size: { x: 100, y: 80, unit: 'pix' },
      hdus: ['SCI', 'MSK'],
    });
    for (const r of rows.filter((x) => kinds.get(x.row) === 'mosaic')) {
      expect(r.coverage, r.id).toBe(1);
      expect(r.status, r.id).toBe('ok');
    }
    const results = compare(rows, out, 100, 80, true);
    results.forEach((list, k) => {
      const r = rows[k]!;
      list.forEach((g, i) => expect([g.equal, g.mismatches ?? 0], `${r.id} case ${i}`).toEqual([true, 0]));
      // SCI of band g: the first tile-list's SCI entries (every other case) cover disjoint parts.
      const sciG = list.filter((_, i) => i % 2 === 0).slice(0, index.tiles.length);
      const covered = sciG.reduce((s, g) => s + g.covered, 0);
      expect(covered, r.id).toBe(Math.round(r.coverage * 100 * 80));
      expect(sciG[0]!.nan, r.id).toBe(100 * 80 - covered);
    });
    const manifest = readFileSync(join(out, 'manifest.csv'), 'utf8').trimEnd().split('\r\n');
    expect(manifest).toHaveLength(rows.length + 1);
  });

  it('circle, best-tile, pad: the square box, Cutout2D bits inside, NaN/BLANK outside, centre ≤ 0.01 px', () => {
    const { csv, kinds } = positions();
    const out = join(dir, 'circle');
    const { rows, summary } = runShard({
      positions: csv,
      root: join(dir, 'tiles'),
      index,
      outputDir: out,
      size: { x: 30, y: 30, unit: 'arcsec', shape: 'circle' },
      hdus: ['SCI', 'MSK'],
      multiTilePolicy: 'best-tile',
    });
    // 30″ at 0.263″/px: 114.07 → a 114 × 114 box, radius 57.03 px.
    const n = 114;
    expect(summary.counts.failed + summary.counts.unmatched).toBe(0);
    const cases: Record<string, unknown>[] = [];
    for (const r of rows) {
      for (const file of r.files.filter((f) => f.endsWith('.fits'))) {
        const t = index.tiles.find((x) => x.tile === r.tile)!;
        const band = file.endsWith('_g.fits') ? 'g' : 'r';
        for (const hdu of ['SCI', 'MSK']) {
          cases.push({
            tile: join(dir, 'tiles', t.files.find((f) => f.band === band)!.path),
            hdu,
            ra: r.ra,
            dec: r.dec,
            nx: n,
            ny: n,
            blank: -32768,
            cutout: join(out, file),
            cutout_hdu: hdu,
            circle_deg: 30 / 3600,
            row: r.row,
          });
        }
      }
    }
    const got = astropy<CircleResult[]>(python, 'cutouts', { cases });
    expect(got).toHaveLength(rows.length * 2 * 2);
    let worstCentre = 0;
    let worstCard = 0;
    let rim = 0;
    got.forEach((g, i) => {
      const row = rows.find((r) => r.row === cases[i]!['row'])!;
      const what = `${row.id} ${String(cases[i]!['cutout_hdu'])}`;
      expect([g.shape, g.ref_shape], what).toEqual([
        [n, n],
        [n, n],
      ]);
      expect([g.equal, g.mismatches, g.checksum_ok], what).toEqual([true, 0, true]);
      expect(g.outside_not_nan, what).toBe(0);
      expect(g.cutshape, what).toBe('circle');
      expect(g.cutrad, what).toBeCloseTo(g.radius, 8);
      // The disc fills π/4 of its square; what the corners hold is blank.
      expect(g.inside / (n * n), what).toBeCloseTo(Math.PI / 4, 2);
      expect(row.coverage, what).toBeCloseTo(g.covered_inside / g.inside, 9);
      worstCentre = Math.max(
        worstCentre,
        Math.abs(g.center[0] - g.ref_center[0]),
        Math.abs(g.center[1] - g.ref_center[1]),
      );
      worstCard = Math.max(
        worstCard,
        Math.abs(g.cutcen[0] - g.center[0]),
        Math.abs(g.cutcen[1] - g.center[1]),
      );
      rim += g.rim;
    });
    expect(worstCentre).toBeLessThan(0.01);
    expect(worstCard).toBeLessThan(0.01);
    // Outer positions lose part of the circle; stars well inside a tile keep all of it.
    for (const r of rows.filter((x) => kinds.get(x.row) === 'outer')) expect(r.status, r.id).toBe('partial');
    expect(rows.filter((r) => r.coverage === 1).length).toBeGreaterThan(0);
    console.log(
      `circle: ${got.length} HDUs, pixels inside equal Cutout2D's, outside blank; worst centre ` +
        `${worstCentre.toExponential(2)} px, CUTCEN vs astropy ${worstCard.toExponential(2)} px, ${rim} rim pixels`,
    );
  });
});

interface CircleResult {
  readonly shape: number[];
  readonly ref_shape: number[];
  readonly equal: boolean;
  readonly mismatches: number;
  readonly outside_not_nan: number;
  readonly inside: number;
  readonly outside: number;
  readonly rim: number;
  readonly covered_inside: number;
  readonly radius: number;
  readonly center: [number, number];
  readonly ref_center: [number, number];
  readonly cutcen: [number, number];
  readonly cutrad: number;
  readonly cutshape: string;
  readonly checksum_ok: boolean;
}
