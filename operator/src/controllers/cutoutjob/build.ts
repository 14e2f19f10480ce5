// Pure builders of a CutoutJob's children (CONTRIBUTING.md §1: no I/O, no clock): the positions ConfigMap (the
// shard spec, each shard's positions and input rows, the rows settled before sharding — or, for positions from a
// QueryJob, the shard spec and the plan Job's counts, the plan's files being on the results volume), the plan Job,
// the Indexed Job of the shards, the merge Job and the clean-up Job; for positions by COADD_OBJECT_ID, the snapshot
// of the positions (`<name>-ids` ConfigMap) and the QueryJob looking their IDs up. Names are fixed per job, so a
// restarted operator finds what it made.
import type { KubeObject } from '../../api/object.js';
import { parseDuration } from '../../api/units.js';
import {
  API_VERSION,
  QUERYJOB,
  sizeOf,
  type CollectionObjects,
  type CutoutJob,
  type ImageCollection,
} from '../../api/v1alpha1/index.js';
import { childMeta, childName } from '../../meta/index.js';
import { planRecordOf, runnerLimits, settledCsv, type Plan, type PlanRecord } from './plan.js';
import { ID_RESULT_COLUMNS, lookupWhere } from './ids.js';
import type { QueryResult } from './query.js';
import { runnerJob, TERMINATION_LOG, type RunnerVolume } from './runner-pod.js';
import {
  indexFile,
  RESULTS,
  s3Env,
  s3Source,
  SCRATCH,
  scratchMiB,
  scratchVolume,
  TILES,
  tilesVolume,
} from './tiles.js';
import { planAnnotations } from './status.js';

/** Child components (the `app.kubernetes.io/component` label and the name suffix). */
export const COMPONENT = {
  positions: 'positions',
  ids: 'ids',
  plan: 'plan',
  shards: 'shards',
  merge: 'merge',
  clean: 'clean',
} as const;
/** The finalizer that deletes a job's files before the CutoutJob goes. */
export const RESULTS_FINALIZER = 'skyport.io/cutout-results';
/** Retries of one shard (per index) before its rows are marked failed. */
export const SHARD_RETRIES = 2;
/** Largest ConfigMap the apiserver stores (bytes of data, roughly). */
export const CONFIGMAP_MAX_BYTES = 1_000_000;

const POSITIONS = '/positions';
const QUERY = '/query';
const IDS = '/ids';
/** The ID positions' file in the `<name>-ids` ConfigMap. */
export const IDS_KEY = 'positions.csv';
/** On the `<name>-ids` ConfigMap: how many distinct IDs its lookup QueryJobs look up together. */
export const IDS_QUERIED_ANNOTATION = 'skyport.io/ids-queried';
/** On the `<name>-ids` ConfigMap: how many lookup QueryJobs there are (`idsLookupName`). */
export const IDS_LOOKUPS_ANNOTATION = 'skyport.io/ids-lookups';
/** On the positions ConfigMap: `plan-job` when the plan's files are on the results volume (a plan Job made them). */
export const PLANNED_BY_ANNOTATION = 'skyport.io/planned-by';
/** The runner's exit code for an unusable input (services/cutout-runner/src/main.ts): not retried. */
export const RUNNER_BAD_INPUT = 2;

/** What the builders need besides the job. */
export interface BuildContext {
  readonly image: string;
  /** Pod annotations copied from the job (prefixes an admin allowed). */
  readonly podAnnotations?: Readonly<Record<string, string>>;
}

type Owner = Parameters<typeof childMeta>[0];

function owner(job: CutoutJob): Owner {
  return {
    apiVersion: job.apiVersion,
    kind: job.kind,
    metadata: {
      name: job.metadata.name ?? '',
      ...(job.metadata.namespace !== undefined && { namespace: job.metadata.namespace }),
      uid: job.metadata.uid ?? '',
    },
  };
}

function meta(job: CutoutJob, component: string, annotations?: Record<string, string>) {
  const name = childName(job.metadata.name ?? '', component);
  return { ...childMeta(owner(job), component, { name, ...(annotations && { annotations }) }), name };
}

/** The job's output directory, relative to the collection's results directory. */
export function outputPath(job: CutoutJob): string {
  return `cutoutjobs/${job.metadata.name ?? ''}-${(job.metadata.uid ?? '').slice(0, 8)}`;
}

