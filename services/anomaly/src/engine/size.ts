// The encoded size of a model before it is built, so a fit whose model could never be loaded (decodeModel's
// limit) is refused when it is requested instead of failing after all its trees are built.
//
// The bytes follow the codec layout (model.ts encodeModel): a fixed header, the standardisation stats, one u32
// offset per tree and the trees; a leaf is 9 bytes, an internal node 13 plus 2 per feature index (sparse layouts)
// and 8 per coefficient (all but axis-parallel ones). Only the number of nodes per tree is not known in advance:
// it is the expected count for a tree whose every split cuts its points at a uniformly random rank, grown to the
// height limit ceil(log2 ψ) — what uniformly spread data gives. Clustered data isolates its outliers early and
// grows smaller trees (a Gaussian sample at ψ = 256 about 0.6× the estimate, at ψ = 4096 about 0.3×).

import { heightLimitFor } from './params.js';

/** What the size of a model depends on. */
export interface ModelShape {
  readonly ntrees: number;
  readonly dims: number;
  readonly extensionLevel: number;
  /** The effective ψ (after clamping to the row count). */
  readonly sampleSize: number;
  readonly standardize: boolean;
}

/** Magic, version, flags, six u32 (d, ntrees, ψ, requested ψ, e, height limit), f64 seed, f64 c(ψ). */
const HEADER_BYTES = 4 + 2 + 2 + 6 * 4 + 8 + 8;
const LEAF_BYTES = 1 + 8;

/** Bytes of one internal node: kind, right child, offset, then feature indices and coefficients. */
export function internalNodeBytes(dims: number, extensionLevel: number): number {
  const k = extensionLevel + 1;
  const indices = k < dims ? 2 * k : 0;
  // k = 1 splits are stored as ±x < t: no coefficient.
  const coefs = k === 1 ? 0 : 8 * k;
  return 1 + 4 + 8 + indices + coefs;
}

/** Bytes of everything but the trees' nodes: header, stats, tree offsets and node counts. */
export function fixedModelBytes(shape: ModelShape): number {
  return HEADER_BYTES + (shape.standardize ? 16 * shape.dims : 0) + 4 * (shape.ntrees + 1) + 4 * shape.ntrees;
}

/** The exact encoded size of a model whose trees have `internal` internal nodes in all (and so `internal + ntrees` leaves). */
export function encodedModelBytes(shape: ModelShape, internal: number): number {
  const leaves = internal + shape.ntrees;
  return (
    fixedModelBytes(shape) +
    internal * internalNodeBytes(shape.dims, shape.extensionLevel) +
    leaves * LEAF_BYTES
  );
}

const expectedCache = new Map<number, number>();

/**
 * Expected internal nodes of one tree over ψ points: I(n, h) = 1 + 2/(n−1) · Σ_{i<n} I(i, h−1) for n ≥ 2 and h ≥ 1
 * (a split at a uniform rank, then both sides), else 0; O(ψ · log ψ) with prefix sums (0.2–0.4 s at ψ = 2^20),
 * memoised per ψ.
 */
export function expectedInternalNodes(psi: number): number {
  const hit = expectedCache.get(psi);
  if (hit !== undefined) return hit;
  const levels = heightLimitFor(psi);
  let prev = new Float64Array(psi + 1);
  let cur = new Float64Array(psi + 1);
  const twoOver = new Float64Array(psi + 1);
  for (let n = 2; n <= psi; n++) twoOver[n] = 2 / (n - 1);
  // Indices below are all in [0, ψ], the arrays' range.
  for (let h = 1; h <= levels; h++) {
    let prefix = 0;
    for (let n = 2; n <= psi; n++) {
      prefix += prev[n - 1]!;
      cur[n] = 1 + prefix * twoOver[n]!;
    }
    [prev, cur] = [cur, prev];
  }
  const v = prev[psi]!; // ψ < ψ + 1
  if (expectedCache.size > 64) expectedCache.clear();
  expectedCache.set(psi, v);
  return v;
}

/** The projected encoded size of a model of this shape (see the file header for what the estimate assumes). */
export function projectedModelBytes(shape: ModelShape): number {
  return Math.round(encodedModelBytes(shape, shape.ntrees * expectedInternalNodes(shape.sampleSize)));
}
