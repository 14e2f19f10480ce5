// Unit tests for the projected model size: exact given the node count, and an estimate the real encoded size of
// fitted models stays within (uniform data: −30 % … +15 %; clustered data: below it).

import { describe, expect, it } from 'vitest';
import type { Matrix } from './contract.js';
import { plantedGaussian } from './fixtures.js';
import { fit } from './forest.js';
import { DEFAULT_MAX_MODEL_BYTES, encodeModel, type Model } from './model.js';
import { SPLIT_STREAM, TreeRng } from './rng.js';
import { encodedModelBytes, expectedInternalNodes, projectedModelBytes, type ModelShape } from './size.js';

function uniform(rows: number, cols: number, seed: number): Matrix {
  const rng = new TreeRng(seed, 7, SPLIT_STREAM);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.nextDouble();
  return { data, rows, cols };
}

function shapeOf(m: Model): ModelShape {
  const p = m.params;
  return {
    ntrees: p.ntrees,
    dims: p.dims,
    extensionLevel: p.extensionLevel,
    sampleSize: p.sampleSize,
    standardize: p.standardize,
  };
}

const internal = (m: Model): number => m.forest.right.filter((r) => r >= 0).length;

// [d, e, ψ, rows]: axis-parallel, sparse and dense extended layouts, ψ clamped to the rows, standardised or not.
const CASES: [number, number, number, number][] = [
  [1, 0, 256, 2000],
  [3, 0, 256, 2000],
  [10, 4, 64, 1000],
  [10, 9, 256, 2000],
  [36, 35, 256, 1000],
  [5, 4, 1024, 3000],
  [8, 7, 256, 200],
];

describe('model size', () => {
  it.each(CASES)('is exact given the node count (d %i, e %i, ψ %i, %i rows)', (d, e, psi, rows) => {
    const m = fit(plantedGaussian(rows, d, { seed: d + e }).x, {
      ntrees: 12,
      sampleSize: psi,
      extensionLevel: e,
      seed: 3,
    });
    expect(encodedModelBytes(shapeOf(m), internal(m))).toBe(encodeModel(m).length);
  });

  it.each(CASES)(
    'projects uniform data within −30 % … +15 % (d %i, e %i, ψ %i, %i rows)',
    (d, e, psi, rows) => {
      const m = fit(uniform(rows, d, d * 31 + e), {
        ntrees: 40,
        sampleSize: psi,
        extensionLevel: e,
        seed: 5,
      });
      const ratio = encodeModel(m).length / projectedModelBytes(shapeOf(m));
      expect(ratio).toBeGreaterThan(0.7);
      expect(ratio).toBeLessThan(1.15);
    },
  );

  it.each(CASES)(
    'projects clustered (Gaussian) data above its real size (d %i, e %i, ψ %i, %i rows)',
    (d, e, psi, rows) => {
      const m = fit(plantedGaussian(rows, d, { seed: 11 }).x, {
        ntrees: 40,
        sampleSize: psi,
        extensionLevel: e,
        seed: 5,
      });
      expect(encodeModel(m).length).toBeLessThan(projectedModelBytes(shapeOf(m)) * 1.05);
    },
  );

  it('has the expected node count of the smallest trees exactly', () => {
    expect(expectedInternalNodes(2)).toBe(1);
    expect(expectedInternalNodes(3)).toBe(2); // height limit 2: the root, then the side with two points
    // Height limit 2; splits 1|3, 2|2 and 3|1 equally likely, with 1, 2 and 1 internal children.
    expect(expectedInternalNodes(4)).toBeCloseTo(1 + 4 / 3, 12);
  });

  it('projects the issue’s 1,500 trees × d 100 × e 99 (92 MB built) over the decode limit', () => {
    const shape = { ntrees: 1500, dims: 100, extensionLevel: 99, sampleSize: 256, standardize: true };
    expect(projectedModelBytes(shape)).toBeGreaterThan(DEFAULT_MAX_MODEL_BYTES);
    expect(projectedModelBytes({ ...shape, ntrees: 500 })).toBeLessThan(DEFAULT_MAX_MODEL_BYTES);
  });
});
