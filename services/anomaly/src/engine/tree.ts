// Builds one Extended Isolation Tree from its subsample into flat typed arrays, exactly as the research
// note §1.2 specifies: intercept uniform in the node's bounding box, N(0,1) slope with d − e − 1 axes
// zeroed, go left iff x·n < p·n, no retry on a degenerate split, leaves store depth + c(size).

// Typed-array reads marked `!` in the loops below index arrays sized by construction (ψ rows, d columns,
// cap nodes), so they are always in range; the assertion avoids a per-element undefined check.

import { axisThreshold } from './axis.js';
import { cFactor } from './cn.js';
import { denseScans, type DenseScans } from './build-scans.js';
import { blockedLayout } from './kernels.js';
import { NARROW_MAX_D, narrowScans, type NarrowScans } from './narrow-scans.js';
import { blockedDot } from './simd.js';
import type { TreeRng } from './rng.js';

/**
 * One tree in preorder. The left child of internal node i is i + 1; `right[i]` is the right child's index
 * (relative to this tree) or −1 for a leaf. `value[i]` is p·n for an internal node and depth + c(size) for
 * a leaf. Each internal node has `k` coefficients at `coef[i·k …]`; for sparse layouts (k < d) their
 * feature indices are at `index[i·k …]` in ascending order. Leaves carry zero coefficients. With k = 1
 * (e = 0) the split is stored as a threshold: coef ±1 and value t, left iff ±x < t (see axis.ts).
 */
export interface TreeArrays {
  readonly nodeCount: number;
  readonly right: Int32Array;
  readonly value: Float64Array;
  readonly index: Uint16Array | null;
  readonly coef: Float64Array;
}

/**
 * Where the builder keeps its sample: value (row r, column c) at z[r·rowStride + c·colStride]. Column-major
 * (colStride ψ) for the JS scans (the narrow builder's first buffer is this too); row-major padded rows
 * (rowStride dp) for the wasm scans of dense forests.
 */
export interface SampleLayout {
  readonly z: Float64Array;
  readonly rowStride: number;
  readonly colStride: number;
}

/** Reusable scratch space for building trees of one shape, so a block of trees allocates once. */
export class TreeBuilder {
  private readonly d: number;
  private readonly k: number;
  private readonly limit: number;
  private readonly compat: 'exact' | 'reference';
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly p: Float64Array;
  private readonly nv: Float64Array;
  private readonly perm: Int32Array;
  private readonly kept: Int32Array;
  private readonly keptCoef: Float64Array;
  private readonly cTable: Float64Array;
  private readonly draws: Float64Array;
  private cap = 0;
  private count = 0;
  private right = new Int32Array(0);
  private value = new Float64Array(0);
  private index: Uint16Array | null = null;
  private coef = new Float64Array(0);
  /** The sample the next build() reads; the caller fills it in this layout. */
  readonly sample: SampleLayout;
  private readonly z: Float64Array;
  private readonly rs: number;
  private readonly cs: number;
  private readonly idx: Int32Array;
  private readonly psi: number;
  /**
   * The wasm scans (dense forests, where WebAssembly SIMD is available): bounding box, partition, and the
   * sample's standardisation, which the gather calls.
   */
  readonly wasm: DenseScans | null;
  /** The moved-sample scans of narrow forests (d ≤ NARROW_MAX_D, left-to-right sums); null otherwise. */
  private readonly narrow: NarrowScans | null;
  private rng: TreeRng | null = null;

