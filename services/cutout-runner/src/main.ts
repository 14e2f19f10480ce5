// The cutout runner's command line (what a CutoutJob shard's container runs):
//   main.ts shard SPEC.json        run one shard (positions, tiles, output dir → FITS, PNG, manifest)
//   main.ts shard SPEC.json --index N   the same, `{index}` in positionsFile/outputDir replaced by N (an
//                                  Indexed Job passes $(JOB_COMPLETION_INDEX))
//   main.ts index ROOT [OUT.json] [--summary-file F]
//                                  build a collection's tile index from its files' headers; F gets the compact
//                                  footprint summary the operator reads (the pod's termination message)
//   main.ts index-s3 BUCKET_JSON OUT.json [--summary-file F]
//                                  the same over a bucket ({endpoint, bucket, prefix, region, forcePathStyle}; keys
//                                  from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY): headers by ranged GETs
//   A shard spec with `s3` (a bucket) downloads its tiles into `root` (a scratch directory) tile by tile.
//   main.ts merge POSITIONS_DIR OUTPUT_DIR --shards N [--summary-file F]
//                                  merge the shards' manifests (merge.ts); F gets the report
//   main.ts plan SPEC_JSON [--summary-file F]
//                                  plan a QueryJob's result into shard files (plan.ts); F gets the plan's counts,
//                                  or {"error": {code, field, message}} when the result is unusable (exit 2) or
//                                  {"error": {code: PlanFailed, message}} on any other failure (exit 1)
//   main.ts clean DIR              delete a job's outputs (the CutoutJob's destruction)
//   main.ts survey DIR [--tile-size N] [--tiles K]
//                                  write the sample survey, its tiles.json and stars.csv
//   main.ts serve                  the collection's results server (serve/; configured by CUTOUT_SERVE_* variables)
// Errors in the spec name the field; exit code 2 for a bad spec, 1 for anything else.

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomic } from './fits/write.js';
import { mergeShards } from './merge.js';
import { footprintsOf, runPlan, type IdsSpec, type PlanSpec } from './plan.js';
import { runShard, runShardStaged, type Colour, type ShardSpec } from './runner.js';
import { DES_LIMITS, type Limits } from './cutout/positions.js';
import { ResultError } from './cutout/result.js';
import { startServe } from './serve/config.js';
import { generateSurvey } from './survey/generate.js';
import { buildIndex, largestTileBytes, type TileIndex } from './survey/tile-index.js';
import { bucketClient, parseBucket, type TileBucket } from './s3/bucket.js';
import { buildBucketIndex } from './s3/index.js';
import { TileStager } from './s3/stage.js';

export class SpecError extends Error {
  readonly code = 'BadSpec';
  override readonly name = 'SpecError';
}

type Json = Record<string, unknown>;

function oneOf<T extends string>(v: unknown, allowed: readonly T[], field: string): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v as T)) {
    throw new SpecError(`${field}: ${JSON.stringify(v)} is not one of ${allowed.join(', ')}`);
  }
  return v as T;
}

function strings(v: unknown, field: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) {
    throw new SpecError(`${field}: expected a list of names`);
  }
  return v as string[];
}

function colours(v: unknown): Colour[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new SpecError('colour: expected a list');
  return v.map((c: unknown, i) => {
    const f = `colour[${i}]`;
    if (typeof c !== 'object' || c === null) throw new SpecError(`${f}: expected an object`);
    const o = c as Json;
    const method = oneOf(o.method, ['lupton', 'asinh'] as const, `${f}.method`) ?? 'lupton';
    const bands = strings(o.bands, `${f}.bands`);
    if (bands?.length !== 3) throw new SpecError(`${f}.bands: exactly three bands (red, green, blue)`);
    for (const k of ['minimum', 'stretch', 'Q']) {
      if (o[k] !== undefined && (typeof o[k] !== 'number' || !Number.isFinite(o[k]))) {
        throw new SpecError(`${f}.${k}: expected a number`);
      }
    }
    return { ...o, method, bands: [bands[0], bands[1], bands[2]] } as Colour;
  });
}

