// Parameter resolution and input validation: one test per error, each checking code and location.

import { describe, expect, it } from 'vitest';
import type { ForestParams, Matrix } from './contract.js';
import { EngineError } from './errors.js';
import { fit } from './forest.js';
import { plantedGaussian } from './fixtures.js';
import { computeStats, heightLimitFor, resolveParams } from './params.js';

const data = plantedGaussian(300, 4).x;
const ok: ForestParams = { ntrees: 10, sampleSize: 64, extensionLevel: 1, seed: 7 };

function errorOf(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
  throw new Error('expected an EngineError');
}

describe('resolveParams', () => {
  it('resolves defaults: standardise iff e > 0, exact c(n), height limit ceil(log2 ψ)', () => {
    const r = resolveParams(ok, data);
    expect(r).toEqual({
      ntrees: 10,
      sampleSize: 64,
      requestedSampleSize: 64,
      extensionLevel: 1,
      seed: 7,
      standardize: true,
      compat: 'exact',
      dims: 4,
      heightLimit: 6,
    });
    expect(resolveParams({ ...ok, extensionLevel: 0 }, data).standardize).toBe(false);
    expect(resolveParams({ ...ok, extensionLevel: 3, standardize: false }, data).standardize).toBe(false);
    expect(heightLimitFor(256)).toBe(8);
    expect(heightLimitFor(257)).toBe(9);
    expect(heightLimitFor(2)).toBe(1);
    expect(heightLimitFor(3)).toBe(2);
  });

  it('clamps a huge ψ to n before applying the ψ limit', () => {
    expect(resolveParams({ ...ok, sampleSize: 2 ** 31 }, data).sampleSize).toBe(300);
  });

  it('clamps ψ > n to n and records both', () => {
    const r = resolveParams({ ...ok, sampleSize: 1000 }, data);
    expect(r.sampleSize).toBe(300);
    expect(r.requestedSampleSize).toBe(1000);
    expect(r.heightLimit).toBe(9);
    const model = fit(data, { ...ok, sampleSize: 1000 });
    expect(model.params.sampleSize).toBe(300);
  });

  const cases: [string, Partial<ForestParams> | Record<string, unknown>, string, string][] = [
    ['e ≥ d', { extensionLevel: 4 }, 'ExtensionLevelOutOfRange', 'extensionLevel'],
    ['e < 0', { extensionLevel: -1 }, 'ExtensionLevelOutOfRange', 'extensionLevel'],
    ['non-integer e', { extensionLevel: 1.5 }, 'InvalidParameter', 'extensionLevel'],
    ['ψ < 2', { sampleSize: 1 }, 'SampleSizeTooSmall', 'sampleSize'],
    ['non-integer ψ', { sampleSize: 12.5 }, 'InvalidParameter', 'sampleSize'],
    ['ψ beyond u32', { sampleSize: 2 ** 32 }, 'InvalidParameter', 'sampleSize'],
    ['ntrees < 1', { ntrees: 0 }, 'InvalidTreeCount', 'ntrees'],
    ['non-integer ntrees', { ntrees: 2.5 }, 'InvalidParameter', 'ntrees'],
    ['NaN ntrees', { ntrees: Number.NaN }, 'InvalidParameter', 'ntrees'],
    ['string ntrees', { ntrees: '10' }, 'InvalidParameter', 'ntrees'],
    ['non-integer seed', { seed: 0.5 }, 'InvalidParameter', 'seed'],
    ['unsafe seed', { seed: 2 ** 60 }, 'InvalidParameter', 'seed'],
    ['bad compat', { compat: 'fast' }, 'InvalidParameter', 'compat'],
    ['bad standardize', { standardize: 'yes' }, 'InvalidParameter', 'standardize'],
  ];
  for (const [name, patch, code, field] of cases) {
    it(`rejects ${name} with ${code} on ${field}`, () => {
      const err = errorOf(() => resolveParams({ ...ok, ...patch }, data));
      expect(err.code).toBe(code);
      expect(err.field).toBe(field);
      expect(err.message).toContain(field);
    });
  }

  it('rejects missing parameters and missing fields', () => {
    expect(errorOf(() => resolveParams(null as unknown as ForestParams, data))).toMatchObject({
      code: 'InvalidParameter',
      field: 'params',
    });
    const { seed: _seed, ...noSeed } = ok;
    expect(errorOf(() => resolveParams(noSeed as ForestParams, data)).field).toBe('seed');
  });

  it('rejects NaN and Infinity naming the row and column', () => {
    const d = Float64Array.from(data.data);
    d[17 * 4 + 2] = Number.NaN;
    let err = errorOf(() => resolveParams(ok, { data: d, rows: 300, cols: 4 }));
    expect(err).toMatchObject({ code: 'NonFiniteValue', row: 17, col: 2, field: 'data' });
    expect(err.message).toContain('row 17, column 2');
    d[17 * 4 + 2] = 0;
    d[299 * 4 + 3] = -Infinity;
    err = errorOf(() => fit({ data: d, rows: 300, cols: 4 }, ok));
    expect(err).toMatchObject({ code: 'NonFiniteValue', row: 299, col: 3 });
  });

  it('rejects empty data, a single row and an inconsistent matrix', () => {
    expect(errorOf(() => resolveParams(ok, { data: new Float64Array(0), rows: 0, cols: 4 })).code).toBe(
      'EmptyData',
    );
    expect(errorOf(() => resolveParams(ok, { data: new Float64Array(0), rows: 5, cols: 0 })).code).toBe(
      'EmptyData',
    );
    expect(
      errorOf(() =>
        resolveParams({ ...ok, extensionLevel: 0 }, { data: new Float64Array(4), rows: 1, cols: 4 }),
      ).code,
    ).toBe('TooFewRows');
    const bad = { data: new Float64Array(10), rows: 3, cols: 4 } as Matrix;
    expect(errorOf(() => resolveParams(ok, bad)).code).toBe('InvalidMatrix');
  });
});

