// Parameter resolution and input validation: every bad parameter or data cell becomes an EngineError
// naming the field or the row and column, before any tree is built.

import type { FeatureStats, ForestParams, Matrix, ResolvedParams } from './contract.js';
import { EngineError } from './errors.js';

/** Defaults from Liu et al. 2008 and the reference implementation. */
export const DEFAULT_NTREES = 100;
export const DEFAULT_SAMPLE_SIZE = 256;
/** Upper bounds that keep a single model's memory and encoding sane (and u16 feature indices valid). */
export const MAX_TREES = 100_000;
export const MAX_DIMS = 65_535;
/** Largest effective ψ: a fully extended d = 10 tree at ψ = 2^20 is already ~200 MB of nodes. */
export const MAX_SAMPLE_SIZE = 1 << 20;
/** Largest requested ψ (stored as u32); requests above the row count are clamped before MAX_SAMPLE_SIZE applies. */
const MAX_REQUESTED_SAMPLE_SIZE = 0xffffffff;

/** Checks that a Matrix is internally consistent and non-empty (shape only, not the values). */
export function validateShape(data: Matrix, field = 'data'): void {
  const { rows, cols } = data;
  if (!Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(cols) || cols < 0) {
    throw new EngineError('InvalidMatrix', `${field}: rows and cols must be non-negative integers`, {
      field,
    });
  }
  if (!(data.data instanceof Float64Array) || data.data.length !== rows * cols) {
    throw new EngineError(
      'InvalidMatrix',
      `${field}: expected a Float64Array of rows × cols = ${rows * cols} values, got ${data.data?.length ?? 'none'}`,
      { field },
    );
  }
  if (rows === 0 || cols === 0) {
    throw new EngineError('EmptyData', `${field}: no data (${rows} rows × ${cols} columns)`, { field });
  }
  if (cols > MAX_DIMS) {
    throw new EngineError('DimensionTooLarge', `${field}: ${cols} columns exceeds the limit of ${MAX_DIMS}`, {
      field,
    });
  }
}

/** Throws `NonFiniteValue` naming the first NaN or ±Infinity cell (row and column are zero-based). */
export function validateFinite(data: Matrix, field = 'data'): void {
  const v = data.data;
  const n = v.length;
  // x − x is 0 for finite x and NaN for NaN/±Inf, so a sum of them is 0 exactly when every value is
  // finite. Four branch-free accumulators instead of a test per value: a 100k × 10 fit spent ~10% of its
  // CPU in the per-value branch. The search that names the row and column runs only on failure.
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let b3 = 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const x0 = v[i]!; // i + 3 < length
    const x1 = v[i + 1]!;
    const x2 = v[i + 2]!;
    const x3 = v[i + 3]!;
    b0 += x0 - x0;
    b1 += x1 - x1;
    b2 += x2 - x2;
    b3 += x3 - x3;
  }
  for (; i < n; i++) b0 += v[i]! - v[i]!;
  if (b0 + b1 + b2 + b3 === 0) return;
  for (let q = 0; q < n; q++) {
    const x = v[q]!; // q < length
    if (x - x !== 0) {
      const row = Math.floor(q / data.cols);
      const col = q - row * data.cols;
      throw new EngineError(
        'NonFiniteValue',
        `${field}: row ${row}, column ${col} is ${x}; values must be finite`,
        {
          field,
          row,
          col,
        },
      );
    }
  }
}

function requireInteger(
  value: unknown,
  field: string,
  min: number,
  max: number,
  code: 'InvalidParameter' | 'InvalidTreeCount' | 'SampleSizeTooSmall' | 'ExtensionLevelOutOfRange',
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new EngineError('InvalidParameter', `${field} must be a finite number, got ${String(value)}`, {
      field,
    });
  }
  if (!Number.isInteger(value)) {
    throw new EngineError('InvalidParameter', `${field} must be an integer, got ${value}`, { field });
  }
  if (value < min) {
    throw new EngineError(code, `${field} must be at least ${min}, got ${value}`, { field });
  }
  if (value > max) {
    // Too large is only "out of range" for the extension level; for counts it is a plain bad parameter.
    const high =
      code === 'ExtensionLevelOutOfRange' || code === 'InvalidTreeCount' ? code : 'InvalidParameter';
    throw new EngineError(high, `${field} must be at most ${max}, got ${value}`, { field });
  }
  return value;
}