function limits(v: unknown): Limits | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null) throw new SpecError('limits: expected an object');
  const o = v as Json;
  const out: Record<string, number> = { ...DES_LIMITS };
  for (const k of Object.keys(DES_LIMITS)) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== 'number' || !(o[k] > 0))
      throw new SpecError(`limits.${k}: expected a positive number`);
    out[k] = o[k];
  }
  return out as unknown as Limits;
}

/**
 * Reads a shard spec; relative paths are taken from the spec file's directory. `shardIndex` replaces `{index}` in
 * positionsFile and outputDir (one spec for every index of an Indexed Job).
 */
/** A shard spec's bucket source: `s3` and `scratchBytes` (the spec needs its `index` then). */
function bucketPart(o: Json): { s3?: TileBucket; scratchBytes?: number } {
  if (o.s3 === undefined) return {};
  let s3: TileBucket;
  try {
    s3 = parseBucket(o.s3);
  } catch (e) {
    throw new SpecError(e instanceof Error ? e.message : String(e));
  }
  if (o.index === undefined) throw new SpecError('index: a bucket source needs its index file');
  if (o.scratchBytes === undefined) return { s3 };
  if (!(typeof o.scratchBytes === 'number' && o.scratchBytes > 0))
    throw new SpecError('scratchBytes: expected a positive number');
  return { s3, scratchBytes: o.scratchBytes };
}

/** A shard spec over a bucket: the bucket, and the scratch bytes the staged tiles may fill. */
export type BucketShard = ShardSpec & { readonly s3?: TileBucket; readonly scratchBytes?: number };

export function loadSpec(path: string, shardIndex?: number): BucketShard {
  const base = resolve(path, '..');
  const at = (p: unknown, field: string): string => {
    if (typeof p !== 'string' || p === '') throw new SpecError(`${field}: expected a path`);
    const q = shardIndex === undefined ? p : p.replaceAll('{index}', String(shardIndex));
    return isAbsolute(q) ? q : join(base, q);
  };
  const o = JSON.parse(readFileSync(path, 'utf8')) as Json;
  const root = at(o.root, 'root');
  const positions =
    typeof o.positions === 'string'
      ? o.positions
      : readFileSync(at(o.positionsFile, 'positionsFile'), 'utf8');
  const bucket = bucketPart(o);
  const index: TileIndex =
    o.index === undefined
      ? buildIndex(root)
      : (JSON.parse(readFileSync(at(o.index, 'index'), 'utf8')) as TileIndex);
  let size: ShardSpec['size'];
  if (o.size !== undefined) {
    const s = o.size as Json;
    const shape = oneOf(s.shape, ['box', 'circle'] as const, 'size.shape') ?? 'box';
    // A circle has one diameter (x); y, when given, must repeat it.
    const y = shape === 'circle' && s.y === undefined ? s.x : s.y;
    if (typeof s.x !== 'number' || typeof y !== 'number')
      throw new SpecError('size: expected {x, y, unit[, shape]}');
    if (shape === 'circle' && y !== s.x) throw new SpecError('size.y: a circle has one diameter (x)');
    size = {
      x: s.x,
      y,
      unit: oneOf(s.unit, ['arcsec', 'arcmin', 'deg', 'pix'] as const, 'size.unit') ?? 'arcmin',
      shape,
    };
  }
  const spec: BucketShard = {
    ...bucket,
    positions,
    root,
    index,
    outputDir: at(o.outputDir, 'outputDir'),
    ...(size && { size }),
    ...(o.bands !== undefined && { bands: strings(o.bands, 'bands') }),
    ...(o.hdus !== undefined && { hdus: strings(o.hdus, 'hdus') }),
    ...(o.edgePolicy !== undefined && {
      edgePolicy: oneOf(o.edgePolicy, ['pad', 'trim', 'error'] as const, 'edgePolicy'),
    }),
    ...(o.multiTilePolicy !== undefined && {
      multiTilePolicy: oneOf(o.multiTilePolicy, ['mosaic', 'best-tile', 'error'] as const, 'multiTilePolicy'),
    }),
    ...(o.colour !== undefined && { colour: colours(o.colour) }),
    ...(o.limits !== undefined && { limits: limits(o.limits) }),
  } as BucketShard;
  return spec;
}

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v <= 0) throw new SpecError(`${name}: expected a positive integer`);
  return v;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

