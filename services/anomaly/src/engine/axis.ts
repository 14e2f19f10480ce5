// Exact axis-parallel thresholds: turns an e = 0 split "x·c < v" (one non-zero slope coordinate c, offset
// v = p·c) into "s·x < t" with s = ±1, so the axis layout stores a feature index and a threshold. Because
// fl(x·c) is monotone in x, the set of x going left is a half-line, and t is found exactly (by walking a
// few ulps from v / c), so every finite x takes the same side as under the original rule.

const f64 = new Float64Array(1);
// The same 8 bytes as two little-endian 32-bit words (BigInt arithmetic here cost ~20% of an e = 0 fit).
const words = new Uint32Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = 1 - LO;

/** The next double above x (x finite): step the magnitude's bit pattern by one, up for x > 0, down for x < 0. */
export function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  f64[0] = x;
  // Non-null: words has exactly two elements.
  const lo = words[LO]!;
  if (x > 0) {
    words[LO] = lo + 1; // wraps to 0 on overflow (Uint32Array stores mod 2^32)
    if (lo === 0xffffffff) words[HI] = words[HI]! + 1;
  } else {
    words[LO] = lo - 1;
    if (lo === 0) words[HI] = words[HI]! - 1;
  }
  const y = f64[0];
  return y === 0 ? 0 : (y ?? 0); // −0 → 0
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
 * v / c is almost always t itself or one ulp off, so this usually costs one division and one nextDown.
 */
function boundary(c: number, v: number): number | null {
  let t = v / c;
  if (!Number.isFinite(t)) return null;
  // Up until t goes right (fl(t·c) ≥ v)...
  for (let i = 0; t * c < v; i++) {
    if (i === MAX_STEPS || t === Number.MAX_VALUE) return null;
    t = nextUp(t);
  }
  // ...then down while the double below t also goes right. On exit t goes right and its predecessor goes
  // left, which by monotonicity of fl(x·c) in x is exactly the boundary.
  for (let i = 0; t > -Number.MAX_VALUE; i++) {
    const below = nextDown(t);
    if (below * c < v) break;
    if (i === MAX_STEPS) return null;
    t = below;
  }
  return t === -Number.MAX_VALUE ? null : t;
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
