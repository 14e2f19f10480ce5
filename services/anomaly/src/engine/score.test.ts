// Scoring: generated kernels agree with loop kernels bit for bit, chunking never changes a score, the
// formula 2^(−E[h]/c(ψ)) holds against an independent walk, and thresholds and input errors behave.

import { describe, expect, it } from 'vitest';
import { cExact } from './cn.js';
import { EngineError } from './errors.js';
import { plantedGaussian } from './fixtures.js';
import { fit } from './forest.js';
import { kernelFor, loopKernels } from './kernels.js';
import type { Model } from './model.js';
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

/** An independent recursive walk over the flat arrays, written from the spec, not from the kernels. */
function naivePath(m: Model, row: Float64Array, node: number, depth: number): number {
  const { right, value, coef, index, k } = m.forest;
  const rc = right[node] ?? -1;
  if (rc < 0) return value[node] ?? 0;
  let dot = 0;
  for (let j = 0; j < k; j++)
    dot += (row[index ? (index[node * k + j] ?? 0) : j] ?? 0) * (coef[node * k + j] ?? 0);
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
            ? loopKernels.dense(d)
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