/** Most bytes of a container's termination message the kubelet keeps. */
export const TERMINATION_MESSAGE_MAX = 4096;

/**
 * The index summary the operator reads from the indexing pod's termination message: counts, bands, and every tile's
 * footprint (`fp`: [tile, raMin, raMax, decMin, decMax], 1e-5° rounding widened outwards). Plain JSON when it fits
 * in {@link TERMINATION_MESSAGE_MAX}, else `{"gz": base64 of the gzipped JSON}`, else without `fp` and with
 * `fpOmitted: true` (the operator then shards by position instead of by tile).
 */
export function indexSummary(index: TileIndex, indexPath: string): string {
  const base = {
    v: 1,
    tiles: index.tiles.length,
    bands: index.bands,
    skipped: index.skipped.length,
    largestTileBytes: largestTileBytes(index),
    indexPath,
  };
  const fp = footprintsOf(index).map((f) => [f.tile, f.raMin, f.raMax, f.decMin, f.decMax]);
  const plain = JSON.stringify({ ...base, fp });
  if (plain.length <= TERMINATION_MESSAGE_MAX) return plain;
  const gz = JSON.stringify({ gz: gzipSync(plain).toString('base64') });
  if (gz.length <= TERMINATION_MESSAGE_MAX) return gz;
  return JSON.stringify({ ...base, fpOmitted: true });
}

function num(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new SpecError(`${field}: expected a number`);
  return v;
}

function text(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw new SpecError(`${field}: expected a non-empty string`);
  return v;
}