describe('computeStats', () => {
  it('computes mean and population std, with std 1 for constant features and identity when off', () => {
    const m: Matrix = { data: Float64Array.from([1, 5, 3, 5, 5, 5, 7, 5]), rows: 4, cols: 2 };
    const r = resolveParams({ ntrees: 1, sampleSize: 4, extensionLevel: 1, seed: 1 }, m);
    const s = computeStats(m, r);
    expect(Array.from(s.mean)).toEqual([4, 5]);
    expect(s.std[0]).toBeCloseTo(Math.sqrt(5), 14);
    expect(s.std[1]).toBe(1);
    const off = computeStats(m, { ...r, standardize: false });
    expect(Array.from(off.mean)).toEqual([0, 0]);
    expect(Array.from(off.std)).toEqual([1, 1]);
  });
});

describe('computeStats summation order', () => {
  // The stats' bits are part of the model id: every width must sum each column over rows in order, as the
  // row-major loop does (narrow widths take a column-pair path).
  it('equals an in-order row-major sum bit for bit at widths 1 to 12', () => {
    for (let d = 1; d <= 12; d++) {
      const rows = 257;
      const v = Float64Array.from({ length: rows * d }, (_, q) => {
        const x = Math.sin(q * 12.9898) * 43758.5453;
        return (x - Math.floor(x) - 0.5) * 10 ** (q % 9) + (q % 5 === 0 ? 1e15 : 0);
      });
      const x: Matrix = { data: v, rows, cols: d };
      const stats = computeStats(
        x,
        resolveParams({ ...ok, sampleSize: 16, extensionLevel: 0, standardize: true }, x),
      );
      for (let k = 0; k < d; k++) {
        let sum = 0;
        for (let r = 0; r < rows; r++) sum += v[r * d + k]!;
        const mean = sum / rows;
        let ss = 0;
        for (let r = 0; r < rows; r++) {
          const dev = v[r * d + k]! - mean;
          ss += dev * dev;
        }
        expect(Object.is(stats.mean[k], mean), `mean, d = ${d}, column ${k}`).toBe(true);
        expect(Object.is(stats.std[k], Math.sqrt(ss / rows)), `std, d = ${d}, column ${k}`).toBe(true);
      }
    }
  });
});
