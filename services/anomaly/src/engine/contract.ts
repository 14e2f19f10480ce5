// The engine's public contract, fixed first so the worker pool and API can be written beside the engine.
// The implementation lives in the sibling modules and is re-exported from ./index.ts.

/** A dense row-major matrix of float64 features. */
export interface Matrix {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/** User-facing forest parameters (validated by the engine; see errors.ts). */
export interface ForestParams {
  /** Number of trees, default 100. */
  ntrees: number;
  /** Subsample size ψ, default 256; clamped to the row count (the effective value is recorded). */
  sampleSize: number;
  /** Extension level e in 0..d−1; 0 = axis-parallel cuts, d−1 = fully extended. */
  extensionLevel: number;
  /** Seed; tree i is a pure function of (seed, i). */
  seed: number;
  /** Standardise features (default: true when extensionLevel > 0). */
  standardize?: boolean;
  /** "exact" harmonic c(n) (default) or the reference implementation's ln-approximation. */
  compat?: 'exact' | 'reference';
}

/** Per-feature standardisation stats; identity (mean 0, std 1) when standardisation is off. */
export interface FeatureStats {
  readonly mean: Float64Array;
  readonly std: Float64Array;
}

/** The resolved parameters a model was built with. */
export interface ResolvedParams {
  readonly ntrees: number;
  readonly sampleSize: number; // effective ψ after clamping
  readonly requestedSampleSize: number;
  readonly extensionLevel: number;
  readonly seed: number;
  readonly standardize: boolean;
  readonly compat: 'exact' | 'reference';
  readonly dims: number;
  readonly heightLimit: number;
}

/** A contiguous range of built trees [start, end), serialisable on its own (what a worker returns). */
export interface TreeBlock {
  readonly start: number;
  readonly end: number;
  /** Opaque, versioned encoding of the trees in the block. */
  readonly bytes: Uint8Array;
}

/**
 * Engine functions every consumer may rely on (implemented in ./forest.ts, ./model.ts, ./score.ts):
 *
 *   resolveParams(params: ForestParams, data: Matrix): ResolvedParams       // throws EngineError
 *   computeStats(data: Matrix, resolved: ResolvedParams): FeatureStats
 *   buildTreeBlock(data: Matrix, stats: FeatureStats, resolved: ResolvedParams,
 *                  start: number, end: number): TreeBlock                   // pure in (data, seed, i)
 *   assembleModel(resolved: ResolvedParams, stats: FeatureStats, blocks: TreeBlock[]): Model
 *   fit(data: Matrix, params: ForestParams): Model                          // in-process, all trees
 *   encodeModel(model: Model): Uint8Array;  decodeModel(bytes: Uint8Array): Model
 *   modelId(model: Model): string                                            // content hash (sha256 hex)
 *   score(model: Model, data: Matrix, out?: Float64Array): Float64Array     // one score per row
 *   thresholdFor(model: Model, scores: Float64Array, contamination: number): number
 *
 * `Model` is declared in ./model.ts.
 */
export type EngineContract = never;
