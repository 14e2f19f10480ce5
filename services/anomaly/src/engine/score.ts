// Scoring: tree-major blocks (one tree stays in cache while a block of rows walks it), with specialised
// kernels for the axis-parallel (e = 0), sparse (0 < e < d − 1) and dense (e = d − 1) layouts, and
// thresholds by fixed score or contamination quantile.

// Typed-array reads marked `!` in the kernels index nodes reachable from a validated forest (children lie
// inside their tree) and rows inside the block, so they are always in range; the assertion keeps V8's
// hot loop free of undefined checks.

import type { Matrix } from './contract.js';
import { EngineError } from './errors.js';
import type { Forest, Model } from './model.js';
import { isIdentity, standardizeRows, validateFinite, validateShape } from './params.js';

/** Rows per block: 1024 × d doubles plus one tree (≤ 511 nodes × d) stay well inside L2. */
const BLOCK_ROWS = 1024;

/** Adds every tree's path length for rows [0, nb) of `x` (row-major, width d) into `acc`; axis layout. */
function kernelAxis(f: Forest, d: number, x: Float64Array, nb: number, acc: Float64Array): void {
  const { treeStart, right, value, coef } = f;
  // Non-null: k = 1 < d implies the sparse layout, which always has an index array.
  const index = f.index!;
  const ntrees = treeStart.length - 1;
  for (let t = 0; t < ntrees; t++) {
    const root = treeStart[t]!;
    for (let r = 0, xo = 0; r < nb; r++, xo += d) {
      let node = root;
      let rc = right[node]!;
      while (rc >= 0) {
        node = x[xo + index[node]!]! * coef[node]! < value[node]! ? node + 1 : rc;
        rc = right[node]!;
      }
      acc[r] = acc[r]! + value[node]!;
    }
  }
}

/** Sparse layout: k < d coefficients with ascending feature indices per node. */
function kernelSparse(f: Forest, d: number, x: Float64Array, nb: number, acc: Float64Array): void {
  const { treeStart, right, value, coef, k } = f;
  // Non-null: k < d means the sparse layout, which always has an index array.
  const index = f.index!;
  const ntrees = treeStart.length - 1;
  for (let t = 0; t < ntrees; t++) {
    const root = treeStart[t]!;
    for (let r = 0, xo = 0; r < nb; r++, xo += d) {
      let node = root;
      let rc = right[node]!;
      while (rc >= 0) {
        const co = node * k;
        let dot = 0;
        for (let j = 0; j < k; j++) dot += x[xo + index[co + j]!]! * coef[co + j]!;
        node = dot < value[node]! ? node + 1 : rc;
        rc = right[node]!;
      }
      acc[r] = acc[r]! + value[node]!;
    }
  }
}

/** Dense layout: all d coefficients per node. */
function kernelDense(f: Forest, d: number, x: Float64Array, nb: number, acc: Float64Array): void {
  const { treeStart, right, value, coef } = f;
  const ntrees = treeStart.length - 1;
  for (let t = 0; t < ntrees; t++) {
    const root = treeStart[t]!;
    for (let r = 0, xo = 0; r < nb; r++, xo += d) {
      let node = root;
      let rc = right[node]!;
      while (rc >= 0) {
        const co = node * d;
        let dot = 0;
        for (let j = 0; j < d; j++) dot += x[xo + j]! * coef[co + j]!;
        node = dot < value[node]! ? node + 1 : rc;
        rc = right[node]!;
      }
      acc[r] = acc[r]! + value[node]!;
    }
  }
}

/**
 * Sum of path lengths over all trees for each row of a block already in model coordinates (standardised).
 * Exposed for tree-partitioned scoring and tests; most callers want {@link score}.
 */
export function pathLengthSums(model: Model, x: Float64Array, rows: number, acc: Float64Array): void {
  const f = model.forest;
  const d = model.params.dims;
  acc.fill(0, 0, rows);
  if (f.k === d) kernelDense(f, d, x, rows, acc);
  else if (f.k === 1) kernelAxis(f, d, x, rows, acc);
  else kernelSparse(f, d, x, rows, acc);
}