/** Whether a job's positions come from a QueryJob (planned by the plan Job, its files on the results volume). */
export function fromQuery(job: CutoutJob): boolean {
  return job.spec.positions.fromQueryJob !== undefined;
}

/**
 * Where the plan's files are, as mounted in the runner pods: the positions ConfigMap, or `plan/` of the outputs when
 * a plan Job made them (`byJob`: positions from a QueryJob, or by COADD_OBJECT_ID).
 */
export function planDir(job: CutoutJob, byJob = fromQuery(job)): string {
  return byJob ? `${RESULTS}/${outputPath(job)}/plan` : POSITIONS;
}

/** Whether a job's plan was made by its plan Job (its files on the results volume), from the positions ConfigMap. */
export function plannedByJob(job: CutoutJob, positions: KubeObject | undefined): boolean {
  return fromQuery(job) || positions?.metadata?.annotations?.[PLANNED_BY_ANNOTATION] === 'plan-job';
}

/** The results path as seen from the results volume's root (status.outputPath). */
export function resultsPath(job: CutoutJob, c: ImageCollection): string {
  const base = c.spec.results.persistentVolumeClaim.path;
  return base === '' ? outputPath(job) : `${base}/${outputPath(job)}`;
}

function volumes(
  c: ImageCollection,
  job: CutoutJob,
  withTiles: boolean,
  withPositions: boolean,
): RunnerVolume[] {
  const res = c.spec.results.persistentVolumeClaim;
  const out: RunnerVolume[] = withTiles ? tilesVolume(c) : [];
  out.push({
    name: 'results',
    mountPath: RESULTS,
    readOnly: false,
    subPath: res.path,
    source: { persistentVolumeClaim: { claimName: res.claimName } },
  });
  if (withPositions)
    out.push({
      name: 'positions',
      mountPath: POSITIONS,
      readOnly: true,
      source: { configMap: { name: childName(job.metadata.name ?? '', COMPONENT.positions) } },
    });
  return out;
}

/** The runner's shard spec (services/cutout-runner README), one for every index. */
export function shardSpec(
  job: CutoutJob,
  c: ImageCollection,
  byJob = fromQuery(job),
): Record<string, unknown> {
  const s = job.spec;
  const s3 = s3Source(c);
  const bands = s.fits.enabled ? (s.fits.bands ?? s.bands) : [];
  const cut = s.bands === undefined ? {} : { bands: s.bands };
  return {
    // A bucket: tiles staged into the scratch, files kept for later groups within its size (less a tenth).
    ...(s3 === undefined
      ? { root: TILES }
      : { s3, root: SCRATCH, scratchBytes: Math.floor(0.9 * scratchMiB(c) * 1024 ** 2) }),
    index: indexFile(c),
    positionsFile: `${planDir(job, byJob)}/shard-{index}.csv`,
    outputDir: `${RESULTS}/${outputPath(job)}/shard-{index}`,
    size: { x: sizeOf(s).x, y: sizeOf(s).y, unit: sizeOf(s).unit, shape: sizeOf(s).shape },
    ...(bands === undefined ? cut : { bands }),
    hdus: s.fits.hdus,
    edgePolicy: s.edgePolicy,
    multiTilePolicy: s.multiTilePolicy,
    ...(s.colour !== undefined && { colour: s.colour }),
    limits: runnerLimits(c.spec.limits),
  };
}

/** The positions ConfigMap: `spec.json`, `shard-<i>.csv`, `rows-<i>` and `rejected.csv`. Immutable once made. */
export function positionsConfigMap(job: CutoutJob, c: ImageCollection, plan: Plan): KubeObject {
  const data: Record<string, string> = {
    'spec.json': JSON.stringify(shardSpec(job, c), null, 1) + '\n',
    'rejected.csv': settledCsv(plan.settled),
  };
  plan.shards.forEach((sh, i) => {
    data[`shard-${i}.csv`] = sh.csv;
    data[`rows-${i}`] = sh.rows.join(',');
  });
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(job, COMPONENT.positions, planAnnotations(planRecordOf(plan))),
    immutable: true,
    data,
  };
}

/**
 * The positions ConfigMap of a job planned by its plan Job: only `spec.json` (the shards read their positions from
 * the plan's files), the plan Job's counts in the annotations. Immutable once made: a restart never re-plans.
 */
