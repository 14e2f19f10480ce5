// The planner of a CutoutJob's positions (services/cutout-runner/src/cutout/plan.ts), imported as a workspace
// dependency so that the operator (inline and ConfigMap positions) and the runner's `plan` command (a QueryJob's
// result) shard with one implementation; this file only maps the CRD's fields onto its inputs.
import {
  sizeOf,
  type CollectionLimits,
  type CutoutJobSpec,
  type TileFootprint,
} from '../../api/v1alpha1/index.js';
import { planPositions, type Plan } from '@skyport/cutout-runner/plan';
import type { TableRecord } from '@skyport/cutout-runner/positions';
import type { Limits } from './positions.js';

export * from '@skyport/cutout-runner/plan';

/** The runner's limits from a collection's. */
export function runnerLimits(l: CollectionLimits): Limits {
  return {
    minArcmin: l.minSizeArcmin,
    maxArcmin: l.maxSizeArcmin,
    maxPixels: l.maxSizePixels,
    maxPositions: l.maxPositions,
  };
}

/** Inputs of {@link planShards}, in the CRD's terms. */
export interface PlanShardsInput {
  /** Positions CSV, or the planner's records (ID positions mapped through their lookup). */
  readonly csv: string | readonly TableRecord[];
  readonly spec: Pick<CutoutJobSpec, 'size' | 'parallelism'>;
  readonly limits: CollectionLimits;
  /** The collection's footprints; undefined when its index was too large to pass on (shard by input order). */
  readonly footprints: readonly TileFootprint[] | undefined;
}

/** {@link planPositions} with a job's size and shards and a collection's limits. */
export function planShards(input: PlanShardsInput): Plan {
  const size = sizeOf(input.spec);
  return planPositions({
    csv: input.csv,
    size: { x: size.x, y: size.y, unit: size.unit, shape: size.shape },
    shards: input.spec.parallelism.shards,
    limits: runnerLimits(input.limits),
    footprints: input.footprints,
  });
}
