// Exact axis-parallel thresholds: turns an e = 0 split "x·c < v" (one non-zero slope coordinate c, offset
// v = p·c) into "s·x < t" with s = ±1, so the axis layout stores a feature index and a threshold. Because
// fl(x·c) is monotone in x, the set of x going left is a half-line, and t is found exactly (by walking a
// few ulps from v / c), so every finite x takes the same side as under the original rule.

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The next double above x (x finite). */
export function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  f64[0] = x;
  // Non-null: u64 has exactly one element, aliasing f64[0].
  u64[0] = x > 0 ? u64[0]! + 1n : u64[0]! - 1n;
  return f64[0] === 0 ? 0 : f64[0]; // −0 → 0
}

/** The next double below x (x finite). */
export function nextDown(x: number): number {
  return -nextUp(-x);
}

/** Steps allowed while walking from v / c to the exact boundary; beyond it we keep the original form. */
const MAX_STEPS = 64;

/**
 * For c > 0: the least double t with fl(x·c) ≥ v, so that fl(x·c) < v ⇔ x < t for every finite x; or
 * null when no such finite t can be found quickly (a non-finite or subnormal-scale quotient).
 */
function boundary(c: number, v: number): number | null {
  let t = v / c;
  if (!Number.isFinite(t)) return null;
  const left = (x: number): boolean => x * c < v;
  for (let i = 0; left(t); i++) {
    if (i === MAX_STEPS || t === Number.MAX_VALUE) return null;
    t = nextUp(t);
  }
  for (let i = 0; t > -Number.MAX_VALUE && !left(nextDown(t)); i++) {
    if (i === MAX_STEPS) return null;
    t = nextDown(t);
  }
  // Verify the defining property at the boundary itself (and so, by monotonicity, everywhere).
  if (left(t) || (t > -Number.MAX_VALUE && !left(nextDown(t)))) return null;
  return t;
}

/**
 * The axis form of the split "go left iff x·c < v": `{ sign, threshold }` with "go left iff sign·x <
 * threshold" deciding identically for every finite x, or null when the original form must be kept.
 */
export function axisThreshold(c: number, v: number): { sign: 1 | -1; threshold: number } | null {
  if (!Number.isFinite(c) || !Number.isFinite(v) || c === 0) return null;
  if (c > 0) {
    const t = boundary(c, v);
    return t === null ? null : { sign: 1, threshold: t };
  }
  // x·c = (−x)·(−c) exactly (negation is exact and rounding is symmetric), so x goes left iff −x < t.
  const t = boundary(-c, v);
  return t === null ? null : { sign: -1, threshold: t };
}
