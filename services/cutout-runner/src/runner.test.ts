import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PNG } from 'pngjs';
import { FitsFile } from './fits/read.js';
import { TanWcs } from './wcs.js';
import { main } from './main.js';
import { desName, runShard, type ManifestRow, type ShardSpec } from './runner.js';
import { generateSurvey, type Survey } from './survey/generate.js';
import { buildIndex, tileWcs, type TileIndex } from './survey/tile-index.js';

const dir = mkdtempSync(join(tmpdir(), 'skyport-runner-'));
let survey: Survey;
let index: TileIndex;
beforeAll(() => {
  survey = generateSurvey({
    dir: join(dir, 'tiles'),
    tileSize: 128,
    bands: ['g', 'r', 'i'],
    starsPerTile: 3,
  });
  index = buildIndex(join(dir, 'tiles'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function files(root: string): string[] {
  return (readdirSync(root, { recursive: true }) as string[])
    .filter((f) => statSync(join(root, f)).isFile())
    .sort();
}

function positions(): string {
  const s = survey.stars;
  return [
    'RA,DEC,XSIZE,YSIZE,ID',
    `${s[0]!.ra},${s[0]!.dec},,,a`,
    `${s[1]!.ra},${s[1]!.dec},0.2,0.3,b`,
    '',
    '10,10,,,far',
    'x,1,,,bad',
    `${s[0]!.ra},${s[0]!.dec},,,dup`,
    `${s[2]!.ra},${s[2]!.dec},20,,toolarge`,
  ].join('\r\n');
}

function spec(out: string, extra: Partial<ShardSpec> = {}): ShardSpec {
  return {
    positions: positions(),
    root: join(dir, 'tiles'),
    index,
    outputDir: join(dir, out),
    size: { x: 0.25, y: 0.25, unit: 'arcmin' },
    bands: ['g', 'r'],
    hdus: ['SCI', 'WGT'],
    colour: [{ method: 'lupton', bands: ['i', 'r', 'g'] }],
    ...extra,
  };
}

describe('runShard', () => {
  it('writes one manifest row per input row, the files it lists, and a summary that adds up', () => {
    const { rows, summary } = runShard(spec('a'));
    expect(rows.map((r) => [r.row, r.id, r.status])).toEqual([
      [1, 'a', rows[0]!.coverage < 1 ? 'partial' : 'ok'],
      [2, 'b', rows[1]!.coverage < 1 ? 'partial' : 'ok'],
      [3, 'far', 'unmatched'],
      [4, 'bad', 'failed'],
      [5, 'dup', rows[4]!.coverage < 1 ? 'partial' : 'ok'],
      [6, 'toolarge', 'failed'],
    ]);
    expect(rows[5]!.reason).toMatch(/XSIZE "20": outside 0.1–12 arcmin/);
    const out = join(dir, 'a');
    const listed = rows.flatMap((r) => r.files);
    expect(listed).toHaveLength(3 * 3); // 3 cut rows × (g, r FITS + irg PNG)
    expect(new Set(listed).size).toBe(listed.length); // the duplicate position got its own names
    expect(files(out)).toEqual([...listed, 'manifest.csv', 'summary.json'].sort());
    const bytes = listed.reduce((s, f) => s + statSync(join(out, f)).size, 0);
    expect(summary).toMatchObject({ positions: 6, counts: { unmatched: 1, failed: 2 }, files: 9, bytes });
    const manifest = readFileSync(join(out, 'manifest.csv'), 'utf8').split('\r\n');
    expect(manifest[0]).toBe('ROW,ID,RA,DEC,STATUS,TILENAME,FILES,COVERAGE,REASON');
    expect(manifest).toHaveLength(8); // header, 6 rows, final empty string after the last CRLF
    // Row b is 0.2′ × 0.3′: 46 × 68 px, with SCI and WGT extensions and provenance in the primary HDU.
    const f = FitsFile.open(join(out, rows[1]!.files[0]!));
    expect(f.hdus.map((h) => h.name)).toEqual(['', 'SCI', 'WGT']);
    expect([f.readImage('SCI').width, f.readImage('SCI').height]).toEqual([46, 68]);
    expect(f.hdus[0]!.header.get('TILENAME')).toBe(rows[1]!.tile);
    f.close();
  });

  it('a rerun after a killed run yields the same files and manifest, no duplicates, no temporaries', () => {
    runShard(spec('b'));
    const out = join(dir, 'b');
    const first = files(out);
    const manifest = readFileSync(join(out, 'manifest.csv'), 'utf8');
    // What a kill leaves: no manifest yet, a temporary file, one output missing.
    rmSync(join(out, 'manifest.csv'));
    rmSync(join(out, first[0]!));
    writeFileSync(join(out, first[1]!.replace(/[^/]+$/, '.tmp-abc-partial.fits')), 'half');
    runShard(spec('b'));
    expect(files(out)).toEqual(first);
    expect(readFileSync(join(out, 'manifest.csv'), 'utf8')).toBe(manifest);
  });

  it('edgePolicy error fails partial rows with the reason; trim returns smaller cutouts', () => {
    const [ra, dec] = tileWcs(index.tiles.find((t) => t.tile === 'T00')!).pixelToWorld(2, 3);
    const corner = `RA,DEC\n${ra},${dec}\n`;
    const err = runShard({ ...spec('c'), positions: corner, edgePolicy: 'error' }).rows[0]!;
    expect([err.status, err.files]).toEqual(['failed', []]);
    expect(err.reason).toMatch(/edgePolicy error/);
    const trim = runShard({ ...spec('d'), positions: corner, edgePolicy: 'trim', colour: [] }).rows[0]!;
    expect(trim.status).toBe('ok');
    const f = FitsFile.open(join(dir, 'd', trim.files[0]!));
    const img = f.readImage('SCI');
    f.close();
    expect(img.width * img.height).toBeLessThan(57 * 57);
    expect(Array.from(img.data).every(Number.isFinite)).toBe(true);
  });

  it('an unreadable tile fails only its positions, each with the reason', () => {
    const bad = mkdtempSync(join(tmpdir(), 'skyport-runner-bad-'));
    try {
      generateSurvey({ dir: bad, tileSize: 64, bands: ['g'], starsPerTile: 1, compressed: [] });
      const idx = buildIndex(bad);
      // Truncate T22's file after the index was built: its data can no longer be read.
      const path = join(bad, 'T22_g.fits');
      writeFileSync(path, readFileSync(path).subarray(0, 2880 * 3));
      const at = (tile: string): string => {
        const [ra, dec] = tileWcs(idx.tiles.find((t) => t.tile === tile)!).pixelToWorld(32, 32);
        return `${ra},${dec}`;
      };
      const { rows } = runShard({
        positions: `RA,DEC\n${at('T22')}\n${at('T00')}\n`,
        root: bad,
        index: idx,
        outputDir: join(bad, 'out'),
        size: { x: 10, y: 10, unit: 'pix' },
      });
      expect(rows.map((r) => r.status)).toEqual(['failed', 'ok']);
      expect(rows[0]!.reason).toMatch(/read-error: g SCI: .*T22_g\.fits/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});

describe('circle cutouts', () => {
  // 20″ at 0.263″/px: a 76 × 76 box (76.05 rounded), radius 38.02 px.
  const R = 20 / 0.263 / 2;
  it('square output, NaN outside the circle in SCI and WGT, coverage over the circle, RGBA PNG, cards', () => {
    // The middle tile's centre, and the survey's outer edge: T00's pixel x −0.45 (its edge is at −0.5), so about half the circle is off.
    const [mra, mdec] = tileWcs(index.tiles.find((t) => t.tile === 'T11')!).pixelToWorld(63.7, 64.2);
    const [era, edec] = tileWcs(index.tiles.find((t) => t.tile === 'T00')!).pixelToWorld(-0.45, 64);
    const { rows } = runShard({
      ...spec('circle'),
      positions: `RA,DEC,ID\n${mra},${mdec},middle\n${era},${edec},edge\n`,
      size: { x: 20, y: 20, unit: 'arcsec', shape: 'circle' },
    });
    expect(rows.map((r) => [r.id, r.status])).toEqual([
      ['middle', 'ok'],
      ['edge', 'partial'],
    ]);
    expect(rows[0]!.coverage).toBe(1);
    expect(Math.abs(rows[1]!.coverage - 0.5)).toBeLessThan(0.01);
    for (const row of rows) {
      const fits = row.files.filter((f) => f.endsWith('.fits'));
      expect(fits).toHaveLength(2);
      let inside: boolean[] = [];
      for (const file of fits) {
        const f = FitsFile.open(join(dir, 'circle', file));
        const primary = f.hdus[0]!.header;
        expect([primary.get('CUTSHAPE'), primary.get('CUTDIAM'), primary.get('CUTUNIT')]).toEqual([
          'circle',
          20,
          'arcsec',
        ]);
        for (const hdu of ['SCI', 'WGT']) {
          const img = f.readImage(hdu);
          expect([img.width, img.height]).toEqual([76, 76]);
          // The centre through the cutout's own WCS, not the runner's CUTCEN cards.
          const [cx, cy] = TanWcs.fromHeader(img.header, file).worldToPixel(Number(row.ra), Number(row.dec));
          expect(img.header.get('CUTCEN1') as number).toBeCloseTo(cx + 1, 8);
          expect(img.header.get('CUTCEN2') as number).toBeCloseTo(cy + 1, 8);
          expect(img.header.get('CUTRAD') as number).toBeCloseTo(R, 9);
          inside = [];
          let offTile = 0;
          for (let j = 0; j < 76; j++) {
            for (let i = 0; i < 76; i++) {
              const inCircle = (i - cx) ** 2 + (j - cy) ** 2 <= R * R;
              inside.push(inCircle);
              const v = img.data[j * 76 + i]!;
              if (!inCircle) expect(v, `${row.id} ${hdu} ${i},${j}`).toBeNaN();
              else if (Number.isNaN(v)) offTile++;
            }
          }
          const circlePixels = inside.filter(Boolean).length;
          expect(1 - offTile / circlePixels).toBeCloseTo(row.coverage, 6);
        }
        f.close();
      }
      // The colour PNG: RGBA, transparent and black outside the circle, opaque inside (rows flipped).
      const png = PNG.sync.read(
        readFileSync(
          join(
            dir,
            'circle',
            row.files.find((f) => f.endsWith('.png'))!,
          ),
        ),
      );
      expect([png.width, png.height]).toEqual([76, 76]);
      for (let y = 0; y < 76; y++) {
        for (let x = 0; x < 76; x++) {
          const o = (y * 76 + x) * 4;
          const alpha = png.data[o + 3];
          expect(alpha, `${row.id} png ${x},${y}`).toBe(inside[(75 - y) * 76 + x] ? 255 : 0);
          if (alpha === 0) expect([png.data[o], png.data[o + 1], png.data[o + 2]]).toEqual([0, 0, 0]);
        }
      }
    }
    // Inside the circle, Lupton colours are the 20″ box's at the same position (same square, same pixels).
    const box = runShard({
      ...spec('circle-box'),
      positions: `RA,DEC\n${mra},${mdec}\n`,
      size: { x: 20, y: 20, unit: 'arcsec' },
    }).rows[0]!;
    const read = (d: string, r: ManifestRow) =>
      PNG.sync.read(
        readFileSync(
          join(
            dir,
            d,
            r.files.find((f) => f.endsWith('.png'))!,
          ),
        ),
      );
    const [c, b] = [read('circle', rows[0]!), read('circle-box', box)];
    let compared = 0;
    for (let k = 0; k < 76 * 76; k++) {
      if (c.data[4 * k + 3] === 0) continue;
      // pngjs decodes both to RGBA; the box's alpha is 255 everywhere.
      expect(Array.from(c.data.subarray(4 * k, 4 * k + 4)), `pixel ${k}`).toEqual(
        Array.from(b.data.subarray(4 * k, 4 * k + 4)),
      );
      compared++;
    }
    expect(compared).toBeGreaterThan(0.75 * 76 * 76);
  });

  it('a circle across an internal tile edge: mosaic fills it (ok, 2 tiles); multiTilePolicy error fails it', () => {
    const [ra, dec] = tileWcs(index.tiles.find((t) => t.tile === 'T11')!).pixelToWorld(5.2, 70.6);
    const run = (out: string, multiTilePolicy: 'mosaic' | 'error') =>
      runShard({
        ...spec(out),
        positions: `RA,DEC\n${ra},${dec}\n`,
        size: { x: 20, y: 20, unit: 'arcsec', shape: 'circle' },
        colour: [],
        multiTilePolicy,
      }).rows[0]!;
    const mosaic = run('circle-mosaic', 'mosaic');
    expect([mosaic.status, mosaic.coverage, mosaic.reason]).toEqual(['ok', 1, '']);
    const f = FitsFile.open(join(dir, 'circle-mosaic', mosaic.files[0]!));
    expect(f.hdus[0]!.header.get('NTILES')).toBe(2);
    const img = f.readImage('SCI');
    f.close();
    // Every pixel inside the circle holds data (from T11 or its neighbour), every other one NaN.
    const [cx, cy] = TanWcs.fromHeader(img.header, 'mosaic').worldToPixel(ra, dec);
    for (let k = 0; k < img.data.length; k++) {
      const inCircle = ((k % 76) - cx) ** 2 + (Math.floor(k / 76) - cy) ** 2 <= R * R;
      expect(Number.isNaN(img.data[k]!), `pixel ${k}`).toBe(!inCircle);
    }
    const refused = run('circle-error', 'error');
    expect([refused.status, refused.reason]).toEqual([
      'failed',
      'multi-tile: the cutout crosses a tile edge (multiTilePolicy error)',
    ]);
  });

  it('a circle no pixel centre lies in fails its row with the reason', () => {
    const w = tileWcs(index.tiles.find((t) => t.tile === 'T11')!);
    const at = (x: number, y: number): string => w.pixelToWorld(x, y).join(',');
    const { rows } = runShard({
      ...spec('circle-tiny'),
      positions: `RA,DEC\n${at(64.1, 64.2)}\n${at(64.4, 64.4)}\n`,
      size: { x: 1, y: 1, unit: 'pix', shape: 'circle' },
      colour: [],
    });
    // A 1-px circle (radius 0.5): 0.22 px from pixel (64, 64) holds it; 0.57 px from every pixel centre does not.
    expect(rows.map((r) => [r.status, r.reason])).toEqual([
      ['ok', ''],
      ['failed', 'circle: no pixel centre lies within the radius'],
    ]);
  });

  it('a box keeps its RGB PNG and no circle cards', () => {
    const s = survey.stars[0]!;
    const { rows } = runShard({ ...spec('box'), positions: `RA,DEC\n${s.ra},${s.dec}\n` });
    const png = PNG.sync.read(
      readFileSync(
        join(
          dir,
          'box',
          rows[0]!.files.find((f) => f.endsWith('.png'))!,
        ),
      ),
    );
    expect(png.alpha).toBe(false);
    const f = FitsFile.open(join(dir, 'box', rows[0]!.files[0]!));
    expect([f.hdus[0]!.header.has('CUTSHAPE'), f.readImage('SCI').header.has('CUTSHAPE')]).toEqual([
      false,
      false,
    ]);
    f.close();
  });
});

describe('command line', () => {
  it('runs a shard from a spec file and refuses a bad spec naming the field', () => {
    writeFileSync(join(dir, 'pos.csv'), positions());
    const good = {
      root: 'tiles',
      positionsFile: 'pos.csv',
      outputDir: 'cli',
      bands: ['g'],
      size: { x: 10, y: 10, unit: 'arcsec' },
    };
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(good));
    expect(main(['shard', join(dir, 'spec.json')])).toBe(0);
    expect(readFileSync(join(dir, 'cli', 'manifest.csv'), 'utf8')).toContain(',unmatched,');
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...good, edgePolicy: 'wrap' }));
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(main(['shard', join(dir, 'bad.json')])).toBe(2);
    expect(err).toHaveBeenCalledWith('SpecError: edgePolicy: "wrap" is not one of pad, trim, error');
    // A circle: y may be left out (it is the diameter x) but may not differ from it.
    const circle = { ...good, outputDir: 'cli-circle', size: { x: 10, unit: 'arcsec', shape: 'circle' } };
    writeFileSync(join(dir, 'circle.json'), JSON.stringify(circle));
    expect(main(['shard', join(dir, 'circle.json')])).toBe(0);
    const cut = readFileSync(join(dir, 'cli-circle', 'manifest.csv'), 'utf8').split('\r\n')[1]!;
    const f = FitsFile.open(join(dir, 'cli-circle', cut.split(',')[6]!));
    expect([f.readImage('SCI').width, f.hdus[0]!.header.get('CUTSHAPE')]).toEqual([38, 'circle']);
    f.close();
    writeFileSync(join(dir, 'oval.json'), JSON.stringify({ ...circle, size: { ...circle.size, y: 12 } }));
    expect(main(['shard', join(dir, 'oval.json')])).toBe(2);
    expect(err).toHaveBeenCalledWith('SpecError: size.y: a circle has one diameter (x)');
    err.mockRestore();
    expect(main(['nonsense'])).toBe(2);
  });

  it('survey writes tiles, tiles.json and stars.csv; index rebuilds the same index', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const d = join(dir, 'cli-survey');
    expect(main(['survey', d, '--tile-size', '32', '--tiles', '1'])).toBe(0);
    const idx = JSON.parse(readFileSync(join(d, 'tiles.json'), 'utf8')) as TileIndex;
    expect([idx.tiles.length, idx.bands]).toEqual([1, ['g', 'i', 'r', 'z']]);
    const stars = readFileSync(join(d, 'stars.csv'), 'utf8').trim().split('\n');
    expect(stars[0]).toBe('ID,RA,DEC,FLUX_G,FLUX_R,FLUX_I,FLUX_Z');
    expect(stars).toHaveLength(31);
    expect(main(['index', d, join(d, 'again.json')])).toBe(0);
    expect(JSON.parse(readFileSync(join(d, 'again.json'), 'utf8'))).toEqual(idx);
    expect(main(['survey', d, '--tile-size', '-3'])).toBe(2);
    log.mockRestore();
  });

  it('desName carries rounding over and signs the declination', () => {
    expect(desName(0, -30)).toBe('DESJ000000.0000-300000.0000');
    expect(desName(359.99999999999, 0.5)).toBe('DESJ000000.0000+003000.0000');
    expect(desName(15.5, -0.000001)).toBe('DESJ010200.0000-000000.0036');
  });
});
