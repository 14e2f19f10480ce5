// Building forests: tree i is a pure function of (data, stats, params, i), so any partitioning of
// [0, ntrees) over workers yields bit-identical trees; `fit` is the single-process path.

import type { FeatureStats, ForestParams, Matrix, ResolvedParams, TreeBlock } from './contract.js';
import { EngineError } from './errors.js';
import { cFactor } from './cn.js';
import { encodeTreeBlock, forestFromTrees, type Model } from './model.js';
import { computeStats, isIdentity, resolveParams, validateShape } from './params.js';
import { SAMPLE_STREAM, SPLIT_STREAM, TreeRng } from './rng.js';
import { TreeBuilder, type SampleLayout, type TreeArrays } from './tree.js';

/**
 * The sparse sampler's scratch: positions below ψ (every j, and the rare r < ψ) in a direct array (−1 = not
 * displaced), higher ones in an open-addressing table (keys −1 = empty) at most a quarter full, so memory
 * is O(ψ) for any n. A fit reuses one for every tree: allocating the table per tree and probing it twice
 * per draw was about half of a 100k-row subsample draw. drawSample leaves it empty again.
 */
export class SampleTable {
  readonly low: Int32Array;
  readonly keys: Int32Array;
  readonly vals: Int32Array;
  /** Table slots written by the current draw, at most one per drawn row. */
  readonly used: Int32Array;
  readonly mask: number;
  readonly psi: number;

  constructor(psi: number) {
    let cap = 16;
    while (cap < 4 * psi) cap *= 2;
    this.mask = cap - 1;
    this.low = new Int32Array(psi).fill(-1);
    this.keys = new Int32Array(cap).fill(-1);
    this.vals = new Int32Array(cap);
    this.used = new Int32Array(psi);
    this.psi = psi;
  }
}

/**
 * Draws ψ distinct row indices from [0, n) with a virtual Fisher–Yates shuffle. The dense and map-backed
 * variants perform the same swaps, so the result depends only on (n, ψ, rng), never on the variant.
 * `table` (for ψ) is the sparse variant's scratch, reused across calls; without it one is allocated.
 */
export function drawSample(
  n: number,
  psi: number,
  rng: TreeRng,
  out: Int32Array,
  variant: 'auto' | 'dense' | 'sparse' = 'auto',
  table?: SampleTable,
): void {
  // out[j] holds step j's draw until step j overwrites it with the row drawn (read first, never again).
  rng.fillShuffleDraws(out, n, psi);
  if (variant === 'dense' || (variant === 'auto' && n <= 4 * psi)) {
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = i;
    for (let j = 0; j < psi; j++) {
      const r = out[j]!; // j ≤ r < n
      const v = a[r] ?? r;
      a[r] = a[j] ?? j;
      a[j] = v;
      out[j] = v;
    }
    return;
  }
  // Sparse: only displaced positions are stored (the row now at that position).
  const t = table && table.psi === psi ? table : new SampleTable(psi);
  const { low, keys, vals, used, mask } = t;
  let nUsed = 0;
  for (let j = 0; j < psi; j++) {
    const r = out[j]!; // j ≤ r < n
    const lj = low[j]!; // j < ψ
    const atJ = lj >= 0 ? lj : j;
    if (r < psi) {
      const lr = low[r]!;
      out[j] = lr >= 0 ? lr : r;
      low[r] = atJ;
      continue;
    }
    let h = Math.imul(r, 0x9e3779b1) & mask;
    while (keys[h] !== -1 && keys[h] !== r) h = (h + 1) & mask;
    out[j] = keys[h] === r ? vals[h]! : r;
    keys[h] = r;
    vals[h] = atJ;
    used[nUsed++] = h;
  }
  // Leave the scratch empty for the next draw. Table slots are never vacated during a draw, so clearing
  // the used ones restores every probe sequence.
  for (let q = 0; q < nUsed; q++) keys[used[q]!] = -1;
  low.fill(-1);
}

/**
 * The subsample row indices of tree `treeIndex` for a training set of `rows` rows (without replacement).
 * A coordinator can use this to ship only the sampled rows to a partition worker.
 */
export function treeSampleIndices(resolved: ResolvedParams, rows: number, treeIndex: number): Int32Array {
  const out = new Int32Array(resolved.sampleSize);
  drawSample(rows, resolved.sampleSize, new TreeRng(resolved.seed, treeIndex, SAMPLE_STREAM), out);
  return out;
}

function checkRange(resolved: ResolvedParams, start: number, end: number): void {
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(end) ||
    start < 0 ||
    end < start ||
    end > resolved.ntrees
  ) {
    throw new EngineError(
      'InvalidParameter',
      `tree range ${start}..${end} is not within 0..${resolved.ntrees}`,
      {
        field: 'range',
      },
    );
  }
}

/** Where touchRows leaves its sum, so the loads cannot be dropped as dead code. */
let _touched = 0;

/**
 * Loads the first and last value of every sampled row, before the copy. The rows are scattered over a
 * matrix larger than the L2 cache, so each is a cache miss; this loop has no stores and a few instructions
 * per row, so the core keeps many more misses in flight than the copy loop does, and the copy then hits
 * the cache (the gather was ~28% of a 100k × 10 fit and ~15% at 100k × 3, mostly waiting on memory).
 */
function touchRows(src: Float64Array, rowsIdx: Int32Array, d: number): void {
  let t = 0;
  const last = d - 1;
  for (let j = 0; j < rowsIdx.length; j++) {
    const from = rowsIdx[j]! * d; // a row number < rows
    t += src[from]! + src[from + last]!;
  }
  _touched = t;
}

