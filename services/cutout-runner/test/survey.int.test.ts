// The sample survey as astropy sees it: every file opens with checksums verified and standard warnings as
// errors, each tile has SCI/MSK/WGT of the right shape and type (CompImageHDU for the two compressed
// tiles), astropy's pixels are ours bit for bit (including its decompression of our RICE_1 tiles), and
// each star's RA/Dec lands, through astropy's WCS of the tile, where our WCS puts it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FitsFile } from '../src/fits/read.js';
import { generateSurvey, type Survey } from '../src/survey/generate.js';
import { buildIndex, tileWcs, type TileIndex } from '../src/survey/tile-index.js';
import { astropy, astropyPython, pixelHash, type Inspected } from './support/astropy.js';

const dir = mkdtempSync(join(tmpdir(), 'skyport-survey-compat-'));
let python = '';
let survey: Survey;
let index: TileIndex;
beforeAll(() => {
  python = astropyPython();
  const t0 = Date.now();
  survey = generateSurvey({ dir, tileSize: 512 });
  console.log(`generated ${survey.files.length} files of 512² in ${Date.now() - t0} ms`);
  index = buildIndex(dir);
}, 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('astropy reads the sample survey', () => {
  it('every file: valid checksums, SCI/MSK/WGT shapes and types, the same pixels as our reader', () => {
    expect(survey.files).toHaveLength(36);
    const got = astropy<Inspected[]>(python, 'inspect', {
      files: survey.files.map((f) => join(dir, f)),
      keys: ['TILENAME', 'BAND'],
    });
    for (const file of got) {
      const name = file.path.slice(dir.length + 1);
      const compressed = name.endsWith('.fz');
      expect(
        file.hdus.map((h) => `${h.name}:${h.class}`),
        name,
      ).toEqual([
        'PRIMARY:PrimaryHDU',
        ...['SCI', 'MSK', 'WGT'].map((x) => `${x}:${compressed ? 'CompImageHDU' : 'ImageHDU'}`),
      ]);
      expect(file.hdus.map((h) => h.dtype ?? null)).toEqual([null, '>f4', '>i2', '>f4']);
      const f = FitsFile.open(file.path);
      try {
        for (const h of file.hdus.slice(1)) {
          expect(h.checksum, `${name} ${h.name}`).toBe(true);
          expect(h.shape).toEqual([512, 512]);
          expect(h.sha256, `${name} ${h.name}`).toBe(pixelHash(f.readImage(h.name).data));
          expect(h.cards.TILENAME).toBe(name.slice(0, 3));
        }
      } finally {
        f.close();
      }
    }
  });

  it('each star’s RA/Dec maps to the same pixel in astropy’s WCS of its tile as in ours (≤ 0.01 px)', () => {
    const t = index.tiles.find((x) => x.tile === 'T11')!;
    const f = FitsFile.open(join(dir, t.files[0]!.path));
    const cards = f.imageHeader('SCI').cards;
    f.close();
    const world = survey.stars.map((s) => [s.ra, s.dec]);
    const [got] = astropy<{ pixels: [number, number][] }[]>(python, 'wcs', {
      cases: [{ cards, world, pixels: [] }],
    });
    const w = tileWcs(t);
    let worst = 0;
    survey.stars.forEach((s, i) => {
      const [x, y] = w.worldToPixel(s.ra, s.dec);
      worst = Math.max(worst, Math.abs(x - got!.pixels[i]![0]), Math.abs(y - got!.pixels[i]![1]));
    });
    expect(worst).toBeLessThan(0.01);
  });
});
