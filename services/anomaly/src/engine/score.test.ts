// Scoring: generated kernels agree with loop kernels bit for bit, chunking never changes a score, the
// formula 2^(−E[h]/c(ψ)) holds against an independent walk, and thresholds and input errors behave.

import { describe, expect, it } from 'vitest';
import { cExact } from './cn.js';
import { EngineError } from './errors.js';
import { plantedGaussian } from './fixtures.js';
import { fit } from './forest.js';
import { kernelFor, loopKernels } from './kernels.js';
import type { Forest, Model } from './model.js';
import { blockedDot } from './simd.js';
import { classify, pathLengthSums, resolveThreshold, score, thresholdFor } from './score.js';

const planted = plantedGaussian(5000, 7, { seed: 21 });
const models = new Map<number, Model>();
function model(e: number): Model {
  let m = models.get(e);
  if (!m) {
    m = fit(planted.x, { ntrees: 30, sampleSize: 256, extensionLevel: e, seed: 77, standardize: false });
    models.set(e, m);
  }
  return m;
}

/**
 * x·c as the spec orders it: left to right, or for dense layouts with k > 5 (scored in WebAssembly SIMD)
 * eight partial sums over j mod 8 combined as ((s0 + s2) + (s4 + s6)) + ((s1 + s3) + (s5 + s7)).
 */
function specDot(terms: number[], d: number): number {
  if (terms.length !== d || d <= 5) return terms.reduce((a, b) => a + b, 0);
  const s = [0, 0, 0, 0, 0, 0, 0, 0];
  terms.forEach((t, j) => (s[j % 8] = (s[j % 8] ?? 0) + t));
  const [s0, s1, s2, s3, s4, s5, s6, s7] = s as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return s0 + s2 + (s4 + s6) + (s1 + s3 + (s5 + s7));
}

/** An independent recursive walk over the flat arrays, written from the spec, not from the kernels. */
function naivePath(m: Model, row: Float64Array, node: number, depth: number): number {
  const { right, value, coef, index, k } = m.forest;
  const rc = right[node] ?? -1;
  if (rc < 0) return value[node] ?? 0;
  const terms: number[] = [];
  for (let j = 0; j < k; j++)
    terms.push((row[index ? (index[node * k + j] ?? 0) : j] ?? 0) * (coef[node * k + j] ?? 0));
  const dot = specDot(terms, row.length);
  return naivePath(m, row, dot < (value[node] ?? 0) ? node + 1 : rc, depth + 1);
}

