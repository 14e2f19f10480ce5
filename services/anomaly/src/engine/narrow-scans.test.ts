// The narrow builder's moved-sample scans against the JS scans over the row index: the same box (up to which
// zero a ±0 tie keeps), the same rows on each side of a split, and so the same trees from TreeBuilder with and without them.

import { describe, expect, it } from 'vitest';
import { NARROW_MAX_D, narrowScans } from './narrow-scans.js';
import { SPLIT_STREAM, TreeRng } from './rng.js';
import { TreeBuilder } from './tree.js';

/** Values with repeats, both zeros and a wide spread, so ties, signs and degenerate splits occur. */
function value(r: number, c: number): number {
  const x = Math.sin(r * 12.9898 + c * 78.233) * 43758.5453;
  const f = x - Math.floor(x);
  if (f < 0.1) return 0;
  if (f < 0.2) return -0;
  if (c % 3 === 0) return f;
  if (f < 0.3) return 1.5;
  return (f - 0.5) * 10 ** ((r + c) % 7);
}

/** Row r's values (a slice of the column-major buffer z). */
function row(z: Float64Array, psi: number, d: number, r: number): number[] {
  return Array.from({ length: d }, (_, c) => z[c * psi + r]!);
}

describe('narrowScans', () => {
  it('refuses shapes it does not generate code for', () => {
    expect(() => narrowScans(NARROW_MAX_D + 1, 1, 64)).toThrow(RangeError);
    expect(() => narrowScans(3, 4, 64)).toThrow(RangeError);
    expect(() => narrowScans(3, 0, 64)).toThrow(RangeError);
    expect(() => narrowScans(2.5, 1, 64)).toThrow(RangeError);
  });

  for (const [d, k] of [
    [1, 1],
    [3, 1],
    [3, 3],
    [5, 2],
    [5, 5],
  ] as const) {
    it(`box and partition agree with a reference over the node's rows (d = ${d}, k = ${k})`, () => {
      const psi = 50;
      const s = narrowScans(d, k, psi);
      const [src, dst] = s.buffers;
      for (let r = 0; r < psi; r++) for (let c = 0; c < d; c++) src[c * psi + r] = value(r, c);
      // Kept axes ascending, the last ones when k < d (not 0 … k − 1, so the offsets are exercised).
      const kept = Int32Array.from({ length: k }, (_, j) => d - k + j);
      const coef = Float64Array.from({ length: k }, (_, j) => value(900 + j, 2) || 0.5);
      for (const [from, to] of [
        [0, psi],
        [7, 8],
        [3, 41],
      ] as const) {
        const lo = new Float64Array(k);
        const hi = new Float64Array(k);
        s.box(src, from, to, kept, lo, hi);
        for (let j = 0; j < k; j++) {
          let mn = Infinity;
          let mx = -Infinity;
          for (let i = from; i < to; i++) {
            const x = src[kept[j]! * psi + i]!;
            mn = x < mn ? x : mn;
            mx = x > mx ? x : mx;
          }
          // Equal as numbers: which zero a ±0 tie keeps is free (the builder test below shows the trees agree).
          expect(lo[j] === mn, `lo[${j}] over [${from}, ${to})`).toBe(true);
          expect(hi[j] === mx, `hi[${j}] over [${from}, ${to})`).toBe(true);
        }
        // A split through the middle row's dot product, so both sides are non-empty.
        const dotOf = (r: number[]): number => {
          let dot = 0;
          for (let j = 0; j < k; j++) dot += r[kept[j]!]! * coef[j]!;
          return dot;
        };
        const pn = dotOf(row(src, psi, d, (from + to) >> 1));
        const left: string[] = [];
        const right: string[] = [];
        for (let i = from; i < to; i++) {
          const r = row(src, psi, d, i);
          (dotOf(r) < pn ? left : right).push(JSON.stringify(r.map((x) => (Object.is(x, -0) ? '-0' : x))));
        }
        dst.fill(Number.NaN);
        const mid = s.partition(src, dst, from, to, pn, kept, coef);
        expect(mid).toBe(from + left.length);
        const got = (a: number, b: number): string[] =>
          Array.from({ length: b - a }, (_, i) =>
            JSON.stringify(row(dst, psi, d, a + i).map((x) => (Object.is(x, -0) ? '-0' : x))),
          ).sort();
        // Every row moved, to its side, with its bits (−0 included); nothing outside [from, to) written.
        expect(got(from, mid)).toEqual(left.sort());
        expect(got(mid, to)).toEqual(right.sort());
        for (let c = 0; c < d; c++) {
          for (let i = 0; i < psi; i++) {
            if (i < from || i >= to) expect(dst[c * psi + i]).toBeNaN();
          }
        }
      }
    });
  }
});

describe('TreeBuilder with the narrow scans', () => {
  for (let d = 1; d <= NARROW_MAX_D; d++) {
    for (const e of new Set([0, Math.min(1, d - 1), d - 1])) {
      it(`builds the same trees as the indexed JS scans (d = ${d}, e = ${e})`, () => {
        const psi = 256;
        const narrow = new TreeBuilder(d, e, 8, psi, 'exact');
        const js = new TreeBuilder(d, e, 8, psi, 'exact', false);
        for (let t = 0; t < 6; t++) {
          // Every other tree holds many duplicate rows (r mod 40), so nodes of one repeated point occur.
          for (let r = 0; r < psi; r++) {
            for (let c = 0; c < d; c++) {
              const x = value(t % 2 ? r % 40 : r + 300 * t, c);
              narrow.sample.z[r * narrow.sample.rowStride + c * narrow.sample.colStride] = x;
              js.sample.z[r * js.sample.rowStride + c * js.sample.colStride] = x;
            }
          }
          const a = narrow.build(new TreeRng(5, t, SPLIT_STREAM));
          const b = js.build(new TreeRng(5, t, SPLIT_STREAM));
          expect(a.nodeCount).toBeGreaterThan(20);
          expect(Array.from(a.right)).toEqual(Array.from(b.right));
          expect(Buffer.from(a.value.buffer).equals(Buffer.from(b.value.buffer))).toBe(true);
          expect(Buffer.from(a.coef.buffer).equals(Buffer.from(b.coef.buffer))).toBe(true);
          expect(a.index ? Array.from(a.index) : null).toEqual(b.index ? Array.from(b.index) : null);
        }
      });
    }
  }
});