/**
 * Copies (and standardises, unless `stats` is null) the sampled rows into `z`, then checks every value is
 * finite: cheap at ψ·d values, and it catches bad input when a worker is handed unvalidated data.
 */
function gatherSample(
  data: Matrix,
  rowsIdx: Int32Array,
  stats: FeatureStats | null,
  builder: TreeBuilder,
): void {
  const d = data.cols;
  const src = data.data;
  const psi = rowsIdx.length;
  const { z, rowStride: rs, colStride: cs } = builder.sample;
  touchRows(src, rowsIdx, d);
  if (builder.wasm) {
    // Rows copied as they are, then standardised and checked in wasm (builder.wasm.setStats was called).
    for (let j = 0; j < psi; j++) {
      const from = rowsIdx[j]! * d;
      for (let c = 0, o = j * rs; c < d; c++, o++) z[o] = src[from + c]!;
    }
    if (!builder.wasm.standardize(psi)) reportNonFinite(rowsIdx, builder.sample, d);
    return;
  }
  // In the builder's layout (TreeBuilder.sample). The standardising expression must stay the one standardizeRows
  // uses at scoring time, so training points map to identical coordinates. Means and stds in locals, one
  // row read contiguously at a time (rows are scattered over the matrix).
  const mean = stats?.mean;
  const std = stats?.std;
  for (let j = 0; j < psi; j++) {
    const from = rowsIdx[j]! * d; // rowsIdx holds row numbers < rows
    if (mean && std) {
      for (let c = 0, o = j * rs; c < d; c++, o += cs) z[o] = (src[from + c]! - mean[c]!) / std[c]!;
    } else {
      for (let c = 0, o = j * rs; c < d; c++, o += cs) z[o] = src[from + c]!;
    }
  }
  // One accumulator catches any non-finite value (x − x is NaN exactly then); the slow search for its
  // row and column runs only on failure.
  let bad = 0;
  for (let j = 0; j < psi; j++) {
    for (let c = 0, o = j * rs; c < d; c++, o += cs) bad += z[o]! - z[o]!;
  }
  if (bad === 0) return;
  reportNonFinite(rowsIdx, builder.sample, d);
}

/** Throws NonFiniteValue for the first non-finite sample value, column by column. */
function reportNonFinite(rowsIdx: Int32Array, sample: SampleLayout, d: number): void {
  const psi = rowsIdx.length;
  const { z, rowStride: rs, colStride: cs } = sample;
  for (let q = 0; q < psi * d; q++) {
    const row = rowsIdx[q % psi] ?? 0;
    const col = Math.floor(q / psi);
    const x = z[(q % psi) * rs + col * cs] ?? 0;
    if (x - x !== 0) {
      throw new EngineError('NonFiniteValue', `data: row ${row}, column ${col} is not finite`, {
        field: 'data',
        row,
        col,
      });
    }
  }
}

/** Builds trees [start, end) as plain arrays (shared by buildTreeBlock and fit). */
function buildTrees(
  data: Matrix,
  stats: FeatureStats,
  resolved: ResolvedParams,
  start: number,
  end: number,
): TreeArrays[] {
  validateShape(data);
  const d = resolved.dims;
  if (data.cols !== d) {
    throw new EngineError('DimensionMismatch', `data has ${data.cols} columns, the model needs ${d}`, {
      field: 'data',
    });
  }
  if (data.rows < resolved.sampleSize) {
    throw new EngineError(
      'TooFewRows',
      `data has ${data.rows} rows, fewer than the sample size ${resolved.sampleSize}`,
      {
        field: 'data',
      },
    );
  }
  checkRange(resolved, start, end);
  const psi = resolved.sampleSize;
  const builder = new TreeBuilder(d, resolved.extensionLevel, resolved.heightLimit, psi, resolved.compat);
  const rowsIdx = new Int32Array(psi);
  const table = new SampleTable(psi);
  const trees: TreeArrays[] = [];
  const identity = !resolved.standardize || isIdentity(stats);
  builder.wasm?.setStats(identity ? null : stats.mean, identity ? null : stats.std);
  for (let t = start; t < end; t++) {
    drawSample(data.rows, psi, new TreeRng(resolved.seed, t, SAMPLE_STREAM), rowsIdx, 'auto', table);
    gatherSample(data, rowsIdx, identity ? null : stats, builder);
    trees.push(builder.build(new TreeRng(resolved.seed, t, SPLIT_STREAM)));
  }
  return trees;
}

/**
 * Builds trees [start, end) of the forest described by `resolved` and returns them encoded as one block.
 * Pure in (data, stats, resolved, i) for every tree i: any partitioning gives identical trees.
 * `data` must be the full training matrix the params were resolved against.
 */
export function buildTreeBlock(
  data: Matrix,
  stats: FeatureStats,
  resolved: ResolvedParams,
  start: number,
  end: number,
): TreeBlock {
  const trees = buildTrees(data, stats, resolved, start, end);
  return encodeTreeBlock(trees, start, resolved.dims, resolved.extensionLevel + 1);
}

/** Fits a whole forest in-process: resolve and validate params, compute stats, build every tree. */
export function fit(data: Matrix, params: ForestParams): Model {
  const resolved = resolveParams(params, data);
  const stats = computeStats(data, resolved);
  const trees = buildTrees(data, stats, resolved, 0, resolved.ntrees);
  return {
    params: resolved,
    stats,
    cPsi: cFactor(resolved.sampleSize, resolved.compat),
    forest: forestFromTrees(trees, resolved.dims, resolved.extensionLevel + 1),
  };
}
