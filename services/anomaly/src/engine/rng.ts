// Per-tree random streams: xoshiro128** over uint32 math, seeded from (seed, tree index) through a
// splitmix32-style mixer, so tree i never depends on how many trees were built before it.

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

/** murmur3's 32-bit finaliser: a bijective avalanche mix of one uint32. */
function fmix32(h0: number): number {
  let h = h0 >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Which of a tree's two streams: {@link SAMPLE_STREAM} or {@link SPLIT_STREAM}. */
export type RngStream = 0 | 1;
/** The stream that draws a tree's subsample rows. */
export const SAMPLE_STREAM: RngStream = 0;
/** The stream that draws a tree's intercepts, slopes and zeroed axes. */
export const SPLIT_STREAM: RngStream = 1;

/**
 * xoshiro128** (Blackman & Vigna): 128-bit state, period 2^128 − 1, passes BigCrush on the ** scrambler.
 * Uniform doubles take 53 bits from two outputs; normals use Marsaglia's polar method, which needs only
 * `Math.log` and `Math.sqrt` (sqrt is exactly rounded), keeping streams reproducible across platforms.
 */
export class TreeRng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = 0;
  private hasSpare = false;

  /**
   * Seeds stream `stream` of tree `treeIndex` in a forest with seed `seed` (any safe integer). Each tree
   * has two independent streams (see {@link RngStream}) so its subsample can be drawn without its splits.
   */
  constructor(seed: number, treeIndex: number, stream: RngStream) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    let h = fmix32(0x9e3779b9 ^ lo);
    h = fmix32(h ^ hi ^ 0x85ebca6b);
    h = fmix32(h ^ (treeIndex >>> 0) ^ 0xc2b2ae35);
    h = fmix32(h ^ stream ^ 0x27d4eb2f);
    // splitmix32: walk a Weyl sequence from h and finalise each step to fill the state.
    let x = h;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      return fmix32(x);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // The all-zero state is a fixed point of xoshiro; splitmix output makes it astronomically unlikely,
    // but guard anyway because a stuck stream would silently build degenerate trees.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next uint32. */
  nextU32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const s2 = this.s2;
    const s3 = this.s3;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    const n2 = s2 ^ s0;
    const n3 = s3 ^ s1;
    this.s1 = s1 ^ n2;
    this.s0 = s0 ^ n3;
    this.s2 = n2 ^ t;
    this.s3 = (n3 << 11) | (n3 >>> 21);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextDouble(): number {
    const a = this.nextU32() >>> 5; // 27 bits
    const b = this.nextU32() >>> 6; // 26 bits
    return (a * 67108864 + b) / TWO_POW_53;
  }

  /** Uniform integer in [0, n) for 1 ≤ n ≤ 2^32, unbiased (Lemire-style rejection on the low range). */
  nextInt(n: number): number {
    if (n <= 1) return 0;
    // Rejection threshold: discard the top (2^32 mod n) values so every residue is equally likely. The
    // remainders are r − ⌊r / n⌋·n, not `%`: V8 computes `%` of values ≥ 2^31 by a call to fmod, and the
    // quotient of two integers below 2^32 never rounds across an integer (its ulp is below 1/n), so the
    // floor is exact and so is the remainder.
    const limit = Math.floor(TWO_POW_32 / n) * n;
    for (;;) {
      const r = this.nextU32();
      if (r < limit) return r - Math.floor(r / n) * n;
    }
  }

  /**
   * Fills out[j] = j + nextInt(n − j) for j < count ≤ n ≤ 2^31 (the draws of a partial Fisher–Yates shuffle
   * of n items; row numbers, so they fit the Int32Array), bit for bit the same stream as one-at-a-time calls, with the state in locals. One division per draw:
   * r is below nextInt's limit ⌊2^32/n⌋·n exactly when ⌊r/n⌋ < ⌊2^32/n⌋, i.e. (⌊r/n⌋ + 1)·n ≤ 2^32 (both
   * sides exact integers below 2^33), so the limit itself is never computed.
   */
  fillShuffleDraws(out: Int32Array, n: number, count: number): void {
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    for (let j = 0; j < count; j++) {
      const w = n - j;
      if (w <= 1) {
        out[j] = j; // nextInt(1) is 0 and draws nothing
        continue;
      }
      for (;;) {
        const m = Math.imul(s1, 5);
        const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
        const t = s1 << 9;
        const n2 = s2 ^ s0;
        const n3 = s3 ^ s1;
        s1 = s1 ^ n2;
        s0 = s0 ^ n3;
        s2 = n2 ^ t;
        s3 = (n3 << 11) | (n3 >>> 21);
        const q = Math.floor(r / w);
        if ((q + 1) * w <= TWO_POW_32) {
          out[j] = j + (r - q * w);
          break;
        }
      }
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /**
   * Fills out[0, n) with the next n {@link nextDouble} values, bit for bit the same stream. The tree
   * builder draws d of them per node; keeping the state in locals for the loop (instead of four field
   * reads and writes per draw) roughly halved the draw cost.
   */
  fillDoubles(out: Float64Array, n: number): void {
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    for (let i = 0; i < n; i++) {
      // Two xoshiro128** steps, as in nextU32: the first gives the high 27 bits, the second the low 26.
      let m = Math.imul(s1, 5);
      const a = (Math.imul((m << 7) | (m >>> 25), 9) >>> 0) >>> 5;
      let t = s1 << 9;
      let n2 = s2 ^ s0;
      let n3 = s3 ^ s1;
      s1 = s1 ^ n2;
      s0 = s0 ^ n3;
      s2 = n2 ^ t;
      s3 = (n3 << 11) | (n3 >>> 21);
      m = Math.imul(s1, 5);
      const b = (Math.imul((m << 7) | (m >>> 25), 9) >>> 0) >>> 6;
      t = s1 << 9;
      n2 = s2 ^ s0;
      n3 = s3 ^ s1;
      s1 = s1 ^ n2;
      s0 = s0 ^ n3;
      s2 = n2 ^ t;
      s3 = (n3 << 11) | (n3 >>> 21);
      out[i] = (a * 67108864 + b) / TWO_POW_53;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }

  /**
   * Fills out[0, n) with the next n {@link nextNormal} values (the same stream, spare included); scratch
   * needs room for n + 1 doubles. Drawing ⌈n/2⌉ attempts at a time never overshoots: each accepted attempt
   * fills two values, so the last value is filled by the last attempt.
   */
  fillNormals(out: Float64Array, n: number, scratch: Float64Array): void {
    let i = 0;
    if (n > 0 && this.hasSpare) {
      this.hasSpare = false;
      out[i++] = this.spare;
    }
    while (i < n) {
      // Draw uniforms for the pairs still needed (each attempt takes two); rejected pairs are rare (21%),
      // so a short top-up loop finishes the job.
      const pairs = Math.ceil((n - i) / 2);
      this.fillDoubles(scratch, 2 * pairs);
      for (let p = 0; p < pairs; p++) {
        const u = 2 * scratch[2 * p]! - 1;
        const v = 2 * scratch[2 * p + 1]! - 1;
        const s = u * u + v * v;
        if (!(s > 0 && s < 1)) continue;
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        out[i++] = u * f;
        if (i < n) {
          out[i++] = v * f;
        } else {
          // n reached with v unused: keep it for the next draw, as nextNormal does.
          this.spare = v * f;
          this.hasSpare = true;
        }
      }
    }
  }

  /** Standard normal N(0, 1) by the polar method; the second value of each pair is kept for the next call. */
  nextNormal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    for (;;) {
      const u = 2 * this.nextDouble() - 1;
      const v = 2 * this.nextDouble() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = v * f;
        this.hasSpare = true;
        return u * f;
      }
    }
  }
}
