// The merge of shard manifests: one row per input row in input order, files under their shard's directory, a lost
// shard's rows failed with the reason, a rerun writing the same bytes; and the index summary the operator reads.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexSummary, main, TERMINATION_MESSAGE_MAX } from './main.js';
import { mergeShards, parseManifest } from './merge.js';
import { manifestCsv, runShard } from './runner.js';
import { generateSurvey, type Survey } from './survey/generate.js';
import { buildIndex, type TileIndex } from './survey/tile-index.js';

const dir = mkdtempSync(join(tmpdir(), 'skyport-merge-'));
let survey: Survey;
let index: TileIndex;
beforeAll(() => {
  survey = generateSurvey({ dir: join(dir, 'tiles'), tileSize: 128, bands: ['g', 'r'], starsPerTile: 2 });
  index = buildIndex(join(dir, 'tiles'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Input rows 1..5: two shards of two stars each (rows 1,3 and 2,5) and row 4 refused before sharding. */
function stage(name: string): { positions: string; output: string } {
  const positions = join(dir, name, 'positions');
  const output = join(dir, name, 'out');
  mkdirSync(positions, { recursive: true });
  const s = survey.stars;
  const shards = [
    [s[0]!, s[1]!],
    [s[5]!, s[9]!],
  ];
  shards.forEach((stars, i) => {
    const csv = ['RA,DEC,ID', ...stars.map((st) => `${st.ra},${st.dec},${st.id}`)].join('\n');
    writeFileSync(join(positions, `shard-${i}.csv`), csv);
    writeFileSync(join(positions, `rows-${i}`), i === 0 ? '1,3' : '2,5');
  });
  writeFileSync(
    join(positions, 'rejected.csv'),
    manifestCsv([
      {
        row: 4,
        id: 'bad',
        ra: '',
        dec: '',
        status: 'failed',
        tile: '',
        files: [],
        coverage: 0,
        reason: 'line 5: RA "x" is not in [0, 360]',
      },
    ]),
  );
  return { positions, output };
}

function shard(positions: string, output: string, i: number): void {
  runShard({
    positions: readFileSync(join(positions, `shard-${i}.csv`), 'utf8'),
    root: join(dir, 'tiles'),
    index,
    outputDir: join(output, `shard-${i}`),
    size: { x: 0.2, y: 0.2, unit: 'arcmin' },
  });
}

describe('mergeShards', () => {
  it('writes one row per input row in input order, with files that exist, and the same bytes when rerun', () => {
    const { positions, output } = stage('ok');
    shard(positions, output, 0);
    shard(positions, output, 1);
    const report = mergeShards({ positionsDir: positions, outputDir: output, shards: 2 });
    const rows = parseManifest(readFileSync(join(output, 'manifest.csv'), 'utf8'));
    expect(rows.map((r) => r.row)).toEqual([1, 2, 3, 4, 5]);
    expect(rows.map((r) => r.id)).toEqual([
      survey.stars[0]!.id,
      survey.stars[5]!.id,
      survey.stars[1]!.id,
      'bad',
      survey.stars[9]!.id,
    ]);
    expect(rows[3]).toMatchObject({ status: 'failed', reason: 'line 5: RA "x" is not in [0, 360]' });
    for (const r of rows.filter((x) => x.row !== 4)) {
      expect(r.files.length).toBe(2);
      for (const f of r.files) expect(existsSync(join(output, f)), f).toBe(true);
    }
    expect(report.positions).toBe(5);
    expect(report.counts.failed).toBe(1);
    expect(report.counts.ok + report.counts.partial).toBe(4);
    expect(report.files).toBe(8);
    const first = readFileSync(join(output, 'manifest.csv'));
    const again = mergeShards({ positionsDir: positions, outputDir: output, shards: 2 });
    expect(readFileSync(join(output, 'manifest.csv'))).toEqual(first);
    expect(again.results).toEqual(report.results);
  });

  it('marks every row of a shard that left no manifest failed, naming the shard (no row lost)', () => {
    const { positions, output } = stage('lost');
    shard(positions, output, 0);
    const report = mergeShards({ positionsDir: positions, outputDir: output, shards: 2 });
    expect(report.missingShards).toEqual([1]);
    const rows = parseManifest(readFileSync(join(output, 'manifest.csv'), 'utf8'));
    const failed = (r: { status: string }): boolean => r.status === 'failed';
    expect(rows.map((r) => `${r.row}:${failed(r)}`)).toEqual([
      '1:false',
      '2:true',
      '3:false',
      '4:true',
      '5:true',
    ]);
    expect(rows[4]!.reason).toBe('shard 1 wrote no manifest (it failed after its retries)');
    expect(rows[4]!.id).toBe(survey.stars[9]!.id);
  });

  it('runs from the command line with --summary-file, and shard --index picks the spec paths', () => {
    const { positions, output } = stage('cli');
    const spec = join(dir, 'cli', 'spec.json');
    writeFileSync(
      spec,
      JSON.stringify({
        root: join(dir, 'tiles'),
        positionsFile: join(positions, 'shard-{index}.csv'),
        outputDir: join(output, 'shard-{index}'),
        size: { x: 0.2, y: 0.2, unit: 'arcmin' },
        limits: { maxPositions: 1 },
      }),
    );
    expect(main(['shard', spec, '--index', '1'])).toBe(0);
    expect(main(['shard', spec, '--index', '0'])).toBe(0);
    const shard1 = parseManifest(readFileSync(join(output, 'shard-1', 'manifest.csv'), 'utf8'));
    // limits from the spec: the second position is over maxPositions.
    expect(shard1.map((r) => r.status)).toEqual(['ok', 'failed']);
    const report = join(dir, 'cli', 'report.json');
    expect(main(['merge', positions, output, '--shards', '2', '--summary-file', report])).toBe(0);
    expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({ positions: 5, missingShards: [] });
    expect(main(['clean', output])).toBe(0);
    expect(existsSync(output)).toBe(false);
  });
});

describe('indexSummary', () => {
  it('lists every footprint in plain JSON when it fits, gzipped when not, and omits them past the limit', () => {
    const s = JSON.parse(indexSummary(index, '/tiles/tiles.json')) as { tiles: number; fp: unknown[][] };
    expect(s.tiles).toBe(9);
    expect(s.fp[0]).toHaveLength(5);
    const t = index.tiles[0]!;
    const fp = s.fp.find((f) => f[0] === t.tile)!;
    expect(fp[3] as number).toBeLessThanOrEqual(t.footprint.decMin);
    expect(fp[4] as number).toBeGreaterThanOrEqual(t.footprint.decMax);
    const many = {
      ...index,
      tiles: Array.from({ length: 120 }, (_, i) => ({ ...t, tile: `DES${String(i).padStart(4, '0')}-3000` })),
    };
    const gz = JSON.parse(indexSummary(many, 'x')) as { gz: string };
    expect(indexSummary(many, 'x').length).toBeLessThanOrEqual(TERMINATION_MESSAGE_MAX);
    expect(
      (JSON.parse(gunzipSync(Buffer.from(gz.gz, 'base64')).toString()) as { fp: unknown[] }).fp,
    ).toHaveLength(120);
    const huge = { ...index, tiles: Array.from({ length: 3000 }, (_, i) => ({ ...t, tile: `T${i}` })) };
    expect(JSON.parse(indexSummary(huge, 'x'))).toMatchObject({ tiles: 3000, fpOmitted: true });
  });
});
