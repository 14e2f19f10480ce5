// Unit test for the assemble step's size guard: a model larger than scoring can load is never handed back.

import { describe, expect, it } from 'vitest';
import { EngineError, encodeModel, fit, plantedGaussian } from '../engine/index.js';
import { Computer } from './compute.js';

describe('Computer assemble', () => {
  it('refuses a model over the loadable size with ModelTooLarge, and assembles one at the limit', () => {
    const x = plantedGaussian(500, 4, { seed: 2 }).x;
    const params = { ntrees: 10, sampleSize: 64, extensionLevel: 3, seed: 1 };
    const size = encodeModel(fit(x, params)).length;
    const run = (limit: number): unknown => {
      const c = new Computer(limit);
      const b = c.run({ op: 'build', data: x.data, cols: 4, params, start: 0, end: 10 });
      if (b.op !== 'build') throw new Error(b.op);
      const blocks = [{ start: 0, end: 10, bytes: b.bytes }];
      return c.run({ op: 'assemble', data: x.data, cols: 4, params, blocks, contamination: null });
    };
    expect(run(size)).toMatchObject({ op: 'assemble' });
    let err: unknown;
    try {
      run(size - 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('ModelTooLarge');
    expect((err as EngineError).message).toContain(`${size} bytes, over the ${size - 1}-byte limit`);
  });
});
