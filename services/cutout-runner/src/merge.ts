// The finishing step of a sharded CutoutJob (the operator's merge Job runs it once every shard has ended): the
// shards' partial manifests, renumbered to the input's rows through the operator's row maps, plus the rows the
// operator refused before sharding, become one manifest.csv (one row per input row, in input order) and one
// summary.json. A shard that wrote no manifest (it failed after its retries) has each of its rows marked failed
// with that reason, so no row is ever missing. It only reads the shards' files and rewrites its own two files
// (atomically), so a retried merge writes the same bytes.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './fits/write.js';
import { csvRecords } from './cutout/positions.js';
import { manifestCsv, type ManifestRow, type Status } from './runner.js';

/** What a merge reads: the positions ConfigMap's directory and the job's output directory. */
export interface MergeSpec {
  /** Holds `shard-<i>.csv` (a shard's positions), `rows-<i>` (their input rows) and `rejected.csv`. */
  readonly positionsDir: string;
  /** Holds `shard-<i>/` (each shard's outputs); manifest.csv and summary.json are written here. */
  readonly outputDir: string;
  readonly shards: number;
}

/** The merge's result, also printed for the operator (the merge pod's termination message). */
export interface MergeReport {
  readonly positions: number;
  readonly counts: Record<Status, number>;
  readonly files: number;
  readonly bytes: number;
  readonly missingShards: readonly number[];
  readonly results: readonly { id: string; path: string; size: number; sha256: string }[];
}

const STATUSES: readonly Status[] = ['ok', 'partial', 'unmatched', 'failed'];

/** Parses a manifest.csv back into rows (the runner's own format). */
export function parseManifest(text: string): ManifestRow[] {
  return csvRecords(text)
    .slice(1)
    .map(({ fields: f }) => {
      const status = f[4] as Status;
      if (!STATUSES.includes(status)) throw new Error(`manifest: unknown status ${JSON.stringify(f[4])}`);
      const num = (s: string | undefined): number | string => (s === undefined || s === '' ? '' : Number(s));
      return {
        row: Number(f[0]),
        id: f[1] ?? '',
        ra: num(f[2]),
        dec: num(f[3]),
        status,
        tile: f[5] ?? '',
        files: (f[6] ?? '') === '' ? [] : (f[6] ?? '').split(';'),
        coverage: Number(f[7] ?? 0),
        reason: f[8] ?? '',
      };
    });
}

function rowMap(spec: MergeSpec, i: number): number[] {
  const text = readFileSync(join(spec.positionsDir, `rows-${i}`), 'utf8').trim();
  return text === '' ? [] : text.split(',').map(Number);
}

/** Rows of a shard that left no manifest: every one failed, with RA/DEC/ID from its positions file. */
function lostShard(spec: MergeSpec, i: number, rows: readonly number[]): ManifestRow[] {
  const recs = csvRecords(readFileSync(join(spec.positionsDir, `shard-${i}.csv`), 'utf8'));
  const names = (recs[0]?.fields ?? []).map((n) => n.trim().toUpperCase());
  return recs.slice(1).map((r, k) => ({
    row: rows[k] ?? 0,
    id: r.fields[names.indexOf('ID')] ?? '',
    ra: Number(r.fields[names.indexOf('RA')]),
    dec: Number(r.fields[names.indexOf('DEC')]),
    status: 'failed' as const,
    tile: '',
    files: [],
    coverage: 0,
    reason: `shard ${i} wrote no manifest (it failed after its retries)`,
  }));
}

function sha256(buf: Buffer | string): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** Merges the shards' manifests and summaries; returns what it wrote. */
export function mergeShards(spec: MergeSpec): MergeReport {
  const rows: ManifestRow[] = [];
  const missingShards: number[] = [];
  let files = 0;
  let bytes = 0;
  const rejected = join(spec.positionsDir, 'rejected.csv');
  // Row by row: a spread of a large list would overflow the call stack.
  if (existsSync(rejected)) for (const r of parseManifest(readFileSync(rejected, 'utf8'))) rows.push(r);
  for (let i = 0; i < spec.shards; i++) {
    const map = rowMap(spec, i);
    const dir = join(spec.outputDir, `shard-${i}`);
    const manifest = join(dir, 'manifest.csv');
    if (!existsSync(manifest)) {
      missingShards.push(i);
      for (const r of lostShard(spec, i, map)) rows.push(r);
      continue;
    }
    for (const r of parseManifest(readFileSync(manifest, 'utf8'))) {
      const row = map[r.row - 1];
      if (row === undefined) throw new Error(`shard ${i}: manifest row ${r.row} has no input row`);
      rows.push({ ...r, row, files: r.files.map((f) => `shard-${i}/${f}`) });
    }
    const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { files: number; bytes: number };
    files += s.files;
    bytes += s.bytes;
  }
  rows.sort((a, b) => a.row - b.row);
  const seen = new Set<number>();
  for (const r of rows) {
    if (seen.has(r.row)) throw new Error(`row ${r.row} appears twice`);
    seen.add(r.row);
  }
  const counts: Record<Status, number> = { ok: 0, partial: 0, unmatched: 0, failed: 0 };
  for (const r of rows) counts[r.status]++;
  mkdirSync(spec.outputDir, { recursive: true });
  const csv = manifestCsv(rows);
  const summary =
    JSON.stringify(
      { positions: rows.length, counts, files, bytes, shards: spec.shards, missingShards },
      null,
      2,
    ) + '\n';
  writeFileAtomic(join(spec.outputDir, 'manifest.csv'), csv);
  writeFileAtomic(join(spec.outputDir, 'summary.json'), summary);
  return {
    positions: rows.length,
    counts,
    files,
    bytes,
    missingShards,
    results: [
      { id: 'manifest', path: 'manifest.csv', size: Buffer.byteLength(csv), sha256: sha256(csv) },
      { id: 'summary', path: 'summary.json', size: Buffer.byteLength(summary), sha256: sha256(summary) },
    ],
  };
}
