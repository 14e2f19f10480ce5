// Scoring: tree-major blocks (one tree stays in cache while a block of rows walks it) through kernels
// specialised per layout (./kernels.ts), and thresholds by fixed score or contamination quantile.

import type { Matrix } from './contract.js';
import { EngineError } from './errors.js';
import { kernelFor } from './kernels.js';
import type { Model } from './model.js';
import { isIdentity, standardizeRows, validateFinite, validateShape } from './params.js';

/** Rows per block: 2048 × d doubles plus one tree (≤ 511 nodes × d) stay well inside L2. */
const BLOCK_ROWS = 2048;

/**
 * Sum of path lengths over trees [treeFrom, treeTo) for each of `rows` rows of `x`, which must already be
 * in model coordinates (standardised). For tree-partitioned scoring and tests; most callers want {@link score}.
 */
export function pathLengthSums(
  model: Model,
  x: Float64Array,
  rows: number,
  acc: Float64Array,
  treeFrom = 0,
  treeTo = model.params.ntrees,
): void {
  acc.fill(0, 0, rows);
  kernelFor(model.params.dims, model.forest.k)(model.forest, x, rows, acc, treeFrom, treeTo);
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