/** Smallest l with 2^l ≥ ψ, i.e. ceil(log2 ψ) computed without floating-point log. */
export function heightLimitFor(psi: number): number {
  let l = 0;
  while (2 ** l < psi) l++;
  return l;
}

/**
 * Validates parameters against the data and resolves defaults: ψ is clamped to the row count (the
 * requested value is kept), standardisation defaults to `extensionLevel > 0`, compat to "exact".
 * Also checks every data value is finite, so a fit never starts on bad input.
 */
export function resolveParams(params: ForestParams, data: Matrix): ResolvedParams {
  // Callers outside TypeScript (job payloads, JSON bodies) can hand us anything.
  if (typeof params !== 'object' || params === null) {
    throw new EngineError('InvalidParameter', 'forest parameters must be an object', { field: 'params' });
  }
  validateShape(data);
  const dims = data.cols;
  const ntrees = requireInteger(params.ntrees, 'ntrees', 1, MAX_TREES, 'InvalidTreeCount');
  const requested = requireInteger(
    params.sampleSize,
    'sampleSize',
    2,
    MAX_REQUESTED_SAMPLE_SIZE,
    'SampleSizeTooSmall',
  );
  const extensionLevel = requireInteger(
    params.extensionLevel,
    'extensionLevel',
    0,
    dims - 1,
    'ExtensionLevelOutOfRange',
  );
  if (typeof params.seed !== 'number' || !Number.isSafeInteger(params.seed)) {
    throw new EngineError('InvalidParameter', `seed must be a safe integer, got ${String(params.seed)}`, {
      field: 'seed',
    });
  }
  if (params.standardize !== undefined && typeof params.standardize !== 'boolean') {
    throw new EngineError('InvalidParameter', 'standardize must be a boolean', { field: 'standardize' });
  }
  if (params.compat !== undefined && params.compat !== 'exact' && params.compat !== 'reference') {
    throw new EngineError(
      'InvalidParameter',
      `compat must be "exact" or "reference", got ${String(params.compat)}`,
      {
        field: 'compat',
      },
    );
  }
  if (data.rows < 2) {
    throw new EngineError('TooFewRows', `data: need at least 2 rows to build a forest, got ${data.rows}`, {
      field: 'data',
    });
  }
  validateFinite(data);
  const sampleSize = Math.min(requested, data.rows);
  if (sampleSize > MAX_SAMPLE_SIZE) {
    throw new EngineError(
      'InvalidParameter',
      `sampleSize ${sampleSize} (after clamping to the row count) exceeds the limit of ${MAX_SAMPLE_SIZE}`,
      { field: 'sampleSize' },
    );
  }
  return {
    ntrees,
    sampleSize,
    requestedSampleSize: requested,
    extensionLevel,
    seed: params.seed,
    standardize: params.standardize ?? extensionLevel > 0,
    compat: params.compat ?? 'exact',
    dims,
    heightLimit: heightLimitFor(sampleSize),
  };
}

/** Identity stats (mean 0, std 1) for `dims` features. */
export function identityStats(dims: number): FeatureStats {
  return { mean: new Float64Array(dims), std: new Float64Array(dims).fill(1) };
}

/**
 * Per-feature mean and population standard deviation over all rows (two passes for accuracy), or the
 * identity when standardisation is off. A constant feature gets std 1 so it standardises to 0, not NaN.
 */
