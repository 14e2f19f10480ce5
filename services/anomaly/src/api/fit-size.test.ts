// Unit tests for the fit-time size check: the unloadable fit is refused with the numbers, and the tree
// maximum of the fit schema is consistent with the decode limit.

import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_MODEL_BYTES } from '../engine/index.js';
import { projectedModelBytes } from '../engine/size.js';
import { HttpError } from './errors.js';
import { checkFitSize, MAX_FIT_TREES } from './fit-size.js';
import { fitRequestSchema } from './schemas.js';

describe('checkFitSize', () => {
  it('refuses 1,500 trees × d 100 × e 99 with the projection, the limit and the most trees that fit', () => {
    const shape = { ntrees: 1500, dims: 100, extensionLevel: 99, sampleSize: 256, standardize: true };
    let err: unknown;
    try {
      checkFitSize(shape);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HttpError);
    const e = err as HttpError;
    expect([e.status, e.code, e.detail.field]).toEqual([400, 'ModelTooLarge', '/params/ntrees']);
    expect(e.detail['projectedBytes']).toBe(projectedModelBytes(shape));
    expect(e.detail['limitBytes']).toBe(DEFAULT_MAX_MODEL_BYTES);
    const maxTrees = e.detail['maxTrees'] as number;
    expect(projectedModelBytes({ ...shape, ntrees: maxTrees })).toBeLessThanOrEqual(DEFAULT_MAX_MODEL_BYTES);
    expect(projectedModelBytes({ ...shape, ntrees: maxTrees + 1 })).toBeGreaterThan(DEFAULT_MAX_MODEL_BYTES);
    expect(() => checkFitSize({ ...shape, ntrees: maxTrees })).not.toThrow();
  });

  it('lets the schema’s most trees through at the defaults, with the widest standardised data', () => {
    expect(fitRequestSchema.properties.params.properties.ntrees.maximum).toBe(MAX_FIT_TREES);
    const shape = {
      ntrees: MAX_FIT_TREES,
      dims: 4096,
      extensionLevel: 0,
      sampleSize: 256,
      standardize: true,
    };
    expect(() => checkFitSize(shape)).not.toThrow();
  });
});
