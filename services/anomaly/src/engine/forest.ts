// Building forests: tree i is a pure function of (data, stats, params, i), so any partitioning of
// [0, ntrees) over workers yields bit-identical trees; `fit` is the single-process path.

import type { FeatureStats, ForestParams, Matrix, ResolvedParams, TreeBlock } from './contract.js';
import { EngineError } from './errors.js';
import { cFactor } from './cn.js';
import { encodeTreeBlock, forestFromTrees, type Model } from './model.js';
import { computeStats, resolveParams, standardizeRows, validateShape } from './params.js';
import { SAMPLE_STREAM, SPLIT_STREAM, TreeRng } from './rng.js';
import { TreeBuilder, type TreeArrays } from './tree.js';

/**
 * Draws ψ distinct row indices from [0, n) with a virtual Fisher–Yates shuffle. The dense and map-backed
 * variants perform the same swaps, so the result depends only on (n, ψ, rng), never on the variant.
 */
export function drawSample(
  n: number,
  psi: number,
  rng: TreeRng,
  out: Int32Array,
  variant: 'auto' | 'dense' | 'sparse' = 'auto',
): void {
  if (variant === 'dense' || (variant === 'auto' && n <= 4 * psi)) {
    const a = new Int32Array(n);
    for (let i = 0; i < n; i++) a[i] = i;
    for (let j = 0; j < psi; j++) {
      const r = j + rng.nextInt(n - j);
      const v = a[r] ?? r;
      a[r] = a[j] ?? j;
      a[j] = v;
      out[j] = v;
    }
    return;
  }
  // Sparse: only displaced positions are stored, O(ψ) memory for any n.
  const moved = new Map<number, number>();
  for (let j = 0; j < psi; j++) {
    const r = j + rng.nextInt(n - j);
    const v = moved.get(r) ?? r;
    moved.set(r, moved.get(j) ?? j);
    out[j] = v;
  }
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
  const z = new Float64Array(psi * d);
  const trees: TreeArrays[] = [];
  for (let t = start; t < end; t++) {
    drawSample(data.rows, psi, new TreeRng(resolved.seed, t, SAMPLE_STREAM), rowsIdx);
    for (let j = 0; j < psi; j++) {
      const row = rowsIdx[j] ?? 0;
      standardizeRows(data.data, d, row, row + 1, stats, z, j * d);
      for (let c = 0; c < d; c++) {
        const x = z[j * d + c] ?? 0;
        if (x - x !== 0) {
          throw new EngineError(
            'NonFiniteValue',
            `data: row ${row}, column ${c} is not finite after standardisation`,
            {
              field: 'data',
              row,
              col: c,
            },
          );
        }
      }
    }
    trees.push(builder.build(z, psi, new TreeRng(resolved.seed, t, SPLIT_STREAM)));
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
