import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FitsFile } from '../fits/read.js';
import { TanWcs } from '../wcs.js';
import { generateSurvey, type Survey } from './generate.js';
import { buildIndex, inFootprint, type TileIndex } from './tile-index.js';

const dir = mkdtempSync(join(tmpdir(), 'skyport-survey-'));
let survey: Survey;
let index: TileIndex;
beforeAll(() => {
  survey = generateSurvey({ dir, tileSize: 96, bands: ['g', 'r'], starsPerTile: 6 });
  index = buildIndex(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sample survey', () => {
  it('writes 3 × 3 tiles × bands, two of them RICE_1-compressed, the same bytes on every run', () => {
    expect(survey.files).toHaveLength(18);
    expect(survey.files.filter((f) => f.endsWith('.fz')).sort()).toEqual([
      'T00_g.fits.fz',
      'T00_r.fits.fz',
      'T11_g.fits.fz',
      'T11_r.fits.fz',
    ]);
    const again = mkdtempSync(join(tmpdir(), 'skyport-survey-'));
    try {
      generateSurvey({ dir: again, tileSize: 96, bands: ['g', 'r'], starsPerTile: 6 });
      for (const f of ['T00_g.fits.fz', 'T21_r.fits']) {
        const h = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
        expect(h(join(again, f))).toBe(h(join(dir, f)));
      }
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });

  it('puts each star’s light where its RA/Dec says, with its flux', () => {
    // Bright stars with no other star within 8″ (30 px), well inside one tile: the sum around the pixel
    // their RA/Dec maps to is their flux.
    const sep = (a: { ra: number; dec: number }, b: { ra: number; dec: number }): number =>
      Math.hypot((((a.ra - b.ra + 540) % 360) - 180) * Math.cos((a.dec * Math.PI) / 180), a.dec - b.dec) *
      3600;
    const checked = survey.stars
      .filter((s) => (s.flux.g ?? 0) > 1000 && survey.stars.every((o) => o === s || sep(o, s) > 8))
      .slice(0, 5);
    expect(checked.length).toBeGreaterThan(1);
    let measured = 0;
    for (const star of checked) {
      for (const t of index.tiles) {
        const w = new TanWcs(t.wcs.crpix, t.wcs.crval, t.wcs.cd);
        const [x, y] = w.worldToPixel(star.ra, star.dec);
        if (!(x > 10 && y > 10 && x < t.width - 11 && y < t.height - 11)) continue;
        const f = FitsFile.open(join(dir, t.files.find((x) => x.band === 'g')!.path));
        const img = f.readImage('SCI');
        f.close();
        let sum = 0;
        for (let yy = Math.round(y) - 9; yy <= Math.round(y) + 9; yy++) {
          for (let xx = Math.round(x) - 9; xx <= Math.round(x) + 9; xx++) sum += img.data[yy * t.width + xx]!;
        }
        // Noise σ = 1 over 361 pixels is ±19 at 1σ: within 5 % of ≥ 1000.
        expect(Math.abs(sum - star.flux.g!) / star.flux.g!).toBeLessThan(0.05);
        measured++;
      }
    }
    expect(measured).toBeGreaterThan(0);
  });
});

describe('tile index', () => {
  it('indexes every tile with both bands, its HDUs and pixel scale, from the headers', () => {
    expect(index.skipped).toEqual([]);
    expect(index.bands).toEqual(['g', 'r']);
    expect(index.tiles.map((t) => t.tile)).toEqual([
      'T00',
      'T01',
      'T02',
      'T10',
      'T11',
      'T12',
      'T20',
      'T21',
      'T22',
    ]);
    const t11 = index.tiles.find((t) => t.tile === 'T11')!;
    expect(t11.files.map((f) => f.band)).toEqual(['g', 'r']);
    expect(t11.files[0]!.hdus).toEqual([
      { index: 1, name: 'SCI', bitpix: -32, compressed: true },
      { index: 2, name: 'MSK', bitpix: 16, compressed: true },
      { index: 3, name: 'WGT', bitpix: -32, compressed: true },
    ]);
    expect(t11.pixelScale[0]).toBeCloseTo(0.263, 12);
  });

  it('flags the middle column as crossing RA 0 and finds each star in its tile’s footprint', () => {
    expect(index.tiles.filter((t) => t.footprint.crossRa0).map((t) => t.tile)).toEqual(['T10', 'T11', 'T12']);
    for (const s of survey.stars) {
      const holders = index.tiles.filter((t) => inFootprint(t.footprint, s.ra, s.dec));
      expect(holders.length, s.id).toBeGreaterThanOrEqual(1);
    }
    const t = index.tiles.find((x) => x.tile === 'T11')!.footprint;
    expect(inFootprint(t, 0, -30)).toBe(true);
    expect(inFootprint(t, 180, -30)).toBe(false);
    expect(inFootprint(t, t.raMax + 0.01, -30)).toBe(false);
    expect(inFootprint(t, t.raMax + 0.01, -30, 0.01)).toBe(true);
  });

  it('skips a file it cannot index with the reason', () => {
    const bad = mkdtempSync(join(tmpdir(), 'skyport-survey-bad-'));
    try {
      generateSurvey({
        dir: bad,
        tileSize: 16,
        tilesPerSide: 1,
        bands: ['g'],
        starsPerTile: 1,
        compressed: [],
      });
      rmSync(join(bad, 'T00_g.fits'));
      writeFileSync(join(bad, 'junk.fits'), 'not fits');
      const idx = buildIndex(bad);
      expect(idx.tiles).toEqual([]);
      expect(idx.skipped.map((x) => x.path)).toEqual(['junk.fits']);
      expect(idx.skipped[0]!.reason).toMatch(/junk\.fits.*(END|2880)/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