/** Reads the `plan` command's spec (JSON text), naming the field at fault. */
export function loadPlanSpec(json: string): PlanSpec {
  let o: Json;
  try {
    o = JSON.parse(json) as Json;
  } catch (e) {
    throw new SpecError(`plan spec: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof o !== 'object' || o === null) throw new SpecError('plan spec: expected an object');
  const inputs = strings(o.inputs, 'inputs');
  if (inputs === undefined || inputs.length === 0) throw new SpecError('inputs: expected a list of files');
  const c = (o.columns ?? {}) as Json;
  const s = (o.size ?? {}) as Json;
  const shards = num(o.shards, 'shards');
  if (!Number.isInteger(shards) || shards < 1) throw new SpecError('shards: expected a positive integer');
  return {
    inputs,
    columns: {
      raColumn: text(c.raColumn, 'columns.raColumn'),
      decColumn: text(c.decColumn, 'columns.decColumn'),
      ...(c.idColumn !== undefined && { idColumn: text(c.idColumn, 'columns.idColumn') }),
    },
    index: text(o.index, 'index'),
    size: {
      x: num(s.x, 'size.x'),
      y: num(s.y, 'size.y'),
      unit: oneOf(s.unit, ['arcsec', 'arcmin', 'deg', 'pix'] as const, 'size.unit') ?? 'arcmin',
      shape: oneOf(s.shape, ['box', 'circle'] as const, 'size.shape') ?? 'box',
    },
    shards,
    limits: limits(o.limits) ?? DES_LIMITS,
    outputDir: text(o.outputDir, 'outputDir'),
    ...(o.ids !== undefined && { ids: idsSpec(o.ids) }),
  };
}

function idsSpec(v: unknown): IdsSpec {
  if (typeof v !== 'object' || v === null) throw new SpecError('ids: expected an object');
  const o = v as Json;
  const queried = num(o.queried, 'ids.queried');
  if (!Number.isInteger(queried) || queried < 0) throw new SpecError('ids.queried: expected a whole number');
  return {
    positionsFile: text(o.positionsFile, 'ids.positionsFile'),
    queried,
    where: text(o.where, 'ids.where'),
  };
}

/** An error of the plan step that a retry may not fix (an unreadable file, a full volume): exit 1, retried. */
class PlanFailed extends Error {
  readonly code = 'PlanFailed';
}

/** The `plan` command's error report, cut to fit a termination message. */
export function planErrorReport(e: ResultError | SpecError | PlanFailed): string {
  const error = { code: e.code, ...(e instanceof ResultError && { field: e.field }), message: e.message };
  const full = JSON.stringify({ error });
  if (Buffer.byteLength(full) <= TERMINATION_MESSAGE_MAX) return full;
  // The longest prefix whose JSON (escapes, multi-byte characters) fits, found by bisection.
  const cut = (k: number): string =>
    JSON.stringify({ error: { ...error, message: `${e.message.slice(0, k)}…` } });
  let lo = 0;
  let hi = e.message.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (Buffer.byteLength(cut(mid)) <= TERMINATION_MESSAGE_MAX) lo = mid;
    else hi = mid - 1;
  }
  return cut(lo);
}

function plan(arg: string, summaryFile: string | undefined): number {
  try {
    const report = runPlan(loadPlanSpec(arg), (p) => JSON.parse(readFileSync(p, 'utf8')) as TileIndex);
    if (summaryFile !== undefined) writeFileSync(summaryFile, JSON.stringify(report));
    console.log(JSON.stringify(report));
    return 0;
  } catch (e) {
    const bad = e instanceof ResultError || e instanceof SpecError;
    // Anything else (a file gone, an I/O error) is reported too, so the operator can say why; exit 1 retries.
    const err = bad ? e : new PlanFailed(e instanceof Error ? e.message : String(e));
    if (summaryFile !== undefined) writeFileSync(summaryFile, planErrorReport(err));
    console.error(`${e instanceof Error ? e.name : 'Error'}: ${err.message}`);
    return bad ? 2 : 1;
  }
}

/** A shard over a bucket: its tiles downloaded into the spec's root (the scratch emptyDir) tile by tile. */
async function shardFromBucket(spec: BucketShard & { s3: TileBucket }): Promise<number> {
  const stager = new TileStager(bucketClient(spec.s3), spec.s3, spec.root, {}, spec.scratchBytes ?? Infinity);
  const { summary } = await runShardStaged(spec, stager);
  console.log(JSON.stringify(summary));
  return 0;
}

/** `index-s3`: the bucket's index written to OUT (a volume), the summary to F. */
async function indexBucket(arg: string, target: string, summaryFile: string | undefined): Promise<number> {
  let b: TileBucket;
  try {
    b = parseBucket(JSON.parse(arg) as unknown, 'bucket');
  } catch (e) {
    throw new SpecError(e instanceof Error ? e.message : String(e));
  }
  const { index, stats } = await buildBucketIndex(bucketClient(b), b);
  mkdirSync(dirname(target), { recursive: true });
  writeFileAtomic(target, JSON.stringify(index, null, 1) + '\n');
  if (summaryFile !== undefined) writeFileSync(summaryFile, indexSummary(index, target));
  console.log(
    `indexed ${index.tiles.length} tiles, bands ${index.bands.join('')}, skipped ${index.skipped.length}; ` +
      `${stats.gets} ranged GETs, ${stats.bytesRead} of ${stats.bytesListed} bytes read, ${stats.retries} retries`,
  );
  return 0;
}

/** `shard`: one shard, over a volume (synchronous) or a bucket (a promise). */
function shard(arg: string, index: string | undefined): number | Promise<number> {
  if (index !== undefined && !/^\d+$/.test(index)) throw new SpecError('--index: expected a shard number');
  const spec = loadSpec(arg, index === undefined ? undefined : Number(index));
  if (spec.s3 !== undefined) return shardFromBucket({ ...spec, s3: spec.s3 }).catch(failed);
  const { summary } = runShard(spec);
  console.log(JSON.stringify(summary));
  return 0;
}

function failed(e: unknown): number {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  return e instanceof SpecError ? 2 : 1;
}

/** Runs a command; the bucket commands answer with a promise. */
export function main(args: string[]): number | Promise<number> {
  const [cmd, arg, out] = args;
  const summaryFile = option(args, '--summary-file');
  try {
    if (cmd === 'shard' && arg) return shard(arg, option(args, '--index'));
    if (cmd === 'index-s3' && arg && out) return indexBucket(arg, out, summaryFile).catch(failed);
    if (cmd === 'merge' && arg && out) {
      const report = mergeShards({ positionsDir: arg, outputDir: out, shards: flag(args, '--shards', 1) });
      if (summaryFile !== undefined) writeFileSync(summaryFile, JSON.stringify(report));
      console.log(JSON.stringify(report));
      return 0;
    }
    if (cmd === 'plan' && arg) return plan(arg, summaryFile);
    if (cmd === 'clean' && arg) {
      rmSync(arg, { recursive: true, force: true });
      console.log(`deleted ${arg}`);
      return 0;
    }
    if (cmd === 'index' && arg) {
      const index = buildIndex(arg);
      const target = out !== undefined && !out.startsWith('--') ? out : join(arg, 'tiles.json');
      writeFileAtomic(target, JSON.stringify(index, null, 1) + '\n');
      if (summaryFile !== undefined) writeFileSync(summaryFile, indexSummary(index, target));
      console.log(
        `indexed ${index.tiles.length} tiles, bands ${index.bands.join('')}, skipped ${index.skipped.length}`,
      );
      return 0;
    }
    if (cmd === 'survey' && arg) {
      const s = generateSurvey({
        dir: arg,
        tileSize: flag(args, '--tile-size', 512),
        tilesPerSide: flag(args, '--tiles', 3),
      });
      writeFileAtomic(join(arg, 'tiles.json'), JSON.stringify(buildIndex(arg), null, 1) + '\n');
      const lines = ['ID,RA,DEC,' + s.bands.map((b) => `FLUX_${b.toUpperCase()}`).join(',')];
      for (const st of s.stars)
        lines.push(
          [
            st.id,
            st.ra.toFixed(8),
            st.dec.toFixed(8),
            ...s.bands.map((b) => (st.flux[b] ?? 0).toFixed(3)),
          ].join(','),
        );
      writeFileAtomic(join(arg, 'stars.csv'), lines.join('\n') + '\n');
      console.log(`wrote ${s.files.length} files, ${s.stars.length} stars`);
      return 0;
    }
    console.error(
      'usage: main.ts shard SPEC.json [--index N] | index ROOT [OUT.json] [--summary-file F] | ' +
        'index-s3 BUCKET_JSON OUT.json [--summary-file F] | merge POSITIONS_DIR OUTPUT_DIR --shards N [--summary-file F] | plan SPEC_JSON [--summary-file F] | ' +
        'clean DIR | survey DIR [--tile-size N] [--tiles K] | serve',
    );
    return 2;
  } catch (e) {
    return failed(e);
  }
}

/** `serve`: runs until SIGTERM or SIGINT, then stops accepting and ends. */
function serve(): void {
  startServe(process.env).then(
    (s) => {
      const stop = (): void => void s.close().then(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    },
    (e: unknown) => {
      console.error(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
      process.exit(2);
    },
  );
}

if (process.argv[1] !== undefined && import.meta.url === `file://${resolve(process.argv[1])}`) {
  if (process.argv[2] === 'serve') serve();
  else
    void Promise.resolve(main(process.argv.slice(2))).then((code) => {
      process.exitCode = code;
    });
}