  /**
   * @param d number of features
   * @param extensionLevel e in 0..d−1; each internal node keeps e + 1 non-zero slope coordinates
   * @param heightLimit depth at which nodes become leaves
   * @param psi subsample size, the largest possible leaf size
   * @param fastScans false forces the JS scans over the row index (the tests compare them with the wasm
   *   scans of dense forests and the moved-sample scans of narrow ones; the trees are identical)
   */
  constructor(
    d: number,
    extensionLevel: number,
    heightLimit: number,
    psi: number,
    compat: 'exact' | 'reference',
    fastScans = true,
  ) {
    this.d = d;
    this.k = extensionLevel + 1;
    this.limit = heightLimit;
    this.compat = compat;
    this.lo = new Float64Array(d);
    this.hi = new Float64Array(d);
    this.p = new Float64Array(d);
    this.nv = new Float64Array(d);
    this.perm = new Int32Array(d);
    this.kept = new Int32Array(this.k);
    this.keptCoef = new Float64Array(this.k);
    this.cTable = new Float64Array(psi + 1);
    this.draws = new Float64Array(d + 1);
    for (let n = 0; n <= psi; n++) this.cTable[n] = cFactor(n, compat);
    this.psi = psi;
    this.wasm = fastScans && blockedLayout(d, this.k) ? denseScans(d, psi) : null;
    this.narrow =
      fastScans && !blockedLayout(d, this.k) && d <= NARROW_MAX_D ? narrowScans(d, this.k, psi) : null;
    if (this.wasm) {
      this.sample = { z: this.wasm.z, rowStride: this.wasm.dp, colStride: 1 };
      this.idx = this.wasm.idx;
    } else if (this.narrow) {
      // The JS layout (column-major); the builder moves rows, so idx is unused.
      this.sample = { z: this.narrow.buffers[0], rowStride: 1, colStride: psi };
      this.idx = new Int32Array(0);
    } else {
      this.sample = { z: new Float64Array(psi * d), rowStride: 1, colStride: psi };
      this.idx = new Int32Array(psi);
    }
    this.z = this.sample.z;
    this.rs = this.sample.rowStride;
    this.cs = this.sample.colStride;
    this.grow(Math.min(2 ** (heightLimit + 1) - 1, 2 * psi + 64));
  }

  private grow(min: number): void {
    const cap = Math.max(min, this.cap * 2, 64);
    const right = new Int32Array(cap);
    right.set(this.right.subarray(0, this.count));
    const value = new Float64Array(cap);
    value.set(this.value.subarray(0, this.count));
    const coef = new Float64Array(cap * this.k);
    coef.set(this.coef.subarray(0, this.count * this.k));
    if (this.k < this.d) {
      const index = new Uint16Array(cap * this.k);
      if (this.index) index.set(this.index.subarray(0, this.count * this.k));
      this.index = index;
    }
    this.right = right;
    this.value = value;
    this.coef = coef;
    this.cap = cap;
  }

  /**
   * Builds a tree over the standardised subsample the caller wrote into `sample` (ψ rows × d), drawing
   * every split from `rng`. Returns trimmed copies, so the builder can be reused for the next tree.
   */
  build(rng: TreeRng): TreeArrays {
    const psi = this.psi;
    if (!this.narrow) for (let i = 0; i < psi; i++) this.idx[i] = i;
    this.rng = rng;
    this.count = 0;
    this.node(0, psi, 0);
    this.rng = null;
    const n = this.count;
    return {
      nodeCount: n,
      right: this.right.slice(0, n),
      value: this.value.slice(0, n),
      index: this.index ? this.index.slice(0, n * this.k) : null,
      coef: this.coef.slice(0, n * this.k),
    };
  }

  // Recursion depth is bounded by the height limit (≤ 24 for ψ ≤ 2^24), so the JS stack is never at risk.
  private node(from: number, to: number, depth: number): number {
    if (this.count === this.cap) this.grow(this.cap + 1);
    const id = this.count++;
    const size = to - from;
    const k = this.k;
    const co = id * k;
    if (depth >= this.limit || size <= 1) {
      this.right[id] = -1;
      this.value[id] = depth + (this.cTable[size] ?? cFactor(size, this.compat));
      for (let j = 0; j < k; j++) this.coef[co + j] = 0;
      if (this.index) for (let j = 0; j < k; j++) this.index[co + j] = 0;
      return id;
    }
    const pn = this.drawSplit(from, to, co, depth);
    const mid = this.partition(from, to, pn, depth);
    this.value[id] = pn;
    this.node(from, mid, depth + 1);
    const r = this.node(mid, to, depth + 1);
    this.right[id] = r;
    return id;
  }

