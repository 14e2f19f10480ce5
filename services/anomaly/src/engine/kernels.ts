// Scoring kernels specialised per model shape. Dense forests wider than five columns are scored by the
// WebAssembly SIMD kernel (./simd.ts, 2–10× the JS kernels at d = 10 … 100), axis-parallel forests (e = 0)
// by the WebAssembly axis kernel (./simd.ts, ~3× the generated JS kernel at d = 3 … 100). For the rest, generating the
// kernel once per (d, k) with the dot product unrolled, the width a constant and a branch-free child select
// measured ~45–60% faster for d = 10 in V8 (tree-major, 2k-row blocks). The plain loop kernels stay as the
// fallback for very wide sparse models and as the tests' reference.

// Typed-array reads marked `!` index nodes reachable from a validated forest (children lie inside their
// tree) and rows inside the block, so they are always in range.

import type { Forest } from './model.js';
import { blockedDot, usesBlockedDot, wasmAxisKernel, wasmDenseKernel } from './simd.js';

/**
 * Adds the path length of every tree in [t0, t1) for rows [0, nb) of `x` (row-major, width d, already in
 * model coordinates) into `acc`. Trees are visited in ascending order, so the per-row sums are bit-identical
 * whatever the block size.
 */
export type Kernel = (
  f: Forest,
  x: Float64Array,
  nb: number,
  acc: Float64Array,
  t0: number,
  t1: number,
) => void;

/** Above this many terms the unrolled source gets long; fall back to the loop kernels. */
const MAX_UNROLL = 64;