/**
 * Anomaly score s(x) = 2^(−E[h(x)]/c(ψ)) for every row of `data` (≈1 anomalous, ≲ 0.5 normal). Validates
 * the width and that every value is finite (errors name the row and column). Writes into `out` when given.
 */
export function score(model: Model, data: Matrix, out?: Float64Array): Float64Array {
  validateShape(data);
  const d = model.params.dims;
  if (data.cols !== d) {
    throw new EngineError(
      'DimensionMismatch',
      `data has ${data.cols} columns, the model was fitted on ${d}`,
      {
        field: 'data',
        col: data.cols,
      },
    );
  }
  validateFinite(data);
  const n = data.rows;
  if (out && out.length < n) {
    throw new EngineError('InvalidParameter', `out has room for ${out.length} scores, need ${n}`, {
      field: 'out',
    });
  }
  const result = out ?? new Float64Array(n);
  const transform = model.params.standardize && !isIdentity(model.stats);
  const scratch = new Float64Array(Math.min(n, BLOCK_ROWS) * d);
  const acc = new Float64Array(Math.min(n, BLOCK_ROWS));
  const scale = -1 / (model.params.ntrees * model.cPsi);
  for (let r0 = 0; r0 < n; r0 += BLOCK_ROWS) {
    const nb = Math.min(BLOCK_ROWS, n - r0);
    let x: Float64Array;
    if (transform) {
      standardizeRows(data.data, d, r0, r0 + nb, model.stats, scratch);
      x = scratch;
    } else {
      x = data.data.subarray(r0 * d, (r0 + nb) * d);
    }
    pathLengthSums(model, x, nb, acc);
    for (let r = 0; r < nb; r++) result[r0 + r] = 2 ** (acc[r]! * scale);
  }
  return result;
}

/**
 * The score threshold that flags the top `contamination` fraction of `scores` (at least one point):
 * a point is anomalous iff its score ≥ the returned value, i.e. the (1 − contamination) quantile.
 */
export function thresholdFor(_model: Model, scores: Float64Array, contamination: number): number {
  if (typeof contamination !== 'number' || !(contamination > 0 && contamination < 1)) {
    throw new EngineError(
      'InvalidContamination',
      `contamination must be in (0, 1), got ${String(contamination)}`,
      {
        field: 'contamination',
      },
    );
  }
  if (scores.length === 0) {
    throw new EngineError('EmptyData', 'no scores to take a contamination quantile of', { field: 'scores' });
  }
  const sorted = Float64Array.from(scores).sort();
  const flagged = Math.max(1, Math.ceil(contamination * sorted.length - 1e-9));
  return sorted[sorted.length - flagged]!; // flagged ∈ [1, length], so the index is in range
}

/** How to turn scores into alerts: a fixed score, or the contamination quantile of a reference score set. */
export type ThresholdSpec = { readonly score: number } | { readonly contamination: number };

/** Resolves a {@link ThresholdSpec} against reference scores (e.g. the training data's). */
export function resolveThreshold(model: Model, scores: Float64Array, spec: ThresholdSpec): number {
  if ('score' in spec) {
    if (typeof spec.score !== 'number' || !(spec.score >= 0 && spec.score <= 1)) {
      throw new EngineError(
        'InvalidParameter',
        `threshold score must be in [0, 1], got ${String(spec.score)}`,
        {
          field: 'threshold.score',
        },
      );
    }
    return spec.score;
  }
  return thresholdFor(model, scores, spec.contamination);
}

/** Flags scores at or above the threshold (1 = anomalous). */
export function classify(scores: Float64Array, threshold: number): Uint8Array {
  const out = new Uint8Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = scores[i]! >= threshold ? 1 : 0;
  return out;
}
