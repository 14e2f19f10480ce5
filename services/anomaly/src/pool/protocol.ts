// The task protocol between the coordinator and the workers: BullMQ job payloads hold key names, never data.

import type { ForestParams } from '../engine/contract.js';

/** Build trees [start, end) of job `jobId` from dataset `datasetId`; output index `index`. */
export interface FitBlockTask {
  readonly kind: 'fit-block';
  readonly tenant: string;
  readonly jobId: string;
  readonly index: number;
  readonly datasetId: string;
  readonly params: ForestParams;
  readonly start: number;
  readonly end: number;
}

/** Fan-in of a fit: assemble every block, fix the threshold, store the model. */
export interface FitAssembleTask {
  readonly kind: 'fit-assemble';
  readonly tenant: string;
  readonly jobId: string;
  readonly datasetId: string;
  readonly params: ForestParams;
  /** Tree range of each block, by output index. */
  readonly partitions: readonly (readonly [number, number])[];
  readonly contamination: number | null;
  readonly threshold: number | null;
  readonly name: string;
}

/** Score dataset chunk `index` against model `modelId`. */
export interface ScoreChunkTask {
  readonly kind: 'score-chunk';
  readonly tenant: string;
  readonly jobId: string;
  readonly index: number;
  readonly datasetId: string;
  readonly modelId: string;
  readonly threshold: number;
  /** Model column of each dataset column (dataset and model name their columns in different orders). */
  readonly columnOrder?: readonly number[];
}

/** Reorders row-major rows so that dataset column c lands in column `order[c]`. */
export function reorderColumns(data: Float64Array, order: readonly number[]): Float64Array {
  const d = order.length;
  const out = new Float64Array(data.length);
  for (let o = 0; o < data.length; o += d)
    for (let c = 0; c < d; c++) out[o + (order[c] ?? c)] = data[o + c] ?? 0;
  return out;
}

/** Fan-in of a score job: check every chunk is done, total the flags, finish the job. */
export interface ScoreReduceTask {
  readonly kind: 'score-reduce';
  readonly tenant: string;
  readonly jobId: string;
  readonly datasetId: string;
  readonly modelId: string;
  readonly chunks: number;
  readonly rows: number;
  readonly threshold: number;
  /** Delete the input dataset when done (inputs uploaded with the score request). */
  readonly dropInput: boolean;
}

export type TaskData = FitBlockTask | FitAssembleTask | ScoreChunkTask | ScoreReduceTask;

/** Result stored on a completed fit job. */
export interface FitResult {
  readonly modelId: string;
  readonly version: number;
  readonly name: string;
}

/** Result stored on a completed score job. */
export interface ScoreResult {
  readonly modelId: string;
  readonly rows: number;
  readonly chunks: number;
  readonly threshold: number;
  readonly flagged: number;
}

/** Splits `ntrees` into at most `parts` contiguous, nearly equal ranges. */
export function treePartitions(ntrees: number, parts: number): [number, number][] {
  const p = Math.max(1, Math.min(parts, ntrees));
  const out: [number, number][] = [];
  for (let i = 0; i < p; i++) {
    const start = Math.floor((i * ntrees) / p);
    const end = Math.floor(((i + 1) * ntrees) / p);
    out.push([start, end]);
  }
  return out;
}

/** BullMQ job ids may not contain ':'; these are deterministic so a re-submitted flow is deduplicated. */
export function childJobId(jobId: string, index: number): string {
  return `${jobId}-t${index}`;
}
export function parentJobId(jobId: string): string {
  return `${jobId}-fanin`;
}
