// The tree builder's per-node scans for dense forests (k = d > 5) in WebAssembly SIMD (wasm/dense.wat
// `bbox` and `partition`): the bounding-box scan was ~30% and the partition's dot product ~15% of a d = 100
// fit in JS (ADR 0002). The sample and the row index live in the instance's memory, so the builder and
// the gather write them in place; the results are bit-identical to the JS scans (same selects, same sum).

import { DOT_LANES, denseInstance } from './simd.js';

/** Largest sample (bytes of wasm memory) scanned in wasm; a bigger one uses the JS scans. */
const MAX_SCAN_BYTES = 2 ** 28;

/** A dense builder's sample and scratch in wasm memory, with the two scans over a node's rows. */
export interface DenseScans {
  /** Padded row length: z row r, column c is z[r·dp + c]; columns d … dp − 1 stay zero. */
  readonly dp: number;
  /** The sample, ψ rows × dp, row-major. */
  readonly z: Float64Array;
  /** The builder's row index (a permutation of 0 … ψ − 1, partitioned node by node). */
  readonly idx: Int32Array;
  /** Where bbox() leaves the node's per-column minima and maxima. */
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  /** The split's slope, read by partition(); entries d … dp − 1 stay zero. */
  readonly coef: Float64Array;
  /** lo, hi = the box of rows idx[from, to); needs from < to. */
  bbox(from: number, to: number): void;
  /** Partitions idx[from, to) so x·coef < pn comes first; returns the split position. */
  partition(from: number, to: number, pn: number): number;
  /** Sets the per-column mean and std standardize() applies (null: leave the values as they are). */
  setStats(mean: Float64Array | null, std: Float64Array | null): void;
  /** Standardises rows 0 … rows − 1 of z in place; false when a value is not finite. */
  standardize(rows: number): boolean;
}

/** The wasm scans for a ψ × d sample, or null where WebAssembly SIMD is unavailable or the sample is huge. */
export function denseScans(d: number, psi: number): DenseScans | null {
  const dp = Math.ceil(d / DOT_LANES) * DOT_LANES;
  const rowBytes = 8 * dp;
  // Byte offsets, each 16-byte aligned: z, idx, lo, hi, coef, mean, std.
  const z = 0;
  const idx = z + psi * rowBytes;
  const lo = Math.ceil((idx + 4 * psi) / 16) * 16;
  const hi = lo + rowBytes;
  const coef = hi + rowBytes;
  const mean = coef + rowBytes;
  const std = mean + rowBytes;
  const bytes = std + rowBytes;
  if (bytes > MAX_SCAN_BYTES) return null;
  const inst = denseInstance(bytes);
  if (!inst) return null;
  const bboxFn = inst.exports.bbox as (...args: number[]) => void;
  const partitionFn = inst.exports.partition as (...args: number[]) => number;
  const standardizeFn = inst.exports.standardize as (...args: number[]) => number;
  const buf = inst.buffer;
  const meanView = new Float64Array(buf, mean, dp);
  const stdView = new Float64Array(buf, std, dp);
  // (x − 0) / 1 is x bit for bit (−0 included), so the unstandardised sample needs no second path.
  stdView.fill(1);
  return {
    dp,
    z: new Float64Array(buf, z, psi * dp),
    idx: new Int32Array(buf, idx, psi),
    lo: new Float64Array(buf, lo, dp),
    hi: new Float64Array(buf, hi, dp),
    coef: new Float64Array(buf, coef, dp),
    bbox: (from, to) => bboxFn(z, rowBytes, idx, from, to, lo, hi),
    partition: (from, to, pn) => partitionFn(z, rowBytes, idx, from, to, coef, pn),
    setStats: (m, sd) => {
      meanView.fill(0);
      stdView.fill(1);
      if (m && sd) {
        meanView.set(m.subarray(0, d));
        stdView.set(sd.subarray(0, d));
      }
    },
    standardize: (rows) => standardizeFn(z, rowBytes, rows, mean, std) === 1,
  };
}
