// The wasm builder scans against the JS ones: the same box (bit for bit, including which zero a tie keeps),
// the same partition, and so the same trees from TreeBuilder with and without them.

import { describe, expect, it } from 'vitest';
import { denseScans } from './build-scans.js';
import { EngineError } from './errors.js';
import { buildTreeBlock } from './forest.js';
import { resolveParams } from './params.js';
import { SPLIT_STREAM, TreeRng } from './rng.js';
import { blockedDot } from './simd.js';
import { TreeBuilder } from './tree.js';

/** A sample with repeated values, both zeros and a wide spread, so ties and signs matter. */
function value(r: number, c: number): number {
  const x = Math.sin(r * 12.9898 + c * 78.233) * 43758.5453;
  const f = x - Math.floor(x);
  if (f < 0.1) return 0;
  if (f < 0.2) return -0;
  // Every third column is non-negative, so its minimum is a zero of either sign.
  if (c % 3 === 0) return f;
  if (f < 0.3) return 1.5;
  return (f - 0.5) * 10 ** ((r + c) % 7);
}

describe('denseScans', () => {
  for (const d of [6, 13, 100]) {
    it(`bbox and partition equal the JS scans bit for bit (d = ${d})`, () => {
      const psi = 64;
      const s = denseScans(d, psi);
      expect(s).not.toBeNull();
      if (!s) return;
      for (let r = 0; r < psi; r++) for (let c = 0; c < d; c++) s.z[r * s.dp + c] = value(r, c);
      for (let i = 0; i < psi; i++) s.idx[i] = (i * 37) % psi;
      const coef = new Float64Array(d);
      for (let c = 0; c < d; c++) {
        coef[c] = value(c + 1000, 3) || 0.25;
        s.coef[c] = coef[c]!;
      }
      for (const [from, to] of [
        [0, psi],
        [5, 6],
        [3, 40],
      ] as const) {
        s.bbox(from, to);
        for (let c = 0; c < d; c++) {
          let mn = Infinity;
          let mx = -Infinity;
          for (let i = from; i < to; i++) {
            const x = s.z[s.idx[i]! * s.dp + c]!;
            mn = x < mn ? x : mn;
            mx = x > mx ? x : mx;
          }
          expect(Object.is(s.lo[c], mn), `lo[${c}] over [${from}, ${to})`).toBe(true);
          expect(Object.is(s.hi[c], mx), `hi[${c}] over [${from}, ${to})`).toBe(true);
        }
        const pn = blockedDot(s.z, s.idx[from]! * s.dp, 1, coef, 0, d);
        const want = Int32Array.from(s.idx);
        let i = from;
        let j = to - 1;
        while (i <= j) {
          if (blockedDot(s.z, want[i]! * s.dp, 1, coef, 0, d) < pn) i++;
          else {
            const t = want[i]!;
            want[i] = want[j]!;
            want[j] = t;
            j--;
          }
        }
        expect(s.partition(from, to, pn)).toBe(i);
        expect(Array.from(s.idx)).toEqual(Array.from(want));
      }
    });
  }
});

describe('TreeBuilder with the wasm scans', () => {
  it('builds the same trees as with the JS scans (d = 36, ψ = 256)', () => {
    const d = 36;
    const psi = 256;
    const wasm = new TreeBuilder(d, d - 1, 8, psi, 'exact');
    const js = new TreeBuilder(d, d - 1, 8, psi, 'exact', false);
    expect(wasm.sample.rowStride).toBe(40);
    expect(js.sample.colStride).toBe(psi);
    for (let t = 0; t < 5; t++) {
      for (let r = 0; r < psi; r++) {
        for (let c = 0; c < d; c++) {
          const x = value(r + 300 * t, c);
          wasm.sample.z[r * wasm.sample.rowStride + c * wasm.sample.colStride] = x;
          js.sample.z[r * js.sample.rowStride + c * js.sample.colStride] = x;
        }
      }
      const a = wasm.build(new TreeRng(7, t, SPLIT_STREAM));
      const b = js.build(new TreeRng(7, t, SPLIT_STREAM));
      expect(a.nodeCount).toBeGreaterThan(20);
      expect(Array.from(a.right)).toEqual(Array.from(b.right));
      expect(Buffer.from(a.value.buffer).equals(Buffer.from(b.value.buffer))).toBe(true);
      expect(Buffer.from(a.coef.buffer).equals(Buffer.from(b.coef.buffer))).toBe(true);
    }
  });
});

describe('denseScans.standardize', () => {
  it('computes the JS expression bit for bit and flags a value that overflows', () => {
    const d = 11;
    const rows = 20;
    const s = denseScans(d, rows);
    expect(s).not.toBeNull();
    if (!s) return;
    const mean = Float64Array.from({ length: d }, (_, c) => value(c, 500));
    const std = Float64Array.from({ length: d }, (_, c) => Math.abs(value(c, 501)) + 0.1);
    const raw = Float64Array.from({ length: rows * d }, (_, q) => value(Math.floor(q / d), q % d));
    const load = (): void => {
      for (let r = 0; r < rows; r++) for (let c = 0; c < d; c++) s.z[r * s.dp + c] = raw[r * d + c]!;
    };
    s.setStats(mean, std);
    load();
    expect(s.standardize(rows)).toBe(true);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < s.dp; c++) {
        const want = c < d ? (raw[r * d + c]! - mean[c]!) / std[c]! : 0;
        expect(Object.is(s.z[r * s.dp + c], want), `row ${r}, column ${c}`).toBe(true);
      }
    }
    s.setStats(null, null);
    load();
    expect(s.standardize(rows)).toBe(true);
    for (let q = 0; q < rows * d; q++) {
      expect(Object.is(s.z[Math.floor(q / d) * s.dp + (q % d)], raw[q])).toBe(true);
    }
    // Finite input, infinite once standardised: only the sample check can see it.
    std[4] = 1e-300;
    s.setStats(mean, std);
    load();
    s.z[7 * s.dp + 4] = 1e300;
    expect(s.standardize(rows)).toBe(false);
  });

  it('a fit on the wasm path names the row and column that overflowed', () => {
    const d = 8;
    const rows = 40;
    const data = Float64Array.from({ length: rows * d }, (_, q) => value(Math.floor(q / d), q % d) % 7);
    data[13 * d + 5] = 1e300;
    const x = { data, rows, cols: d };
    const resolved = resolveParams({ ntrees: 3, sampleSize: rows, extensionLevel: d - 1, seed: 3 }, x);
    const mean = new Float64Array(d);
    const std = new Float64Array(d).fill(1);
    std[5] = 1e-300;
    let err: unknown = null;
    try {
      buildTreeBlock(x, { mean, std }, resolved, 0, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ code: 'NonFiniteValue', row: 13, col: 5 });
  });
});