function codeOf(fn: () => unknown): EngineError | null {
  try {
    fn();
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
  return null;
}

describe('score', () => {
  for (const e of [0, 3, 6]) {
    it(`matches an independent walk and the loop kernels bit for bit (e = ${e})`, () => {
      const m = model(e);
      const s = score(m, planted.x);
      const d = 7;
      for (const r of [0, 1, 17, 49, 2500, 4999]) {
        const row = planted.x.data.subarray(r * d, r * d + d);
        let sum = 0;
        for (let t = 0; t < 30; t++) sum += naivePath(m, row, m.forest.treeStart[t] ?? 0, 0);
        // Same tree order, same additions: the kernel's sum is bit-identical to the naive walk's.
        expect(s[r]).toBe(2 ** (sum * (-1 / (30 * m.cPsi))));
        expect(Math.abs((s[r] ?? 0) - 2 ** (-(sum / 30) / cExact(256)))).toBeLessThan(1e-12);
      }
      const loop =
        m.forest.k === 1
          ? loopKernels.axis(d)
          : m.forest.k === d
            ? loopKernels.blocked(d)
            : loopKernels.sparse(d, m.forest.k);
      const a = new Float64Array(5000);
      const b = new Float64Array(5000);
      kernelFor(d, m.forest.k)(m.forest, planted.x.data, 5000, a, 0, 30);
      loop(m.forest, planted.x.data, 5000, b, 0, 30);
      expect(Array.from(a)).toEqual(Array.from(b));
    });
  }

  it('falls back to the loop kernels for very wide models and still matches the independent walk', () => {
    const wide = plantedGaussian(400, 70, { seed: 2 });
    for (const e of [65, 69]) {
      const m = fit(wide.x, { ntrees: 5, sampleSize: 64, extensionLevel: e, seed: 3, standardize: false });
      const s = score(m, wide.x);
      for (const r of [0, 3, 399]) {
        const row = wide.x.data.subarray(r * 70, r * 70 + 70);
        let sum = 0;
        for (let t = 0; t < 5; t++) sum += naivePath(m, row, m.forest.treeStart[t] ?? 0, 0);
        expect(s[r]).toBe(2 ** (sum * (-1 / (5 * m.cPsi))));
      }
    }
  });

  for (const d of [6, 10, 36, 100]) {
    it(`scores dense d = ${d} in WebAssembly bit for bit as the JS blocked kernel and the spec walk`, () => {
      const data = plantedGaussian(2600, d, { seed: d });
      const m = fit(data.x, { ntrees: 12, sampleSize: 128, extensionLevel: d - 1, seed: 8 });
      const a = new Float64Array(2600);
      const b = new Float64Array(2600);
      // 2,600 rows: more than one 2,048-row trip through wasm memory.
      kernelFor(d, d)(m.forest, data.x.data, 2600, a, 0, 12);
      loopKernels.blocked(d)(m.forest, data.x.data, 2600, b, 0, 12);
      expect(Array.from(a)).toEqual(Array.from(b));
      for (const r of [0, 2047, 2048, 2599]) {
        let sum = 0;
        for (let t = 0; t < 12; t++)
          sum += naivePath(m, data.x.data.subarray(r * d, r * d + d), m.forest.treeStart[t] ?? 0, 0);
        expect(a[r]).toBe(sum);
      }
    });
  }

  for (const d of [2, 3, 10, 100]) {
    it(`scores e = 0 at d = ${d} in WebAssembly bit for bit as the JS axis kernel and the spec walk`, () => {
      const data = plantedGaussian(2603, d, { seed: 40 + d });
      const m = fit(data.x, { ntrees: 12, sampleSize: 128, extensionLevel: 0, seed: 9 });
      // 2,603 rows: two trips through wasm memory, and a last 3 rows outside the four-row lockstep.
      const a = new Float64Array(2603).fill(0.25);
      const b = new Float64Array(2603).fill(0.25);
      kernelFor(d, 1)(m.forest, data.x.data, 2603, a, 2, 11);
      loopKernels.axis(d)(m.forest, data.x.data, 2603, b, 2, 11);
      expect(Array.from(a)).toEqual(Array.from(b));
      for (const r of [0, 3, 2047, 2048, 2600, 2602]) {
        let sum = 0.25;
        for (let t = 2; t < 11; t++)
          sum += naivePath(m, data.x.data.subarray(r * d, r * d + d), m.forest.treeStart[t] ?? 0, 0);
        expect(a[r]).toBe(sum);
      }
    });
  }

  it('scores e = 0 splits the axis form could not express (x·c < v) and d = 1 in WebAssembly as specified', () => {
    // Tree 0 (d = 3): root splits on column 2 with slope −0.3 (kept as x·c < v), its right child on column 0
    // with sign −1 (−x < −1, i.e. x > 1). Leaves 10, 20, 30.
    const forest: Forest = {
      k: 1,
      treeStart: Int32Array.from([0, 5]),
      right: Int32Array.from([2, -1, 4, -1, -1]),
      value: Float64Array.from([0.3, 10, -1, 20, 30]),
      index: Uint16Array.from([2, 0, 0, 0, 0]),
      coef: Float64Array.from([-0.3, 0, -1, 0, 0]),
    };
    // Rows (x0, x1, x2): x2 = −2 → −0.3·−2 = 0.6 ≥ 0.3 → right; x0 = 2 → −2 < −1 → left (20).
    const x = Float64Array.from([2, 0, -2, 0.5, 0, -2, 0, 0, 0, 2, 9, -0.5, 7, 7, Number.NaN]);
    const acc = new Float64Array(5);
    kernelFor(3, 1)(forest, x, 5, acc, 0, 1);
    // Row 2: 0 < 0.3 → left (10). Row 3: −0.3·−0.5 = 0.15 < 0.3 → left. Row 4: NaN goes right, then −7 < −1 → 20.
    expect(Array.from(acc)).toEqual([20, 30, 10, 10, 20]);
    const ref = new Float64Array(5);
    loopKernels.axis(3)(forest, x, 5, ref, 0, 1);
    expect(Array.from(ref)).toEqual([20, 30, 10, 10, 20]);

    const one = plantedGaussian(3000, 1, { seed: 5 });
    const m = fit(one.x, { ntrees: 10, sampleSize: 64, extensionLevel: 0, seed: 2 });
    const s = new Float64Array(3000);
    kernelFor(1, 1)(m.forest, one.x.data, 3000, s, 0, 10);
    for (const r of [0, 1, 2999]) {
      let sum = 0;
      for (let t = 0; t < 10; t++)
        sum += naivePath(m, one.x.data.subarray(r, r + 1), m.forest.treeStart[t] ?? 0, 0);
      expect(s[r]).toBe(sum);
    }
  });

  it('takes dense wide splits with the blocked sum, where it differs from the left-to-right sum', () => {
    // One split at 0.5 over d = 8 with terms 1e16, 1, −1e16: left to right the 1 is lost (0 < 0.5, left);
    // blocked, s0 + s2 = 0 and s1 = 1, so the point goes right. Leaves: 10 left, 20 right.
    const d = 8;
    const coef = new Float64Array(3 * d);
    coef.set([1, 1, 1, 0, 0, 0, 0, 0]);
    const forest: Forest = {
      k: d,
      treeStart: Int32Array.from([0, 3]),
      right: Int32Array.from([2, -1, -1]),
      value: Float64Array.from([0.5, 10, 20]),
      index: null,
      coef,
    };
    const x = Float64Array.from([1e16, 1, -1e16, 0, 0, 0, 0, 0]);
    for (const kern of [kernelFor(d, d), loopKernels.blocked(d)]) {
      const acc = new Float64Array(1);
      kern(forest, x, 1, acc, 0, 1);
      expect(acc[0]).toBe(20);
    }
    expect(blockedDot(x, 0, 1, coef, 0, d)).toBe(1);
    const acc = new Float64Array(1);
    loopKernels.dense(d)(forest, x, 1, acc, 0, 1);
    expect(acc[0]).toBe(10);
  });

  it('gives identical scores however the rows are chunked', () => {
    const m = fit(planted.x, { ntrees: 30, sampleSize: 256, extensionLevel: 4, seed: 5 });
    const all = score(m, planted.x);
    for (const [from, to] of [
      [0, 1],
      [1, 2049],
      [2049, 4097],
      [4097, 5000],
    ] as const) {
      const part = score(m, { data: planted.x.data.slice(from * 7, to * 7), rows: to - from, cols: 7 });
      expect(Array.from(part)).toEqual(Array.from(all.subarray(from, to)));
    }
  });

  it('sums tree ranges to the whole (tree-partitioned scoring)', () => {
    const m = model(3);
    const whole = new Float64Array(100);
    const left = new Float64Array(100);
    const rightPart = new Float64Array(100);
    pathLengthSums(m, planted.x.data, 100, whole);
    pathLengthSums(m, planted.x.data, 100, left, 0, 13);
    pathLengthSums(m, planted.x.data, 100, rightPart, 13, 30);
    whole.forEach((v, i) => expect(Math.abs(v - (left[i] ?? 0) - (rightPart[i] ?? 0))).toBeLessThan(1e-9));
  });

  it('keeps scores in (0, 1) and ranks an extreme point above the centre', () => {
    const m = model(6);
    const s = score(m, planted.x);
    for (const v of s) expect(v > 0 && v < 1).toBe(true);
    const probe = score(m, {
      data: Float64Array.from([...new Array<number>(7).fill(0), ...new Array<number>(7).fill(8)]),
      rows: 2,
      cols: 7,
    });
    expect(probe[0]).toBeLessThan(0.5);
    expect(probe[1]).toBeGreaterThan(0.6);
  });

  it('writes into a caller buffer and rejects one that is too small', () => {
    const m = model(0);
    const out = new Float64Array(5000);
    expect(score(m, planted.x, out)).toBe(out);
    expect(codeOf(() => score(m, planted.x, new Float64Array(10)))?.code).toBe('InvalidParameter');
  });

  it('rejects the wrong width and non-finite values naming row and column', () => {
    const m = model(3);
    const err = codeOf(() => score(m, { data: new Float64Array(12), rows: 2, cols: 6 }));
    expect(err?.code).toBe('DimensionMismatch');
    expect(err?.message).toContain('6 columns');
    const bad = Float64Array.from(planted.x.data.subarray(0, 70));
    bad[3 * 7 + 5] = Number.POSITIVE_INFINITY;
    expect(codeOf(() => score(m, { data: bad, rows: 10, cols: 7 }))).toMatchObject({
      code: 'NonFiniteValue',
      row: 3,
      col: 5,
    });
    expect(codeOf(() => score(m, { data: new Float64Array(0), rows: 0, cols: 7 }))?.code).toBe('EmptyData');
  });
});

describe('thresholds', () => {
  const m = model(0);
  const scores = Float64Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 1000) / 1000);

  it('flags exactly the top contamination fraction', () => {
    const t = thresholdFor(m, scores, 0.01);
    expect(classify(scores, t).reduce((a, b) => a + b, 0)).toBe(10);
    expect(t).toBe(0.99);
    expect(classify(scores, thresholdFor(m, scores, 0.0001)).reduce((a, b) => a + b, 0)).toBe(1);
    expect(resolveThreshold(m, scores, { contamination: 0.05 })).toBe(0.95);
    expect(resolveThreshold(m, scores, { score: 0.6 })).toBe(0.6);
  });

  it('rejects bad contamination, bad fixed scores and empty score sets', () => {
    for (const c of [0, 1, -0.1, Number.NaN])
      expect(codeOf(() => thresholdFor(m, scores, c))?.code).toBe('InvalidContamination');
    expect(codeOf(() => thresholdFor(m, new Float64Array(0), 0.1))?.code).toBe('EmptyData');
    expect(codeOf(() => resolveThreshold(m, scores, { score: 1.5 }))?.field).toBe('threshold.score');
  });
});