export function computeStats(data: Matrix, resolved: ResolvedParams): FeatureStats {
  validateShape(data);
  const d = data.cols;
  if (d !== resolved.dims) {
    throw new EngineError(
      'DimensionMismatch',
      `data has ${d} columns, parameters were resolved for ${resolved.dims}`,
      {
        field: 'data',
      },
    );
  }
  if (!resolved.standardize) return identityStats(d);
  const v = data.data;
  const n = data.rows;
  // Each column summed over rows 0 … n − 1 in order (its bits are part of the model); all indices are
  // < rows·cols (checked by validateShape) or < d.
  const mean = new Float64Array(d);
  blockSums(v, n, d, mean, null);
  for (let k = 0; k < d; k++) mean[k] = mean[k]! / n;
  const ss = new Float64Array(d);
  blockSums(v, n, d, ss, mean);
  const std = new Float64Array(d);
  for (let k = 0; k < d; k++) {
    const s = Math.sqrt(ss[k]! / n);
    std[k] = s > 0 && Number.isFinite(s) ? s : 1;
  }
  return { mean, std };
}

/** Values (8 bytes each) per block of rows the stats scan: 32 KiB, so a block stays in L1 across passes. */
const STATS_BLOCK = 4096;

/**
 * out[k] += Σ_r v[r·d + k] over r = 0 … n − 1 in order, or Σ (v − mean[k])² when `mean` is given: the same
 * additions in the same order as a row-major loop with the sums in `out`, but over blocks of rows, four
 * columns per pass with the sums in locals (the row-major loop's loads and stores of out[k] made the
 * stats ~20% of a standardised d = 100 fit).
 */
function blockSums(
  v: Float64Array,
  n: number,
  d: number,
  out: Float64Array,
  mean: Float64Array | null,
): void {
  const rowsPerBlock = Math.max(1, Math.floor(STATS_BLOCK / d));
  for (let r0 = 0; r0 < n; r0 += rowsPerBlock) {
    const end = Math.min(n, r0 + rowsPerBlock) * d;
    let k = 0;
    for (; k + 4 <= d; k += 4) {
      let s0 = out[k]!;
      let s1 = out[k + 1]!;
      let s2 = out[k + 2]!;
      let s3 = out[k + 3]!;
      if (mean) {
        const m0 = mean[k]!;
        const m1 = mean[k + 1]!;
        const m2 = mean[k + 2]!;
        const m3 = mean[k + 3]!;
        for (let o = r0 * d + k; o < end; o += d) {
          const a = v[o]! - m0;
          const b = v[o + 1]! - m1;
          const c = v[o + 2]! - m2;
          const e = v[o + 3]! - m3;
          s0 += a * a;
          s1 += b * b;
          s2 += c * c;
          s3 += e * e;
        }
      } else {
        for (let o = r0 * d + k; o < end; o += d) {
          s0 += v[o]!;
          s1 += v[o + 1]!;
          s2 += v[o + 2]!;
          s3 += v[o + 3]!;
        }
      }
      out[k] = s0;
      out[k + 1] = s1;
      out[k + 2] = s2;
      out[k + 3] = s3;
    }
    for (; k < d; k++) {
      let s0 = out[k]!;
      const m0 = mean ? mean[k]! : 0;
      if (mean) {
        for (let o = r0 * d + k; o < end; o += d) {
          const a = v[o]! - m0;
          s0 += a * a;
        }
      } else {
        for (let o = r0 * d + k; o < end; o += d) s0 += v[o]!;
      }
      out[k] = s0;
    }
  }
}

/** True when stats are the identity transform (all means 0 and stds 1), so scoring can skip it. */
export function isIdentity(stats: FeatureStats): boolean {
  for (let k = 0; k < stats.mean.length; k++) if (stats.mean[k] !== 0 || stats.std[k] !== 1) return false;
  return true;
}

/**
 * Standardises rows [r0, r1) of `src` into `dst` (row-major, same width). Fit and score both call this, so
 * a training point maps to bit-identical coordinates on both paths.
 */
export function standardizeRows(
  src: Float64Array,
  d: number,
  r0: number,
  r1: number,
  stats: FeatureStats,
  dst: Float64Array,
  dstOffset = 0,
): void {
  const mean = stats.mean;
  const std = stats.std;
  let o = dstOffset;
  for (let r = r0; r < r1; r++) {
    const base = r * d;
    for (let k = 0; k < d; k++) {
      dst[o++] = ((src[base + k] ?? 0) - (mean[k] ?? 0)) / (std[k] ?? 1);
    }
  }
}