function axisKernel(d: number): Kernel {
  return (f, x, nb, acc, t0, t1) => {
    const { treeStart, right, value, coef } = f;
    // Non-null: k = 1 < d means the sparse layout, which always has an index array.
    const index = f.index!;
    for (let t = t0; t < t1; t++) {
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
  };
}

function sparseLoopKernel(d: number, k: number): Kernel {
  return (f, x, nb, acc, t0, t1) => {
    const { treeStart, right, value, coef } = f;
    // Non-null: k < d means the sparse layout, which always has an index array.
    const index = f.index!;
    for (let t = t0; t < t1; t++) {
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
  };
}

function denseLoopKernel(d: number): Kernel {
  return (f, x, nb, acc, t0, t1) => {
    const { treeStart, right, value, coef } = f;
    for (let t = t0; t < t1; t++) {
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
  };
}

/** Rows walking a tree in lockstep at e = 0. */
const AXIS_LANES = 4;

/** Up to this many coefficients per node, walking two rows in lockstep measured faster (more ILP). */
const MAX_INTERLEAVED_K = 5;

/**
 * True when a forest of width d with k coefficients per node takes its split decisions with the blocked
 * dot product of ./simd.ts (dense and wider than the interleaved kernels): the scoring kernel and the tree
 * builder must agree on it.
 */
export function blockedLayout(d: number, k: number): boolean {
  return usesBlockedDot(d, k, MAX_INTERLEAVED_K);
}

/** The JS form of the blocked-order dense kernel: the fallback without WebAssembly, and the tests' reference. */
function blockedLoopKernel(d: number): Kernel {
  return (f, x, nb, acc, t0, t1) => {
    const { treeStart, right, value, coef } = f;
    for (let t = t0; t < t1; t++) {
      const root = treeStart[t]!;
      for (let r = 0, xo = 0; r < nb; r++, xo += d) {
        let node = root;
        let rc = right[node]!;
        while (rc >= 0) {
          node = blockedDot(x, xo, 1, coef, node * d, d) < value[node]! ? node + 1 : rc;
          rc = right[node]!;
        }
        acc[r] = acc[r]! + value[node]!;
      }
    }
  };
}

/**
 * Generates an unrolled kernel. The dot product is written left to right (`((0 + a) + b) + …` equals
 * `(a + b) + …` bit for bit up to the sign of zero, which `<` ignores), the same order as the loop kernels
 * and the tree builder, so training points follow the same paths at scoring time.
 *
 * The child is chosen without a branch: `node + 1 + ((right − node − 1) & ((dot < value) − 1))`, where
 * `(dot < value) − 1` is 0 (go left) or −1 (all bits: go right). Tree walks are data-dependent coin
 * flips that a branch predictor cannot learn; the select measured 12–18% faster. NaN goes right, as
 * in the builder's partition. For small k two rows walk the same tree in lockstep so their independent
 * load chains overlap (≈ +25% at e = 0); for wide dot products the core is busy anyway and one row is best.
 */
function unrolledKernel(d: number, k: number): Kernel {
  const dot = (v: string): string => {
    const terms: string[] = [];
    for (let j = 0; j < k; j++) {
      terms.push(
        k === d
          ? `x[x${v} + ${j}] * coef[c${v} + ${j}]`
          : `x[x${v} + index[c${v} + ${j}]] * coef[c${v} + ${j}]`,
      );
    }
    return terms.join(' + ');
  };
  // One step of row v's walk (variables x{v}, n{v}, r{v}): dot product at node n{v}, then the chosen child.
  const step = (v: string): string =>
    `{ const c${v} = n${v} * ${k}; const d${v} = ${dot(v)}; ` +
    `n${v} = n${v} + 1 + ((r${v} - n${v} - 1) & ((d${v} < value[n${v}]) - 1)); r${v} = right[n${v}]; }`;
  // e = 0: AXIS_LANES rows in lockstep, then pairs for the rest: a one-term step is a short chain of
  // dependent loads, so more rows in flight keep the core busy (4 rows: +13–23% rows/cpu-s over pairs at d = 3 and 10;
  // 6 rows measured the same, 8 rows slower: register spills).
  const lanes = Array.from({ length: AXIS_LANES }, (_, i) => `w${i}`);
  const wide =
    k === 1
      ? `for (; r + ${AXIS_LANES - 1} < nb; r += ${AXIS_LANES}) {
          ${lanes.map((v, i) => `const x${v} = (r + ${i}) * ${d}; let n${v} = root, r${v} = rootRight;`).join('\n')}
          while (${lanes.map((v) => `r${v} >= 0`).join(' && ')}) { ${lanes.map(step).join(' ')} }
          ${lanes.map((v) => `while (r${v} >= 0) ${step(v)}`).join('\n')}
          ${lanes.map((v, i) => `acc[r + ${i}] += value[n${v}];`).join('\n')}
        }`
      : '';
  const pair =
    k <= MAX_INTERLEAVED_K
      ? `for (; r + 1 < nb; r += 2) {
          const xp = r * ${d}, xq = xp + ${d};
          let np = root, nq = root, rp = rootRight, rq = rootRight;
          while (rp >= 0 && rq >= 0) { ${step('p')} ${step('q')} }
          while (rp >= 0) ${step('p')}
          while (rq >= 0) ${step('q')}
          acc[r] += value[np];
          acc[r + 1] += value[nq];
        }`
      : '';
  const body = `
    const treeStart = f.treeStart, right = f.right, value = f.value, coef = f.coef, index = f.index;
    for (let t = t0; t < t1; t++) {
      const root = treeStart[t];
      const rootRight = right[root];
      let r = 0;
      ${wide}
      ${pair}
      for (; r < nb; r++) {
        const xp = r * ${d};
        let np = root, rp = rootRight;
        while (rp >= 0) ${step('p')}
        acc[r] += value[np];
      }
    }`;
  // The source is built only from validated integers (d, k ≤ 64), never from user strings; generating it
  // is how V8 gets a constant-width, unrolled dot product (the same technique ajv uses for validators).
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('f', 'x', 'nb', 'acc', 't0', 't1', body) as Kernel;
}

const cache = new Map<string, Kernel>();

/** The kernel for a forest of width d with k coefficients per node (cached per shape). */
export function kernelFor(d: number, k: number): Kernel {
  if (!Number.isInteger(d) || !Number.isInteger(k) || d < 1 || k < 1 || k > d) {
    throw new RangeError(`kernelFor: invalid shape d=${d}, k=${k}`);
  }
  const key = `${d}:${k}`;
  let kern = cache.get(key);
  if (!kern) {
    if (blockedLayout(d, k)) kern = wasmDenseKernel(d, blockedLoopKernel(d)) ?? blockedLoopKernel(d);
    else if (k === 1) kern = wasmAxisKernel(d, unrolledKernel(d, k)) ?? unrolledKernel(d, k);
    else if (k <= MAX_UNROLL) kern = unrolledKernel(d, k);
    else if (k === d) kern = denseLoopKernel(d);
    else kern = sparseLoopKernel(d, k);
    cache.set(key, kern);
  }
  return kern;
}

/** The plain loop kernels, exported so tests can check the generated ones agree with them bit for bit. */
export const loopKernels = {
  axis: axisKernel,
  sparse: sparseLoopKernel,
  dense: denseLoopKernel,
  blocked: blockedLoopKernel,
};