  /**
   * Draws the split and stores the kept slope; returns p·n. RNG order: d intercept fractions u (one per
   * coordinate, as the reference draws p for every axis), d normals, then the kept axes. p_c = min_c + u_c ·
   * (max_c − min_c) is only needed, so the bounding box is only computed, on the e + 1 kept axes.
   */
  private drawSplit(from: number, to: number, co: number, depth: number): number {
    const { d, k, p, nv, perm, kept } = this;
    // The rng is set for the duration of build(); node() is only reachable from there.
    const rng = this.rng as TreeRng;
    rng.fillDoubles(p, d);
    rng.fillNormals(nv, d, this.draws);
    if (k === d) {
      for (let c = 0; c < d; c++) kept[c] = c;
    } else {
      // Zeroing d − e − 1 distinct axes uniformly is the same as keeping a uniform (e + 1)-subset; a partial
      // Fisher–Yates draws only e + 1 positions, then ascending order fixes the dot-product summation order.
      for (let c = 0; c < d; c++) perm[c] = c;
      for (let j = 0; j < k; j++) {
        const r = j + rng.nextInt(d - j);
        const t = perm[j]!;
        perm[j] = perm[r]!;
        perm[r] = t;
        kept[j] = perm[j]!;
      }
      kept.sort();
    }
    // The box lands in lo, hi indexed by kept position j; dense (the wasm case) keeps every axis, j = c.
    let lo = this.lo;
    let hi = this.hi;
    if (this.wasm) {
      this.wasm.bbox(from, to);
      lo = this.wasm.lo;
      hi = this.wasm.hi;
    } else if (this.narrow) {
      const [b0, b1] = this.narrow.buffers;
      this.narrow.box(depth & 1 ? b1 : b0, from, to, kept, lo, hi);
    } else {
      this.boundingBox(from, to);
    }
    let pn = 0;
    for (let j = 0; j < k; j++) {
      const c = kept[j]!;
      const nc = nv[c]!;
      const pc = lo[j]! + p[c]! * (hi[j]! - lo[j]!);
      this.coef[co + j] = nc;
      this.keptCoef[j] = nc;
      if (this.wasm) this.wasm.coef[j] = nc;
      if (this.index) this.index[co + j] = c;
      pn += pc * nc;
    }
    if (k === 1) {
      // e = 0: store "s·x < t" (s = ±1) instead of "x·c < p·c"; decisions are identical for every x (axis.ts).
      const a = axisThreshold(this.keptCoef[0]!, pn);
      if (a) {
        this.coef[co] = a.sign;
        this.keptCoef[0] = a.sign;
        return a.threshold;
      }
    }
    return pn;
  }

  /**
   * lo[j], hi[j] = min, max of kept axis j over the node's rows. z[row·rs + c·cs] (the JS layout is column-major); four
   * axes are scanned per pass so each idx[i] load feeds four independent min/max chains (the scan is most
   * of a dense fit's time). A last group of 1–3 axes repeats its last axis to fill the four: one pass over
   * the rows instead of one per axis (at d = 3 the box was ~14% of a fit, three passes).
   */
  private boundingBox(from: number, to: number): void {
    const { k, z, idx, kept, lo, hi, rs, cs } = this;
    const last = k - 1;
    for (let j = 0; j < k; j += 4) {
      const z0 = kept[j]! * cs;
      const z1 = kept[Math.min(j + 1, last)]! * cs;
      const z2 = kept[Math.min(j + 2, last)]! * cs;
      const z3 = kept[Math.min(j + 3, last)]! * cs;
      let mn0 = Infinity,
        mn1 = Infinity,
        mn2 = Infinity,
        mn3 = Infinity;
      let mx0 = -Infinity,
        mx1 = -Infinity,
        mx2 = -Infinity,
        mx3 = -Infinity;
      for (let i = from; i < to; i++) {
        const r = idx[i]! * rs; // idx[i] < ψ and every (row, column) is inside z
        const a = z[z0 + r]!;
        const b = z[z1 + r]!;
        const c = z[z2 + r]!;
        const e = z[z3 + r]!;
        // Selects, not branches: V8 emits conditional moves, and the loop has no data-dependent jumps.
        mn0 = a < mn0 ? a : mn0;
        mx0 = a > mx0 ? a : mx0;
        mn1 = b < mn1 ? b : mn1;
        mx1 = b > mx1 ? b : mx1;
        mn2 = c < mn2 ? c : mn2;
        mx2 = c > mx2 ? c : mx2;
        mn3 = e < mn3 ? e : mn3;
        mx3 = e > mx3 ? e : mx3;
      }
      // Only the group's real axes: the repeated ones are copies, and lo, hi may have no slot for them.
      lo[j] = mn0;
      hi[j] = mx0;
      if (j + 1 < k) {
        lo[j + 1] = mn1;
        hi[j + 1] = mx1;
      }
      if (j + 2 < k) {
        lo[j + 2] = mn2;
        hi[j + 2] = mx2;
      }
      if (j + 3 < k) {
        lo[j + 3] = mn3;
        hi[j + 3] = mx3;
      }
    }
  }

