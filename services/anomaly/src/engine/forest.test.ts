// Forest building: partition-independent determinism, split layouts per extension level, accuracy on
// planted anomalies, standardisation, and block assembly errors.

import { describe, expect, it } from 'vitest';
import type { ForestParams } from './contract.js';
import { EngineError } from './errors.js';
import { plantedGaussian } from './fixtures.js';
import { buildTreeBlock, drawSample, fit, SampleTable, treeSampleIndices } from './forest.js';
import { auroc } from './metrics.js';
import { assembleModel, encodeModel, modelId, type Model } from './model.js';
import { computeStats, resolveParams } from './params.js';
import { SAMPLE_STREAM, TreeRng } from './rng.js';
import { score } from './score.js';

const planted = plantedGaussian(3000, 6, { fraction: 0.02, seed: 11 });
const params: ForestParams = { ntrees: 40, sampleSize: 128, extensionLevel: 2, seed: 99 };

function internalNodes(m: Model): number[] {
  const out: number[] = [];
  m.forest.right.forEach((r, i) => {
    if (r >= 0) out.push(i);
  });
  return out;
}

describe('partitioned building', () => {
  for (const e of [0, 2, 5]) {
    it(`gives bit-identical encodings for 1 block and 7 uneven, shuffled blocks (e = ${e})`, () => {
      const p = { ...params, extensionLevel: e };
      const resolved = resolveParams(p, planted.x);
      const stats = computeStats(planted.x, resolved);
      const whole = assembleModel(resolved, stats, [buildTreeBlock(planted.x, stats, resolved, 0, 40)]);
      const cuts = [0, 1, 2, 9, 10, 23, 24, 40];
      const blocks = cuts
        .slice(1)
        .map((end, i) => buildTreeBlock(planted.x, stats, resolved, cuts[i] ?? 0, end));
      expect(blocks).toHaveLength(7);
      const shuffled = [blocks[4], blocks[0], blocks[6], blocks[2], blocks[1], blocks[5], blocks[3]].filter(
        (b) => b !== undefined,
      );
      const parts = assembleModel(resolved, stats, shuffled);
      const direct = fit(planted.x, p);
      expect(Buffer.from(encodeModel(parts)).equals(Buffer.from(encodeModel(whole)))).toBe(true);
      expect(Buffer.from(encodeModel(direct)).equals(Buffer.from(encodeModel(whole)))).toBe(true);
      expect(modelId(parts)).toBe(modelId(direct));
    });
  }

  it('makes tree i depend on (seed, i) only: a different seed changes every tree', () => {
    const a = fit(planted.x, params);
    const b = fit(planted.x, { ...params, seed: 100 });
    expect(modelId(a)).not.toBe(modelId(b));
    const r = resolveParams(params, planted.x);
    const s0 = treeSampleIndices(r, planted.x.rows, 0);
    expect(new Set(s0).size).toBe(128); // without replacement
    expect(Array.from(treeSampleIndices(r, planted.x.rows, 0))).toEqual(Array.from(s0));
    expect(Array.from(treeSampleIndices(r, planted.x.rows, 1))).not.toEqual(Array.from(s0));
    for (const i of s0) expect(i >= 0 && i < planted.x.rows).toBe(true);
  });

  it('draws the same subsample whichever sampling variant (dense permutation or sparse map) runs', () => {
    for (const [n, psi] of [
      [10, 10],
      [400, 100],
      [5000, 7],
      [1_000_000, 256],
    ] as const) {
      const dense = new Int32Array(psi);
      const sparse = new Int32Array(psi);
      drawSample(n, psi, new TreeRng(1, n, SAMPLE_STREAM), dense, 'dense');
      drawSample(n, psi, new TreeRng(1, n, SAMPLE_STREAM), sparse, 'sparse');
      expect(Array.from(sparse)).toEqual(Array.from(dense));
      expect(new Set(dense).size).toBe(psi);
    }
  });

  it('draws the same subsamples with one reused SampleTable as with the dense permutation', () => {
    // n just above 4ψ makes r < ψ (the direct array) common, 10^6 exercises the hash table's probing.
    for (const n of [4 * 64 + 1, 1000, 1_000_000]) {
      const table = new SampleTable(64);
      for (let t = 0; t < 40; t++) {
        const dense = new Int32Array(64);
        const reused = new Int32Array(64);
        drawSample(n, 64, new TreeRng(3, t, SAMPLE_STREAM), dense, 'dense');
        drawSample(n, 64, new TreeRng(3, t, SAMPLE_STREAM), reused, 'sparse', table);
        expect(Array.from(reused)).toEqual(Array.from(dense));
      }
      expect(Array.from(table.keys).every((k) => k === -1)).toBe(true);
      expect(Array.from(table.low).every((k) => k === -1)).toBe(true);
    }
  });
});