export function plannedConfigMap(job: CutoutJob, c: ImageCollection, record: PlanRecord): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(job, COMPONENT.positions, {
      ...planAnnotations(record),
      [PLANNED_BY_ANNOTATION]: 'plan-job',
    }),
    immutable: true,
    data: { 'spec.json': JSON.stringify(shardSpec(job, c, true), null, 1) + '\n' },
  };
}

/**
 * The snapshot of a job's ID positions (`COADD_OBJECT_ID[,XSIZE,…]`, as given inline or in the user's ConfigMap),
 * which the plan Job maps through the lookups' results; `queried` distinct IDs are looked up by `lookups` QueryJobs.
 * Immutable: the user's ConfigMap may change, the plan must not.
 */
export function idsConfigMap(job: CutoutJob, text: string, queried: number, lookups: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(job, COMPONENT.ids, {
      [IDS_QUERIED_ANNOTATION]: String(queried),
      [IDS_LOOKUPS_ANNOTATION]: String(lookups),
    }),
    immutable: true,
    data: { [IDS_KEY]: text },
  };
}

/** The name of a job's lookup QueryJob `k` (from 0): `<name>-ids`, then `<name>-ids-2`, `<name>-ids-3`, … */
export function idsLookupName(job: CutoutJob, k: number): string {
  return childName(job.metadata.name ?? '', k === 0 ? COMPONENT.ids : `${COMPONENT.ids}-${k + 1}`);
}

/**
 * Lookup QueryJob `k` of a job's IDs in the collection's object catalogue (`sql` from ids.ts): the job's owner's,
 * owned by the CutoutJob (deleted with it), run at once, its result a CSV the plan Job reads.
 */
export function idsQueryJob(job: CutoutJob, objects: CollectionObjects, sql: string, k = 0): KubeObject {
  const name = idsLookupName(job, k);
  return {
    apiVersion: API_VERSION,
    kind: QUERYJOB.kind,
    metadata: { ...meta(job, COMPONENT.ids), name },
    spec: {
      owner: job.spec.owner,
      runId: `cutoutjob/${job.metadata.name ?? ''}`,
      catalogRef: { name: objects.catalogRef.name },
      language: 'SQL',
      query: sql,
      phase: 'RUN',
      output: { format: 'csv', compression: 'none' },
    },
  };
}

/** What the plan Job of ID positions is told besides the lookup's result: how many IDs were looked up, where. */
export interface IdsPlan {
  readonly queried: number;
  readonly objects: CollectionObjects;
}

/** Where QueryJob result `k` of a plan Job is mounted: /query, then /query-2, /query-3, … */
function queryMount(k: number): string {
  return k === 0 ? QUERY : `${QUERY}-${k + 1}`;
}

/**
 * The `plan` command's spec (services/cutout-runner/src/plan.ts `PlanSpec`) for a job's QueryJob result (or the
 * results of its ID lookups, read in order).
 */
export function planSpec(
  job: CutoutJob,
  c: ImageCollection,
  q: QueryResult | readonly QueryResult[],
  ids?: IdsPlan,
): Record<string, unknown> {
  const results: readonly QueryResult[] = Array.isArray(q) ? q : [q as QueryResult];
  const from = job.spec.positions.fromQueryJob;
  const size = sizeOf(job.spec);
  const columns =
    ids !== undefined
      ? ID_RESULT_COLUMNS
      : {
          raColumn: from?.raColumn ?? 'RA',
          decColumn: from?.decColumn ?? 'DEC',
          ...(from?.idColumn !== undefined && { idColumn: from.idColumn }),
        };
  return {
    inputs: results.flatMap((r, k) => r.files.map((f) => `${queryMount(k)}/${f}`)),
    columns,
    index: indexFile(c),
    size: { x: size.x, y: size.y, unit: size.unit, shape: size.shape },
    shards: job.spec.parallelism.shards,
    limits: runnerLimits(c.spec.limits),
    outputDir: planDir(job, true),
    ...(ids !== undefined && {
      ids: { positionsFile: `${IDS}/${IDS_KEY}`, queried: ids.queried, where: lookupWhere(ids.objects) },
    }),
  };
}

/**
 * The plan Job: reads the QueryJob's result (its directory of the Catalog's results claim, read-only; or each ID
 * lookup's) and the collection's tile index, writes the plan's files into the job's outputs and reports the counts
 * in its termination message. An unusable result (exit 2) fails the Job at once; anything else is retried twice.
 */
