// The `plan` step of a CutoutJob whose positions come from a QueryJob (the operator never reads a volume, so a
// pod does): the result's RA/Dec/ID columns read (cutout/result.ts), planned by the same planner the operator runs
// for inline positions (cutout/plan.ts) with the collection's tile footprints from its index file, and written as
// the files the shards and the merge read — `shard-<i>.csv`, `rows-<i>`, `rejected.csv` — plus `plan.json`, the
// plan's counts, which are also the step's report (the pod's termination message, well under 4 KB: at most 64
// shard sizes). Files are written atomically and the plan is a pure function of its inputs, so a retried pod
// writes the same bytes. Positions by object ID (cutout/ids.ts): the result is the ID lookup's answer, and `ids`
// names the job's own positions, each row mapped back to its object by ID.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './fits/write.js';
import {
  planPositions,
  planRecordOf,
  settledCsv,
  type PlanRecord,
  type TileFootprint,
} from './cutout/plan.js';
import { foundObjects, idRecords, parseIdPositions } from './cutout/ids.js';
import type { Limits, Shape, SizeUnit, TableRecord } from './cutout/positions.js';
import { readResult, type ColumnMap } from './cutout/result.js';
import type { TileIndex } from './survey/tile-index.js';

/** What the `plan` command is given (one JSON argument, built by the operator). */
export interface PlanSpec {
  /** The result's files, in order (the QueryJob's `status.results` without its provenance manifest). */
  readonly inputs: readonly string[];
  readonly columns: ColumnMap;
  /** The collection's tile index (its footprints decide the shards). */
  readonly index: string;
  readonly size: { readonly x: number; readonly y: number; readonly unit: SizeUnit; readonly shape?: Shape };
  readonly shards: number;
  readonly limits: Limits;
  /** Where the plan's files go (created if need be). */
  readonly outputDir: string;
  /** Positions by object ID: `inputs` is the ID lookup's result (`columns` its RA, Dec and ID), these the rows. */
  readonly ids?: IdsSpec;
}

/** The job's ID positions and what was looked up (cutout/ids.ts `IdLookup`). */
export interface IdsSpec {
  /** The job's positions CSV (`COADD_OBJECT_ID[,XSIZE,YSIZE,COLORS_FITS]`). */
  readonly positionsFile: string;
  /** How many of its distinct IDs (the first ones) the lookup asked for. */
  readonly queried: number;
  /** Where they were looked up, for the reasons. */
  readonly where: string;
}

/** The planner's records: the result's rows, or for ID positions the job's rows mapped through the result. */
function planRecords(spec: PlanSpec): readonly TableRecord[] {
  const result = readResult(spec.inputs, spec.columns);
  if (spec.ids === undefined) return result;
  const parsed = parseIdPositions(readFileSync(spec.ids.positionsFile, 'utf8'), spec.limits);
  return idRecords(parsed, {
    found: foundObjects(result),
    queried: spec.ids.queried,
    where: spec.ids.where,
  });
}

/** The plan's report: its counts, versioned. */
export type PlanReport = PlanRecord & { readonly v: 1 };

/**
 * Every tile's footprint as the operator receives it from the indexing report: RA/Dec bounds rounded outwards to
 * 1e-5°, so that a position planned here goes to the same shard it would go to if the operator planned it.
 */
export function footprintsOf(index: TileIndex): TileFootprint[] {
  const down = (v: number): number => Math.floor(v * 1e5) / 1e5;
  const up = (v: number): number => Math.ceil(v * 1e5) / 1e5;
  return index.tiles.map((t) => {
    const f = t.footprint;
    return {
      tile: t.tile,
      raMin: down(f.raMin),
      raMax: up(f.raMax),
      decMin: down(f.decMin),
      decMax: up(f.decMax),
    };
  });
}

/** Plans a result into `spec.outputDir`; returns the report. Throws `ResultError` when the result is unusable. */
export function runPlan(spec: PlanSpec, readIndex: (path: string) => TileIndex): PlanReport {
  const records = planRecords(spec);
  const plan = planPositions({
    csv: records,
    size: spec.size,
    shards: spec.shards,
    limits: spec.limits,
    footprints: footprintsOf(readIndex(spec.index)),
  });
  mkdirSync(spec.outputDir, { recursive: true });
  plan.shards.forEach((s, i) => {
    writeFileAtomic(join(spec.outputDir, `shard-${i}.csv`), s.csv);
    writeFileAtomic(join(spec.outputDir, `rows-${i}`), s.rows.join(','));
  });
  writeFileAtomic(join(spec.outputDir, 'rejected.csv'), settledCsv(plan.settled));
  const report: PlanReport = { v: 1, ...planRecordOf(plan) };
  // Last: its presence says the plan's files are complete.
  writeFileAtomic(join(spec.outputDir, 'plan.json'), JSON.stringify(report) + '\n');
  return report;
}