describe('split layouts', () => {
  it('e = 0 uses only axis-parallel splits (one non-zero slope coordinate per node)', () => {
    const m = fit(planted.x, { ...params, extensionLevel: 0 });
    expect(m.forest.k).toBe(1);
    expect(m.forest.index).not.toBeNull();
    const used = new Array<number>(6).fill(0);
    for (const i of internalNodes(m)) {
      // Stored as a threshold: coefficient ±1 (see axis.ts), so "left iff ±x_f < t".
      expect(Math.abs(m.forest.coef[i] ?? 0)).toBe(1);
      const f = m.forest.index?.[i] ?? -1;
      expect(f >= 0 && f < 6).toBe(true);
      used[f] = (used[f] ?? 0) + 1;
    }
    // Axes are chosen uniformly: every feature is used, none dominates.
    const total = used.reduce((a, b) => a + b, 0);
    for (const u of used) expect(u / total).toBeGreaterThan(0.1);
  });

  it('0 < e < d − 1 keeps exactly e + 1 distinct ascending axes; e = d − 1 is dense', () => {
    const m = fit(planted.x, { ...params, extensionLevel: 2 });
    expect(m.forest.k).toBe(3);
    for (const i of internalNodes(m)) {
      const idx = Array.from(m.forest.index?.subarray(i * 3, i * 3 + 3) ?? []);
      expect(idx[0]! < idx[1]! && idx[1]! < idx[2]!).toBe(true);
      for (let j = 0; j < 3; j++) expect(m.forest.coef[i * 3 + j]).not.toBe(0);
    }
    const full = fit(planted.x, { ...params, extensionLevel: 5 });
    expect(full.forest.k).toBe(6);
    expect(full.forest.index).toBeNull();
    for (const i of internalNodes(full))
      for (let j = 0; j < 6; j++) expect(full.forest.coef[i * 6 + j]).not.toBe(0);
  });

  it('never grows a path beyond the height limit and stores depth + c(size) at leaves', () => {
    const m = fit(planted.x, { ...params, sampleSize: 64 });
    const { treeStart, right, value } = m.forest;
    for (let t = 0; t < m.params.ntrees; t++) {
      // Walk every root-to-leaf path, checking leaf value − depth is a valid c(size) ≥ 0 and depth ≤ 6.
      const stack: [number, number][] = [[treeStart[t] ?? 0, 0]];
      while (stack.length > 0) {
        const [node, depth] = stack.pop() ?? [0, 0];
        expect(depth).toBeLessThanOrEqual(6);
        const rc = right[node] ?? -1;
        if (rc < 0) {
          const extra = (value[node] ?? 0) - depth;
          expect(extra).toBeGreaterThanOrEqual(0);
          if (depth < 6) expect(extra).toBe(0); // above the limit a leaf holds 0 or 1 point: c = 0
          continue;
        }
        stack.push([node + 1, depth + 1], [rc, depth + 1]);
      }
    }
  });
});