export function planJob(
  job: CutoutJob,
  c: ImageCollection,
  q: QueryResult | readonly QueryResult[],
  ctx: BuildContext,
  ids?: IdsPlan,
): KubeObject {
  const deadline = Math.max(1, Math.ceil(parseDuration(job.spec.executionDuration) / 1000));
  const results: readonly QueryResult[] = Array.isArray(q) ? q : [q as QueryResult];
  const query = results.map((r, k): RunnerVolume => ({
    name: 'query', // every lookup's result is on the one Catalog's claim: one volume, a mount per result
    mountPath: queryMount(k),
    readOnly: true,
    subPath: r.dir,
    source: { persistentVolumeClaim: { claimName: r.claimName, readOnly: true } },
  }));
  return runnerJob({
    meta: meta(job, COMPONENT.plan),
    image: ctx.image,
    args: ['plan', JSON.stringify(planSpec(job, c, q, ids)), '--summary-file', TERMINATION_LOG],
    volumes: [
      ...volumes(c, job, true, false),
      ...query,
      ...(ids === undefined
        ? []
        : [
            {
              name: 'ids',
              mountPath: IDS,
              readOnly: true,
              source: { configMap: { name: childName(job.metadata.name ?? '', COMPONENT.ids) } },
            },
          ]),
    ],
    ...(ctx.podAnnotations !== undefined && { podAnnotations: ctx.podAnnotations }),
    job: {
      activeDeadlineSeconds: deadline,
      podFailurePolicy: {
        rules: [
          {
            action: 'FailJob',
            onExitCodes: { containerName: 'runner', operator: 'In', values: [RUNNER_BAD_INPUT] },
          },
        ],
      },
    },
  });
}

/** Bytes of a ConfigMap's data (what counts against the apiserver's limit). */
export function configMapBytes(cm: KubeObject): number {
  const data = (cm['data'] ?? {}) as Record<string, string>;
  return Object.entries(data).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
}

/**
 * The shards: ONE Indexed Job, completions = parallelism = shards, each index reads `shard-<index>.csv`; an index
 * is retried on its own (backoffLimitPerIndex) and a failed one does not stop the others (maxFailedIndexes).
 * `suspend` stops every running shard (ABORT).
 */
export function shardsJob(job: CutoutJob, c: ImageCollection, shards: number, ctx: BuildContext): KubeObject {
  const deadline = Math.max(1, Math.ceil(parseDuration(job.spec.executionDuration) / 1000));
  return runnerJob({
    meta: meta(job, COMPONENT.shards),
    image: ctx.image,
    args: ['shard', `${POSITIONS}/spec.json`, '--index', '$(JOB_COMPLETION_INDEX)'],
    backoffLimit: null,
    volumes: [...volumes(c, job, true, true), ...scratchVolume(c)],
    env: s3Env(c),
    ...(ctx.podAnnotations !== undefined && { podAnnotations: ctx.podAnnotations }),
    job: {
      completionMode: 'Indexed',
      completions: shards,
      parallelism: shards,
      backoffLimitPerIndex: SHARD_RETRIES,
      maxFailedIndexes: shards,
      activeDeadlineSeconds: deadline,
      suspend: job.spec.phase === 'ABORT',
    },
  });
}

/** The merge (the finishing step, ADR 0006): one pod, its report in the termination message. */
export function mergeJob(
  job: CutoutJob,
  c: ImageCollection,
  shards: number,
  ctx: BuildContext,
  byJob = fromQuery(job),
): KubeObject {
  return runnerJob({
    meta: meta(job, COMPONENT.merge),
    image: ctx.image,
    args: [
      'merge',
      planDir(job, byJob),
      `${RESULTS}/${outputPath(job)}`,
      '--shards',
      String(shards),
      '--summary-file',
      TERMINATION_LOG,
    ],
    volumes: volumes(c, job, false, true),
    ...(ctx.podAnnotations !== undefined && { podAnnotations: ctx.podAnnotations }),
  });
}

/** Deletes the job's output directory (destruction, or the CutoutJob deleted). */
export function cleanJob(job: CutoutJob, c: ImageCollection, ctx: BuildContext): KubeObject {
  return runnerJob({
    meta: meta(job, COMPONENT.clean),
    image: ctx.image,
    args: ['clean', `${RESULTS}/${outputPath(job)}`],
    volumes: volumes(c, job, false, false),
    ...(ctx.podAnnotations !== undefined && { podAnnotations: ctx.podAnnotations }),
  });
}