  /**
   * Partitions idx[from, to) so points with x·n < p·n come first; returns the split position. Which rows go
   * left is all that matters to the tree: the order within each side changes no box, split or leaf.
   */
  private partition(from: number, to: number, pn: number, depth: number): number {
    if (this.wasm) return this.wasm.partition(from, to, pn);
    if (this.narrow) {
      const [b0, b1] = this.narrow.buffers;
      const odd = (depth & 1) === 1;
      return this.narrow.partition(odd ? b1 : b0, odd ? b0 : b1, from, to, pn, this.kept, this.keptCoef);
    }
    if (blockedLayout(this.d, this.k)) return this.partitionBlocked(from, to, pn);
    const { k, z, idx, kept, keptCoef, rs, cs } = this;
    // Summation order (ascending kept axis, starting from 0) matches the scoring kernels exactly, so a
    // training point follows the same path when it is scored. Up to three terms are unrolled with the
    // offsets and coefficients in locals (missing terms read column 0 times 0, and x + 0 = x for the
    // comparison: only the sign of a zero sum can differ, which `<` ignores).
    if (k <= 3) {
      const o0 = kept[0]! * cs;
      const o1 = k > 1 ? kept[1]! * cs : o0;
      const o2 = k > 2 ? kept[2]! * cs : o0;
      const c0 = keptCoef[0]!;
      const c1 = k > 1 ? keptCoef[1]! : 0;
      const c2 = k > 2 ? keptCoef[2]! : 0;
      // Branch-free (Lomuto): every row is swapped into place at `lo`, which advances when it goes left.
      // Left or right is a coin flip a branch predictor cannot learn; the swap costs less than a miss.
      let lo = from;
      for (let i = from; i < to; i++) {
        const r = idx[i]!;
        const row = r * rs;
        const dot = z[o0 + row]! * c0 + z[o1 + row]! * c1 + z[o2 + row]! * c2;
        idx[i] = idx[lo]!;
        idx[lo] = r;
        lo += dot < pn ? 1 : 0;
      }
      return lo;
    }
    let lo = from;
    for (let i = from; i < to; i++) {
      const r = idx[i]!;
      const row = r * rs;
      let dot = 0;
      for (let q = 0; q < k; q++) dot += z[kept[q]! * cs + row]! * keptCoef[q]!;
      idx[i] = idx[lo]!;
      idx[lo] = r;
      lo += dot < pn ? 1 : 0;
    }
    return lo;
  }

  /** The JS form of the wasm partition for dense wide layouts (the blocked sum; kept[q] = q). */
  private partitionBlocked(from: number, to: number, pn: number): number {
    const { k, z, idx, keptCoef, rs, cs } = this;
    let i = from;
    let j = to - 1;
    while (i <= j) {
      if (blockedDot(z, idx[i]! * rs, cs, keptCoef, 0, k) < pn) {
        i++;
      } else {
        const t = idx[i]!;
        idx[i] = idx[j]!;
        idx[j] = t;
        j--;
      }
    }
    return i;
  }
}
