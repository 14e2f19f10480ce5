// The engine's public surface: everything the worker pool and the API may use (see ./contract.ts).

export type {
  EngineContract,
  FeatureStats,
  ForestParams,
  Matrix,
  ResolvedParams,
  TreeBlock,
} from './contract.js';
export { EngineError, type EngineErrorCode, type EngineErrorDetail } from './errors.js';
export { cExact, cFactor, cReference, harmonic } from './cn.js';
export {
  computeStats,
  DEFAULT_NTREES,
  DEFAULT_SAMPLE_SIZE,
  heightLimitFor,
  identityStats,
  MAX_DIMS,
  MAX_SAMPLE_SIZE,
  MAX_TREES,
  resolveParams,
  validateFinite,
  validateShape,
} from './params.js';
export { buildTreeBlock, fit, treeSampleIndices } from './forest.js';
export {
  assembleModel,
  decodeModel,
  DEFAULT_MAX_MODEL_BYTES,
  type DecodeOptions,
  decodeTreeBlock,
  encodeModel,
  FORMAT_VERSION,
  modelId,
  type Forest,
  type Model,
} from './model.js';
export {
  classify,
  pathLengthSums,
  resolveThreshold,
  score,
  thresholdFor,
  type ThresholdSpec,
} from './score.js';
export { auroc } from './metrics.js';
export { plantedGaussian, type PlantedData } from './fixtures.js';
