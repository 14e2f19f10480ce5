// The CPU-bound operations of the pool as pure request → response functions; run inside worker_threads.

import {
  assembleModel,
  buildTreeBlock,
  computeStats,
  decodeModel,
  DEFAULT_MAX_MODEL_BYTES,
  encodeModel,
  EngineError,
  modelId,
  resolveParams,
  score,
  thresholdFor,
} from '../engine/index.js';
import type { ForestParams, Matrix, ResolvedParams, TreeBlock } from '../engine/contract.js';
import type { Model } from '../engine/index.js';

/** Build trees [start, end) of a forest from the full training matrix. */
export interface BuildRequest {
  readonly op: 'build';
  readonly data: Float64Array;
  readonly cols: number;
  readonly params: ForestParams;
  readonly start: number;
  readonly end: number;
}

/** Assemble tree blocks into a model and fix its threshold. */
export interface AssembleRequest {
  readonly op: 'assemble';
  readonly data: Float64Array;
  readonly cols: number;
  readonly params: ForestParams;
  readonly blocks: readonly { start: number; end: number; bytes: Uint8Array }[];
  /** Threshold = training-score quantile Q(1 − contamination) when set. */
  readonly contamination: number | null;
}

/** Score a chunk; `modelBytes` is only sent when the thread reported the model missing from its cache. */
export interface ScoreRequest {
  readonly op: 'score';
  readonly modelId: string;
  readonly modelBytes?: Uint8Array;
  readonly data: Float64Array;
  readonly cols: number;
  /** Points with score ≥ threshold are counted. */
  readonly threshold: number;
}

export type ComputeRequest = BuildRequest | AssembleRequest | ScoreRequest;

export interface BuildResponse {
  readonly op: 'build';
  readonly bytes: Uint8Array;
}
export interface AssembleResponse {
  readonly op: 'assemble';
  readonly modelBytes: Uint8Array;
  readonly modelId: string;
  readonly resolved: ResolvedParams;
  readonly threshold: number | null;
}
export interface ScoreResponse {
  readonly op: 'score';
  readonly scores: Float64Array;
  readonly flagged: number;
}
/** The thread does not hold the model; resend with `modelBytes`. The request's data comes back (moved, not copied). */
export interface MissingModelResponse {
  readonly op: 'missing-model';
  readonly data: Float64Array;
}
export type ComputeResponse = BuildResponse | AssembleResponse | ScoreResponse | MissingModelResponse;

const MODEL_CACHE = 8;

/** Executes compute requests; holds a small LRU of decoded models (one per thread). */
export class Computer {
  private readonly models = new Map<string, Model>();

  /** @param maxModelBytes largest model assembled (what decodeModel loads by default) */
  constructor(private readonly maxModelBytes = DEFAULT_MAX_MODEL_BYTES) {}

  run(req: ComputeRequest): ComputeResponse {
    switch (req.op) {
      case 'build':
        return this.build(req);
      case 'assemble':
        return this.assemble(req);
      case 'score':
        return this.score(req);
    }
  }

  private build(req: BuildRequest): BuildResponse {
    const m = matrix(req.data, req.cols);
    const resolved = resolveParams(req.params, m);
    const stats = computeStats(m, resolved);
    const block = buildTreeBlock(m, stats, resolved, req.start, req.end);
    return { op: 'build', bytes: block.bytes };
  }

  private assemble(req: AssembleRequest): AssembleResponse {
    const m = matrix(req.data, req.cols);
    const resolved = resolveParams(req.params, m);
    const stats = computeStats(m, resolved);
    const blocks: TreeBlock[] = req.blocks.map((b) => ({ start: b.start, end: b.end, bytes: b.bytes }));
    const model = assembleModel(resolved, stats, blocks);
    const modelBytes = encodeModel(model);
    // The request-time projection is an estimate: a model that came out larger than scoring can load is refused
    // here, so it is never stored.
    if (modelBytes.length > this.maxModelBytes)
      throw new EngineError(
        'ModelTooLarge',
        `the fitted model is ${modelBytes.length} bytes, over the ${this.maxModelBytes}-byte limit a model can be ` +
          'loaded with; fit fewer trees, a smaller ψ or a lower extension level',
        { field: 'params.ntrees' },
      );
    const id = modelId(model);
    let threshold: number | null = null;
    if (req.contamination !== null) threshold = thresholdFor(model, score(model, m), req.contamination);
    this.remember(id, model);
    return { op: 'assemble', modelBytes, modelId: id, resolved, threshold };
  }

  private score(req: ScoreRequest): ScoreResponse | MissingModelResponse {
    let model = this.models.get(req.modelId);
    if (model === undefined) {
      if (req.modelBytes === undefined) return { op: 'missing-model', data: req.data };
      model = decodeModel(req.modelBytes);
    }
    this.remember(req.modelId, model);
    const scores = score(model, matrix(req.data, req.cols));
    let flagged = 0;
    for (let i = 0; i < scores.length; i++) if ((scores[i] ?? 0) >= req.threshold) flagged++;
    return { op: 'score', scores, flagged };
  }

  private remember(id: string, model: Model): void {
    this.models.delete(id);
    this.models.set(id, model);
    while (this.models.size > MODEL_CACHE) {
      const oldest = this.models.keys().next();
      if (oldest.done) break;
      this.models.delete(oldest.value);
    }
  }
}

function matrix(data: Float64Array, cols: number): Matrix {
  return { data, cols, rows: cols === 0 ? 0 : data.length / cols };
}
