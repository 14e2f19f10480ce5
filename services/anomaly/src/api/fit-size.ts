// Fit requests whose model could not be loaded for scoring are refused up front, from the projected model size.

import { DEFAULT_MAX_MODEL_BYTES } from '../engine/index.js';
import { projectedModelBytes, type ModelShape } from '../engine/size.js';
import { HttpError } from './errors.js';

/**
 * Most trees a fit may ask for. At the default ψ = 256 and e = 0, 10,000 trees project to ~24 MB even with 4,096
 * standardised columns, within the 64 MiB every scoring path loads; larger ψ or e are held to that limit by
 * {@link checkFitSize}. (The engine's own cap, 100,000, is far beyond any loadable model.)
 */
export const MAX_FIT_TREES = 10_000;

/** Throws a 400 `ModelTooLarge` with the projected size, the limit and the most trees that fit, when over it. */
export function checkFitSize(shape: ModelShape, limit = DEFAULT_MAX_MODEL_BYTES): void {
  const projected = projectedModelBytes(shape);
  if (projected <= limit) return;
  const one = projectedModelBytes({ ...shape, ntrees: 1 });
  const perTree = projectedModelBytes({ ...shape, ntrees: 2 }) - one;
  const maxTrees = Math.max(0, Math.floor((limit - one) / perTree) + 1);
  throw new HttpError(
    400,
    'ModelTooLarge',
    `/params/ntrees: ${shape.ntrees} trees of ${shape.dims} columns at extension level ${shape.extensionLevel} and ` +
      `ψ ${shape.sampleSize} project to ${projected} bytes, over the ${limit}-byte limit a model can be loaded ` +
      `with; at most ${maxTrees} trees fit (or lower ψ or the extension level)`,
    { field: '/params/ntrees', projectedBytes: projected, limitBytes: limit, maxTrees },
  );
}