describe('accuracy', () => {
  for (const e of [0, 2, 5]) {
    it(`scores planted anomalies above inliers (e = ${e}, AUROC > 0.99)`, () => {
      const m = fit(planted.x, { ...params, extensionLevel: e });
      const s = score(m, planted.x);
      expect(auroc(s, planted.y)).toBeGreaterThan(0.99);
      let a = 0;
      let b = 0;
      planted.y.forEach((y, i) => {
        if (y === 1) a += s[i] ?? 0;
        else b += s[i] ?? 0;
      });
      expect(a / 60).toBeGreaterThan(b / 2940 + 0.1);
    });
  }

  it('standardisation rescues full extension on unequally scaled features (research §1.4)', () => {
    // One column ×1000, anomalies shifted +4.5σ in a small-scale column.
    const d = 6;
    const base = plantedGaussian(6000, d, { fraction: 0, seed: 5, scale: [1000, 1, 1, 1, 1, 1] });
    const data = Float64Array.from(base.x.data);
    const y = new Uint8Array(6000);
    for (let r = 0; r < 120; r++) {
      y[r] = 1;
      data[r * d + 3] = (data[r * d + 3] ?? 0) + 4.5;
    }
    const x = { data, rows: 6000, cols: d };
    const p = { ntrees: 100, sampleSize: 256, extensionLevel: d - 1, seed: 1 };
    const on = auroc(score(fit(x, p), x), y);
    const off = auroc(score(fit(x, { ...p, standardize: false }), x), y);
    expect(on).toBeGreaterThan(0.95);
    expect(off).toBeLessThan(on - 0.2);
  });

  it('standardised models are invariant to per-feature affine rescaling (up to float error)', () => {
    const p = { ...params, extensionLevel: 5 };
    const scaled = Float64Array.from(planted.x.data, (v, i) => v * (i % 6 === 0 ? 250 : 0.01) + 17);
    const s1 = score(fit(planted.x, p), planted.x);
    const xs = { data: scaled, rows: planted.x.rows, cols: 6 };
    const s2 = score(fit(xs, p), xs);
    let close = 0;
    s1.forEach((v, i) => {
      if (Math.abs(v - (s2[i] ?? 0)) < 1e-9) close++;
    });
    expect(close / s1.length).toBeGreaterThan(0.99);
  });
});

describe('buildTreeBlock and assembleModel errors', () => {
  const resolved = resolveParams(params, planted.x);
  const stats = computeStats(planted.x, resolved);
  const b = (s: number, e: number) => buildTreeBlock(planted.x, stats, resolved, s, e);
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      if (e instanceof EngineError) return `${e.code}:${e.field ?? ''}`;
      throw e;
    }
    return 'none';
  };

  it('rejects bad tree ranges and mismatched data', () => {
    expect(code(() => b(5, 41))).toBe('InvalidParameter:range');
    expect(code(() => b(-1, 3))).toBe('InvalidParameter:range');
    expect(code(() => b(4, 3))).toBe('InvalidParameter:range');
    const narrow = plantedGaussian(300, 5).x;
    expect(code(() => buildTreeBlock(narrow, stats, resolved, 0, 1))).toBe('DimensionMismatch:data');
    expect(b(7, 7).bytes.length).toBeGreaterThan(0); // an empty block is valid
  });

  it('rejects gaps, overlaps, short coverage and blocks of another shape', () => {
    expect(code(() => assembleModel(resolved, stats, [b(0, 10), b(11, 40)]))).toBe('InvalidBlocks:blocks');
    expect(code(() => assembleModel(resolved, stats, [b(0, 20), b(10, 40)]))).toBe('InvalidBlocks:blocks');
    expect(code(() => assembleModel(resolved, stats, [b(0, 39)]))).toBe('InvalidBlocks:blocks');
    const other = resolveParams({ ...params, extensionLevel: 3 }, planted.x);
    const foreign = buildTreeBlock(planted.x, stats, other, 0, 40);
    expect(code(() => assembleModel(resolved, stats, [foreign]))).toBe('InvalidBlocks:blocks[0]');
    const lying = { ...b(0, 40), start: 1 };
    expect(code(() => assembleModel(resolved, stats, [lying]))).toBe('InvalidBlocks:blocks[0]');
    const badStats = { mean: new Float64Array(5), std: new Float64Array(5).fill(1) };
    expect(code(() => assembleModel(resolved, badStats, [b(0, 40)]))).toBe('DimensionMismatch:stats');
  });
});
