// The `plan` step of a CutoutJob fed by a QueryJob: a gzipped query result planned with the collection's index
// into the files the shards and the merge read — the same plan the operator makes for the same positions inline —
// then run through the shards and the merge (one manifest row per result row); the command's reports and errors.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSpec, main, planErrorReport, TERMINATION_MESSAGE_MAX } from './main.js';
import { mergeShards, parseManifest } from './merge.js';
import { MIN_SPLIT, planPositions, tileOf, type TileFootprint } from './cutout/plan.js';
import { DES_LIMITS } from './cutout/positions.js';
import { ResultError } from './cutout/result.js';
import { footprintsOf, runPlan, type PlanSpec } from './plan.js';
import { FitsFile } from './fits/read.js';
import { runShard } from './runner.js';
import { generateSurvey, type Survey } from './survey/generate.js';
import { buildIndex, type TileIndex } from './survey/tile-index.js';

const dir = mkdtempSync(join(tmpdir(), 'skyport-plan-'));
let survey: Survey;
let index: TileIndex;
const indexPath = (): string => join(dir, 'tiles', 'tiles.json');
beforeAll(() => {
  survey = generateSurvey({ dir: join(dir, 'tiles'), tileSize: 128, bands: ['g', 'r'], starsPerTile: 1 });
  index = buildIndex(join(dir, 'tiles'));
  writeFileSync(indexPath(), JSON.stringify(index));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A query result as the query runner writes it (lower-case names, CRLF, NULL empty), rows: stars, NaN, far. */
function result(): string {
  const rows = survey.stars.map((s) => `${s.id},${s.ra},${s.dec},21.5`);
  return ['coadd_object_id,ra,dec,mag_auto', ...rows, 'nan-row,NaN,-30,1', 'far,20,20,1', ''].join('\r\n');
}

function spec(name: string, over: Partial<PlanSpec> = {}): PlanSpec {
  const q = join(dir, name, 'query');
  mkdirSync(q, { recursive: true });
  writeFileSync(join(q, 'result.csv.gz'), gzipSync(result()));
  return {
    inputs: [join(q, 'result.csv.gz')],
    columns: { raColumn: 'RA', decColumn: 'DEC', idColumn: 'COADD_OBJECT_ID' },
    index: indexPath(),
    size: { x: 0.2, y: 0.2, unit: 'arcmin' },
    shards: 3,
    limits: DES_LIMITS,
    outputDir: join(dir, name, 'out', 'plan'),
    ...over,
  };
}

const readIndex = (p: string): TileIndex => JSON.parse(readFileSync(p, 'utf8')) as TileIndex;

describe('runPlan', () => {
  it('plans a gzipped result as the operator plans the same positions inline, into the shard files', () => {
    const s = spec('same');
    const report = runPlan(s, readIndex);
    const n = survey.stars.length;
    expect(report).toMatchObject({ v: 1, positions: n + 2, failed: 1, unmatched: 1 });
    expect(report.shardSizes.reduce((a, b) => a + b, 0)).toBe(n);
    // The operator's plan of the same positions written as inline CSV, with the footprints of the index report.
    const inline = planPositions({
      csv: [
        'RA,DEC,ID',
        ...survey.stars.map((t) => `${t.ra},${t.dec},${t.id}`),
        'NaN,-30,nan-row',
        '20,20,far',
      ].join('\n'),
      size: s.size,
      shards: s.shards,
      limits: s.limits,
      footprints: footprintsOf(index),
    });
    inline.shards.forEach((sh, i) => {
      expect(readFileSync(join(s.outputDir, `shard-${i}.csv`), 'utf8')).toBe(sh.csv);
      expect(readFileSync(join(s.outputDir, `rows-${i}`), 'utf8')).toBe(sh.rows.join(','));
    });
    expect(report.shardSizes).toEqual(inline.shards.map((sh) => sh.rows.length));
    const rejected = parseManifest(readFileSync(join(s.outputDir, 'rejected.csv'), 'utf8'));
    expect(rejected.map((r) => [r.row, r.id, r.status, r.reason])).toEqual([
      [n + 1, 'nan-row', 'failed', `line ${n + 2}: RA "NaN" is not in [0, 360]`],
      [n + 2, 'far', 'unmatched', 'out-of-footprint: no tile contains the position'],
    ]);
    expect(JSON.parse(readFileSync(join(s.outputDir, 'plan.json'), 'utf8'))).toEqual(report);
  });

  it('feeds the shards and the merge: one manifest row per result row, the IDs echoed, same bytes when rerun', () => {
    const s = spec('chain');
    const report = runPlan(s, readIndex);
    const out = join(dir, 'chain', 'out');
    const specFile = join(dir, 'chain', 'spec.json');
    writeFileSync(
      specFile,
      JSON.stringify({
        root: join(dir, 'tiles'),
        index: indexPath(),
        positionsFile: join(s.outputDir, 'shard-{index}.csv'),
        outputDir: join(out, 'shard-{index}'),
        size: s.size,
      }),
    );
    report.shardSizes.forEach((_, i) => runShard(loadSpec(specFile, i)));
    const merged = mergeShards({
      positionsDir: s.outputDir,
      outputDir: out,
      shards: report.shardSizes.length,
    });
    expect(merged.positions).toBe(report.positions);
    const rows = parseManifest(readFileSync(join(out, 'manifest.csv'), 'utf8'));
    expect(rows.map((r) => r.id)).toEqual([...survey.stars.map((t) => t.id), 'nan-row', 'far']);
    expect(merged.counts.ok + merged.counts.partial).toBe(survey.stars.length);
    const before = readFileSync(join(s.outputDir, 'shard-0.csv'));
    runPlan(s, readIndex);
    expect(readFileSync(join(s.outputDir, 'shard-0.csv'))).toEqual(before);
  });
});

describe('runPlan: positions by COADD_OBJECT_ID', () => {
  it("maps the job's rows through the lookup's result, then shards and merge cut each row at its object", () => {
    const stars = survey.stars.slice(0, 3);
    const q = join(dir, 'ids', 'query');
    mkdirSync(q, { recursive: true });
    // The lookup's result as the QueryJob the operator writes returns it (cutoutjob/ids.ts aliases).
    const found = stars.map((t, i) => `${1000 + i},${t.ra},${t.dec}`);
    writeFileSync(join(q, 'result.csv'), ['coadd_object_id,ra,dec', ...found, ''].join('\r\n'));
    const positions = join(dir, 'ids', 'positions.csv');
    writeFileSync(
      positions,
      ['COADD_OBJECT_ID,XSIZE,YSIZE', '1001,0.3,0.1', '77,,', '1000,,', 'star,,', '1001,,', '1002,,'].join(
        '\n',
      ),
    );
    const s = spec('ids', {
      inputs: [join(q, 'result.csv')],
      columns: { raColumn: 'ra', decColumn: 'dec', idColumn: 'coadd_object_id' },
      ids: { positionsFile: positions, queried: 3, where: 'Catalog des table "objects"' },
    });
    const report = runPlan(s, readIndex);
    expect(report).toMatchObject({ positions: 6, failed: 1, unmatched: 1 });
    const out = join(dir, 'ids', 'out');
    const specFile = join(dir, 'ids', 'spec.json');
    writeFileSync(
      specFile,
      JSON.stringify({
        root: join(dir, 'tiles'),
        index: indexPath(),
        positionsFile: join(s.outputDir, 'shard-{index}.csv'),
        outputDir: join(out, 'shard-{index}'),
        size: s.size,
        bands: ['g'],
      }),
    );
    report.shardSizes.forEach((_, i) => runShard(loadSpec(specFile, i)));
    mergeShards({ positionsDir: s.outputDir, outputDir: out, shards: report.shardSizes.length });
    const rows = parseManifest(readFileSync(join(out, 'manifest.csv'), 'utf8'));
    // (cut: ok, or partial where a star's box passes the survey's edge)
    const cut = (st: string): string => (st === 'ok' || st === 'partial' ? 'cut' : st);
    expect(rows.map((r) => [r.row, r.id, cut(r.status)])).toEqual([
      [1, '1001', 'cut'],
      [2, '77', 'unmatched'],
      [3, '1000', 'cut'],
      [4, 'star', 'failed'],
      [5, '1001', 'cut'],
      [6, '1002', 'cut'],
    ]);
    expect(rows[1]?.reason).toBe(
      'not-in-catalogue: COADD_OBJECT_ID 77 is not in Catalog des table "objects"',
    );
    // Each row at its object's position, with its own size: row 1 is 0.3′ × 0.1′, its duplicate (row 5) 0.2′ square.
    expect([rows[0]?.ra, rows[0]?.dec]).toEqual([stars[1]?.ra, stars[1]?.dec]);
    const naxis = (file: string): number[] => {
      const h = FitsFile.open(join(out, file));
      try {
        const hdu = h.hdus[1];
        return [hdu?.header.number('NAXIS1') ?? 0, hdu?.header.number('NAXIS2') ?? 0];
      } finally {
        h.close();
      }
    };
    const [f1] = rows[0]?.files ?? [];
    const [f5] = rows[4]?.files ?? [];
    expect(f1).not.toBe(f5);
    const scale = index.tiles[0]!.pixelScale[0] / 60; // arcmin per pixel
    expect(naxis(f1 ?? '')).toEqual([Math.round(0.3 / scale), Math.round(0.1 / scale)]);
    expect(naxis(f5 ?? '')).toEqual([Math.round(0.2 / scale), Math.round(0.2 / scale)]);
  });
});

describe('planPositions at scale', () => {
  it('plans 150,000 positions in one tile (a group larger than a call stack holds as arguments)', () => {
    const n = 150_000;
    const rows = Array.from({ length: n }, (_, i) => `${(i % 100) * 1e-4},-30,${i}`);
    const plan = planPositions({
      csv: ['RA,DEC,ID', ...rows].join('\n'),
      size: { x: 10, y: 10, unit: 'arcsec' },
      shards: 4,
      limits: { ...DES_LIMITS, maxPositions: n },
      footprints: [{ tile: 'T', raMin: 359.9, raMax: 0.1, decMin: -30.1, decMax: -29.9 }],
    });
    // One tile's positions split over the 4 shards (each reads the tile), in input order, none lost or repeated.
    expect(plan.shards.map((s) => s.rows.length)).toEqual([n / 4, n / 4, n / 4, n / 4]);
    expect(plan.shards.map((s) => s.tiles)).toEqual([['T'], ['T'], ['T'], ['T']]);
    const all = plan.shards.flatMap((s) => s.rows);
    expect(new Set(all).size).toBe(n);
    for (const s of plan.shards) expect(s.rows).toEqual([...s.rows].sort((a, b) => a - b));
  });
});

describe('planPositions: balanced shards', () => {
  const grid = (tiles: number, per: number): { csv: string; footprints: TileFootprint[] } => {
    const footprints: TileFootprint[] = [];
    const rows: string[] = [];
    for (let t = 0; t < tiles; t++) {
      footprints.push({ tile: `T${t}`, raMin: t, raMax: t + 1, decMin: -1, decMax: 1 });
      for (let i = 0; i < per; i++) rows.push(`${t + 0.5},${(i / per - 0.5).toFixed(6)}`);
    }
    return { csv: ['RA,DEC', ...rows].join('\n'), footprints };
  };
  const plan = (tiles: number, per: number, shards: number) => {
    const g = grid(tiles, per);
    return planPositions({
      csv: g.csv,
      size: { x: 10, y: 10, unit: 'arcsec' },
      shards,
      limits: { ...DES_LIMITS, maxPositions: tiles * per },
      footprints: g.footprints,
    });
  };

  it('splits a tile so 9 equal tiles on 2 shards are even (whole tiles made them 5 : 4)', () => {
    const p = plan(9, 1000, 2);
    expect(p.shards.map((s) => s.rows.length)).toEqual([4500, 4500]);
    // One tile is read by both shards; every other tile by one.
    const reads = p.shards.flatMap((s) => s.tiles);
    expect(reads.length).toBe(10);
    expect(new Set(reads).size).toBe(9);
  });

  it(`keeps whole tiles when a split would move fewer than ${MIN_SPLIT} positions`, () => {
    const p = plan(3, 100, 2);
    expect(p.shards.map((s) => s.rows.length).sort()).toEqual([100, 200]);
    expect(p.shards.flatMap((s) => s.tiles).length).toBe(3);
  });
});

describe('planPositions by tile', () => {
  it('puts every position with the tile tileOf picks among all footprints (Dec buckets lose none)', () => {
    // 40 × 30 tiles of 0.75° × 0.7°, RA across 0, Dec edges on and off whole degrees; overlaps of 0.05°.
    const footprints: TileFootprint[] = [];
    for (let i = 0; i < 40; i++)
      for (let j = 0; j < 30; j++) {
        const raMin = (360 - 15 + i * 0.75) % 360;
        footprints.push({
          tile: `T${i}_${j}`,
          raMin,
          raMax: (raMin + 0.8) % 360,
          decMin: -40 + j * 0.7,
          decMax: -40 + j * 0.7 + 0.75,
        });
      }
    let seed = 7;
    const rand = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const pos = Array.from({ length: 5000 }, (_, i) =>
      i % 10 === 0
        ? { ra: (360 - 15 + rand() * 30) % 360, dec: -40 + Math.floor(rand() * 21) } // on a whole degree
        : { ra: (360 - 15 + rand() * 30) % 360, dec: -40 + rand() * 21 },
    );
    const plan = planPositions({
      csv: ['RA,DEC', ...pos.map((p) => `${p.ra},${p.dec}`)].join('\n'),
      size: { x: 10, y: 10, unit: 'arcsec' },
      shards: footprints.length, // one tile per shard: a shard's tiles name the tile of each of its rows
      limits: DES_LIMITS,
      footprints,
    });
    const shardOf = new Map<number, readonly string[]>();
    for (const sh of plan.shards) for (const r of sh.rows) shardOf.set(r, sh.tiles);
    let placed = 0;
    pos.forEach((p, i) => {
      const tile = tileOf(footprints, p.ra, p.dec);
      if (tile === undefined) expect(shardOf.has(i + 1)).toBe(false);
      else {
        expect(shardOf.get(i + 1)).toEqual([tile]);
        placed++;
      }
    });
    expect(placed).toBeGreaterThan(4000);
  });
});

describe('plan command', () => {
  it('writes the plan report to --summary-file', () => {
    const s = spec('cli');
    const f = join(dir, 'cli', 'report.json');
    expect(main(['plan', JSON.stringify(s), '--summary-file', f])).toBe(0);
    expect(JSON.parse(readFileSync(f, 'utf8'))).toMatchObject({ v: 1, positions: survey.stars.length + 2 });
  });

  it('exits 2 with the error report naming the field when a column is missing or the spec is bad', () => {
    const s = spec('bad', { columns: { raColumn: 'ra_deg', decColumn: 'DEC' } });
    const f = join(dir, 'bad', 'report.json');
    expect(main(['plan', JSON.stringify(s), '--summary-file', f])).toBe(2);
    expect(JSON.parse(readFileSync(f, 'utf8'))).toEqual({
      error: {
        code: 'BadPositions',
        field: 'raColumn',
        message:
          'raColumn: column "ra_deg" not in the result; it has "coadd_object_id", "ra", "dec", "mag_auto"',
      },
    });
    expect(main(['plan', JSON.stringify({ ...s, shards: 0 }), '--summary-file', f])).toBe(2);
    expect(JSON.parse(readFileSync(f, 'utf8'))).toEqual({
      error: { code: 'BadSpec', message: 'shards: expected a positive integer' },
    });
    const oval = { ...s, size: { ...s.size, shape: 'oval' } };
    expect(main(['plan', JSON.stringify(oval), '--summary-file', f])).toBe(2);
    expect(JSON.parse(readFileSync(f, 'utf8'))).toEqual({
      error: { code: 'BadSpec', message: 'size.shape: "oval" is not one of box, circle' },
    });
  });

  it('exits 1 with a PlanFailed report when a file cannot be read (retried by the Job)', () => {
    const s = spec('gone', { inputs: [join(dir, 'gone', 'query', 'missing.csv')] });
    const f = join(dir, 'gone', 'report.json');
    expect(main(['plan', JSON.stringify(s), '--summary-file', f])).toBe(1);
    const report = JSON.parse(readFileSync(f, 'utf8')) as { error: { code: string; message: string } };
    expect(report.error.code).toBe('PlanFailed');
    expect(report.error.message).toMatch(/^ENOENT: no such file or directory, open '.*missing\.csv'$/);
  });

  it('cuts an error report to fit a termination message', () => {
    const long = new ResultError('raColumn', `column "x" not in the result; it has ${'"é", '.repeat(2000)}`);
    const r = planErrorReport(long);
    expect(Buffer.byteLength(r)).toBeLessThanOrEqual(TERMINATION_MESSAGE_MAX);
    expect((JSON.parse(r) as { error: { message: string } }).error.message).toMatch(
      /^raColumn: column "x".*…$/,
    );
  });
});
