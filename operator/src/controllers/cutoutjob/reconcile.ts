// One CutoutJob reconcile, in order: deletion (files first), destruction time, finalizer, ABORT, waiting (PENDING,
// collection not Ready, the QueryJob not finished, the owner's concurrent-job limit), plan (here, or by the plan
// Job for a QueryJob's result) → positions ConfigMap → the shards' Indexed Job → the merge Job → COMPLETED with
// the merge's counts and results. Positions by COADD_OBJECT_ID: their snapshot and the QueryJob looking the IDs up
// first, then the plan Job as for a QueryJob's result. Level-based: each step reads what exists.
import type { KubeObject } from '../../api/object.js';
import type {
  Catalog,
  CollectionObjects,
  CutoutJob,
  CutoutJobStatus,
  ImageCollection,
  QueryJob,
} from '../../api/v1alpha1/index.js';
import { CATALOG, IMAGECOLLECTION, QUERYJOB } from '../../api/v1alpha1/index.js';
import { TerminalError } from '../../errors.js';
import { childName } from '../../meta/index.js';
import { sooner } from '../../runtime/index.js';
import type { Notifier, ReconcileContext, ReconcileResult, StatusWriter } from '../../runtime/index.js';
import {
  cleanJob,
  COMPONENT,
  CONFIGMAP_MAX_BYTES,
  configMapBytes,
  fromQuery,
  IDS_KEY,
  IDS_QUERIED_ANNOTATION,
  idsLookupName,
  idsConfigMap,
  idsQueryJob,
  mergeJob,
  planJob,
  plannedByJob,
  plannedConfigMap,
  positionsConfigMap,
  RESULTS_FINALIZER,
  resultsPath,
  shardsJob,
  type BuildContext,
  type IdsPlan,
} from './build.js';
import { idRecords, isIdPositions, parseIdPositions } from '@skyport/cutout-runner/ids';
import { child, lookups, podsOf } from './children.js';
import { idQueries, lookupWhere } from './ids.js';
import { cutoutResultsUrl } from '../imagecollection/serve.js';
import { cutoutJobFacts } from './notify.js';
import { planShards, runnerLimits, type PlanRecord } from './plan.js';
import { PositionsError } from './positions.js';
import { isWait, queryResult, type QueryResult, type QueryWait } from './query.js';
import { jobOutcome, terminationMessage } from './runner-pod.js';
import {
  isTerminal,
  parseMergeReport,
  parsePlanError,
  parsePlanReport,
  planRecord,
  StatusBuilder,
  withResultsUrl,
} from './status.js';
import type { CutoutStorage } from './storage.js';

type Ctx = ReconcileContext<CutoutJob>;

/** What a reconcile needs besides the context. */
export interface CutoutDeps {
  readonly storage: CutoutStorage;
  readonly status: StatusWriter<CutoutJobStatus>;
  /** Image and pod annotations for the Jobs. */
  readonly build: (job: CutoutJob) => BuildContext;
  readonly now: () => Date;
  /** Sends the end notification of jobs with spec.notify (none: never sent). */
  readonly notifier?: Notifier;
}

/** The CSV of a job's inline or ConfigMap positions (TerminalError when the ConfigMap has no such key). */
async function positionsCsv(deps: CutoutDeps, job: CutoutJob): Promise<string> {
  const p = job.spec.positions;
  if (p.configMapRef === undefined) return p.inline ?? '';
  const cm = await deps.storage.configMap(job.metadata.namespace ?? '', p.configMapRef.name);
  const text = (cm?.['data'] as Record<string, string> | undefined)?.[p.configMapRef.key];
  if (text === undefined)
    throw new TerminalError(
      'PositionsNotFound',
      `spec.positions.configMapRef: ConfigMap ${p.configMapRef.name} has no key ${p.configMapRef.key}`,
    );
  return text;
}

/** The QueryJob a job's positions come from, and where its result is (or why to wait). */
function queryOf(ctx: Ctx, job: CutoutJob): QueryResult | QueryWait {
  const name = job.spec.positions.fromQueryJob?.name ?? '';
  const qj = ctx.get<QueryJob>(QUERYJOB.kind, { namespace: job.metadata.namespace ?? '', name });
  const catalog =
    qj === undefined ? undefined : ctx.get<Catalog>(CATALOG.kind, { name: qj.spec.catalogRef.name });
  return queryResult(job, qj, catalog);
}

/** Deleting: the clean-up Job deletes the files, then the finalizer goes. */
async function finalize(
  ctx: Ctx,
  deps: CutoutDeps,
  job: CutoutJob,
  c: ImageCollection | undefined,
): Promise<ReconcileResult | undefined> {
  if (!(job.metadata.finalizers ?? []).includes(RESULTS_FINALIZER)) return undefined;
  // Nothing was ever written (never started) or nowhere to clean: release at once.
  if (c === undefined || job.status?.startTime === undefined) {
    await deps.storage.removeFinalizer(job);
    return undefined;
  }
  const current = child(ctx, 'Job', job, COMPONENT.clean);
  await deps.storage.createOnce(job.metadata.uid ?? '', cleanJob(job, c, deps.build(job)), current);
  const out = jobOutcome(current);
  if (!out.done) return undefined;
  if (!out.ok) ctx.log.warn({ reason: out.reason }, 'Clean-up Job failed; releasing the CutoutJob anyway');
  await deps.storage.removeFinalizer(job);
  deps.status.forget(job.metadata.uid ?? '');
  deps.storage.expected.forget(job.metadata.uid ?? '');
  return undefined;
}

/** Jobs of the same owner on the same collection executing now (other than `job`). */
function runningPeers(ctx: Ctx, job: CutoutJob): number {
  return ctx
    .cached<CutoutJob>('CutoutJob', job.metadata.namespace)
    .filter(
      (o) =>
        o.metadata.uid !== job.metadata.uid &&
        o.spec.owner === job.spec.owner &&
        o.spec.imageCollection === job.spec.imageCollection &&
        o.status?.phase === 'EXECUTING',
    ).length;
}

/** A finished job's resultsUrl follows its collection's results server (enabled, disabled, gone). */
async function syncResultsUrl(
  deps: CutoutDeps,
  job: CutoutJob,
  c: ImageCollection | undefined,
): Promise<void> {
  const next = withResultsUrl(job.status, cutoutResultsUrl(c, job.metadata.name ?? ''));
  if (next !== undefined) await deps.status.write(job, next);
}

/** The reconcile of one CutoutJob: its step, then the end notification of the status the step left. */
export async function reconcileCutout(ctx: Ctx, deps: CutoutDeps): Promise<ReconcileResult | undefined> {
  const res = await step(ctx, deps);
  return sooner(res, await notify(ctx, deps));
}

/** spec.notify once the job has ended (not while it is being deleted). */
export async function notify(ctx: Ctx, deps: CutoutDeps): Promise<ReconcileResult | undefined> {
  if (ctx.object === undefined || deps.notifier === undefined) return undefined;
  const job = deps.status.fresh(ctx.object);
  if (job.metadata.deletionTimestamp !== undefined || job.spec.notify === undefined) return undefined;
  return deps.notifier.sync(job, cutoutJobFacts(job), (notification) =>
    deps.status.write(job, { ...(job.status ?? {}), notification }),
  );
}

async function step(ctx: Ctx, deps: CutoutDeps): Promise<ReconcileResult | undefined> {
  if (ctx.object === undefined) return undefined;
  let job = deps.status.fresh(ctx.object);
  const now = deps.now();
  const ns = job.metadata.namespace ?? '';
  const c = ctx.get<ImageCollection>(IMAGECOLLECTION.kind, { namespace: ns, name: job.spec.imageCollection });
  if (job.metadata.deletionTimestamp !== undefined) return finalize(ctx, deps, job, c);
  let requeue: ReconcileResult | undefined;
  if (job.spec.destruction !== undefined) {
    const left = Date.parse(job.spec.destruction) - now.getTime();
    if (left <= 0) {
      await deps.storage.deleteJob(job);
      return undefined;
    }
    requeue = { requeueAfterMs: left };
  }
  if (!(job.metadata.finalizers ?? []).includes(RESULTS_FINALIZER)) {
    const updated = await deps.storage.addFinalizer(job);
    if (updated === undefined) return undefined;
    job = deps.status.fresh(updated);
  }
  if (isTerminal(job.status?.phase)) {
    await syncResultsUrl(deps, job, c);
    return requeue;
  }
  const sb = new StatusBuilder(job, now);
  const shards = child(ctx, 'Job', job, COMPONENT.shards);
  const plan = child(ctx, 'Job', job, COMPONENT.plan);
  const cm = child(ctx, 'ConfigMap', job, COMPONENT.positions);
  const ids = child(ctx, 'ConfigMap', job, COMPONENT.ids);
  if (job.spec.phase === 'ABORT') {
    await stopAll(ctx, deps, job, [plan, shards]);
    await deps.status.write(
      job,
      sb.phase('ABORTED', 'Aborted', 'aborted by the owner (spec.phase ABORT): shards stopped'),
    );
    return requeue;
  }
  // Once the plan Job (or the ID lookup) exists the job has started: it no longer waits (and the QueryJob is no longer
  // needed).
  if (cm === undefined && plan === undefined && ids === undefined) {
    const wait = waiting(ctx, job, c, sb);
    if (wait !== undefined) {
      await deps.status.write(job, wait);
      return requeue;
    }
  }
  if (c === undefined) return requeue; // (waiting() covered a missing collection before the plan existed)
  return execute(ctx, deps, job, c, { sb, shards, plan, cm, requeue });
}

/** ABORT: suspends the plan and shards' Jobs that still run and aborts an ID lookup that has not finished. */
async function stopAll(
  ctx: Ctx,
  deps: CutoutDeps,
  job: CutoutJob,
  jobs: readonly (KubeObject | undefined)[],
): Promise<void> {
  const ns = job.metadata.namespace ?? '';
  // A finished Job has nothing left to stop.
  for (const j of jobs) {
    const suspended = (j?.['spec'] as { suspend?: boolean } | undefined)?.suspend === true;
    if (j !== undefined && !suspended && !jobOutcome(j).done)
      await deps.storage.suspend(ns, j.metadata?.name ?? '');
  }
  for (const lookup of lookups(ctx, job)) {
    const phase = lookup?.status?.phase ?? '';
    if (lookup !== undefined && !['COMPLETED', 'ERROR', 'ABORTED', 'ARCHIVED'].includes(phase))
      await deps.storage.abortQuery(ns, lookup.metadata.name ?? '');
  }
}

function waiting(
  ctx: Ctx,
  job: CutoutJob,
  c: ImageCollection | undefined,
  sb: StatusBuilder,
): CutoutJobStatus | undefined {
  if (job.spec.phase === 'PENDING')
    return sb.phase('PENDING', 'Held', 'held by the owner (spec.phase PENDING)');
  if (c === undefined)
    return sb.phase(
      'QUEUED',
      'CollectionNotFound',
      `waiting for ImageCollection ${job.spec.imageCollection} to exist`,
    );
  if (c.status?.phase !== 'Ready')
    return sb.phase(
      'QUEUED',
      'CollectionNotReady',
      `waiting for ImageCollection ${job.spec.imageCollection} to be Ready (${c.status?.phase ?? 'not indexed yet'})`,
    );
  if (fromQuery(job)) {
    const q = queryOf(ctx, job); // throws TerminalError when the QueryJob ended without a readable result
    if (isWait(q)) return sb.phase('QUEUED', q.reason, q.message);
  }
  const limit = c.spec.limits.maxConcurrentJobsPerOwner;
  if (runningPeers(ctx, job) >= limit)
    return sb.phase(
      'QUEUED',
      'ConcurrencyLimit',
      `${job.spec.owner} already has ${limit} CutoutJobs executing on ${job.spec.imageCollection}`,
    );
  return undefined;
}

interface Children {
  sb: StatusBuilder;
  shards: KubeObject | undefined;
  plan: KubeObject | undefined;
  cm: KubeObject | undefined;
  requeue: ReconcileResult | undefined;
}

/** The plan Job's error report → ERROR naming the field (the runner's `field: …` message under fromQueryJob). */
function planFailure(ctx: Ctx, job: CutoutJob, out: { reason: string; message: string }): TerminalError {
  if (out.reason === 'DeadlineExceeded')
    return new TerminalError(
      'DeadlineExceeded',
      `planning ran longer than spec.executionDuration ${job.spec.executionDuration}`,
    );
  const text = terminationMessage(podsOf(ctx, job, COMPONENT.plan), 'Failed');
  const err = text === undefined ? undefined : parsePlanError(text);
  if (err?.code === 'BadPositions') {
    const name = job.spec.positions.fromQueryJob?.name ?? '';
    const message = err.message.startsWith('files: ')
      ? `spec.positions.fromQueryJob: QueryJob ${name}'s result: ${err.message.slice('files: '.length)}`
      : `spec.positions.fromQueryJob.${err.message}`;
    return new TerminalError('BadPositions', message);
  }
  const why = err?.message ?? `${out.reason} ${out.message}`.trim();
  return new TerminalError('PlanFailed', `plan Job failed: ${why}`);
}

/**
 * Positions from a QueryJob: the plan Job (created once) plans its result; its report becomes the positions
 * ConfigMap. Undefined while it runs.
 */
async function planFromQuery(
  ctx: Ctx,
  deps: CutoutDeps,
  job: CutoutJob,
  c: ImageCollection,
  s: Children,
): Promise<PlanRecord | undefined> {
  const uid = job.metadata.uid ?? '';
  const out = resultsPath(job, c);
  const name = job.spec.positions.fromQueryJob?.name ?? '';
  if (s.plan === undefined) {
    const q = queryOf(ctx, job);
    if (isWait(q)) {
      await deps.status.write(job, s.sb.phase('QUEUED', q.reason, q.message));
      return undefined;
    }
    if (await deps.storage.createOnce(uid, planJob(job, c, q, deps.build(job)), undefined))
      ctx.log.info({ queryJob: name, files: q.files.length, rows: q.rows }, 'Created plan Job');
    await deps.status.write(job, s.sb.planning(`planning the result of QueryJob ${name}`, out));
    return undefined;
  }
  return planJobReport(ctx, deps, job, c, s, s.plan, `planning the result of QueryJob ${name}`);
}

/** The plan Job's report once it has ended (the positions ConfigMap made from it), or undefined while it runs. */
async function planJobReport(
  ctx: Ctx,
  deps: CutoutDeps,
  job: CutoutJob,
  c: ImageCollection,
  s: Children,
  planned: KubeObject,
  planning: string,
): Promise<PlanRecord | undefined> {
  const uid = job.metadata.uid ?? '';
  const out = resultsPath(job, c);
  const outcome = jobOutcome(planned);
  if (outcome.done && !outcome.ok) throw planFailure(ctx, job, outcome);
  const text = outcome.done ? terminationMessage(podsOf(ctx, job, COMPONENT.plan)) : undefined;
  const record = text === undefined ? undefined : parsePlanReport(text);
  if (record === undefined) {
    // Still planning, or the pod's status lags the Job's: its change wakes this key again.
    await deps.status.write(job, s.sb.planning(planning, out));
    return undefined;
  }
  await deps.storage.createOnce(uid, plannedConfigMap(job, c, record), s.cm);
  ctx.log.info(
    { positions: record.positions, shards: record.shardSizes.length, planJob: planned.metadata?.name },
    'Planned cutout shards',
  );
  return record;
}

const IDS_FIELD = 'spec.positions (COADD_OBJECT_ID lookup)';

/**
 * Positions by COADD_OBJECT_ID (ADR 0015): the snapshot of the positions (`<name>-ids`), then the QueryJobs looking
 * the IDs up in the collection's object catalogue (`<name>-ids`, `<name>-ids-2`, …: as many as the IDs need, up to
 * ID_LOOKUPS_MAX), then the plan Job mapping each row through their results (as for fromQueryJob). Each step is
 * created once by a fixed name, so a restart between them makes no second one. No usable ID at all: planned here,
 * every row settled. Undefined while a step runs.
 */
async function planFromIds(
  ctx: Ctx,
  deps: CutoutDeps,
  job: CutoutJob,
  c: ImageCollection,
  s: Children,
  csv: string | undefined,
): Promise<PlanRecord | undefined> {
  const uid = job.metadata.uid ?? '';
  const out = resultsPath(job, c);
  const objects = c.spec.objects;
  if (s.plan !== undefined) return planJobReport(ctx, deps, job, c, s, s.plan, 'planning the IDs found');
  if (objects === undefined)
    throw new TerminalError(
      'BadPositions',
      `spec.positions: COADD_OBJECT_ID positions are looked up in the collection's object catalogue, and ` +
        `ImageCollection ${c.metadata.name ?? ''} names none (spec.objects); give RA,DEC columns`,
    );
  const snapshot = child(ctx, 'ConfigMap', job, COMPONENT.ids);
  const found = lookups(ctx, job);
  if (snapshot === undefined || found.length === 0 || found.includes(undefined))
    return startLookups(ctx, deps, job, c, s, csv, objects, snapshot, found);
  const results: QueryResult[] = [];
  const waits: string[] = [];
  for (const [k, qj] of found.entries()) {
    const name = idsLookupName(job, k);
    const catalog = ctx.get<Catalog>(CATALOG.kind, { name: qj?.spec.catalogRef.name ?? '' });
    const q = queryResult(job, qj, catalog, { name, field: IDS_FIELD });
    if (isWait(q)) waits.push(`QueryJob ${name} is ${qj?.status?.phase ?? 'not started'}`);
    else results.push(q);
  }
  if (waits.length > 0) {
    await deps.status.write(
      job,
      s.sb.planning(
        `looking up COADD_OBJECT_IDs in ${lookupWhere(objects)}: ` +
          (found.length > 1 ? `${waits.length} of ${found.length} lookups to finish; ` : '') +
          (waits[0] ?? ''),
        out,
      ),
    );
    return undefined;
  }
  const ids: IdsPlan = {
    queried: Number(snapshot.metadata?.annotations?.[IDS_QUERIED_ANNOTATION] ?? 0),
    objects,
  };
  if (await deps.storage.createOnce(uid, planJob(job, c, results, deps.build(job), ids), undefined))
    ctx.log.info(
      { queryJobs: found.length, rows: results.reduce((n, q) => n + (q.rows ?? 0), 0) },
      'Created plan Job',
    );
  await deps.status.write(job, s.sb.planning('planning the IDs found', out));
  return undefined;
}

/** Creates the ID snapshot and each lookup QueryJob not there yet (by fixed names); plans here when no ID is usable. */
async function startLookups(
  ctx: Ctx,
  deps: CutoutDeps,
  job: CutoutJob,
  c: ImageCollection,
  s: Children,
  csv: string | undefined,
  objects: CollectionObjects,
  snapshot: KubeObject | undefined,
  found: readonly (QueryJob | undefined)[],
): Promise<PlanRecord | undefined> {
  const uid = job.metadata.uid ?? '';
  const ns = job.metadata.namespace ?? '';
  const out = resultsPath(job, c);
  const text = csv ?? (await snapshotText(deps, ns, childName(job.metadata.name ?? '', COMPONENT.ids)));
  const parsed = parseIdPositions(text, runnerLimits(c.spec.limits));
  const { sqls, queried } = idQueries(objects, parsed.ids);
  if (queried === 0)
    return planHere(
      ctx,
      deps,
      job,
      c,
      s,
      idRecords(parsed, { found: new Map(), queried, where: lookupWhere(objects) }),
    );
  await deps.storage.createOnce(uid, idsConfigMap(job, text, queried, sqls.length), snapshot);
  for (const [k, sql] of sqls.entries())
    if (await deps.storage.createOnce(uid, idsQueryJob(job, objects, sql, k), found[k]))
      ctx.log.info(
        { ids: queried, lookup: k + 1, of: sqls.length, queryJob: idsLookupName(job, k) },
        'Created QueryJob looking up COADD_OBJECT_IDs',
      );
  await deps.status.write(
    job,
    s.sb.planning(
      `looking up ${queried} COADD_OBJECT_IDs in ${lookupWhere(objects)} (${sqls.length === 1 ? `QueryJob ${idsLookupName(job, 0)}` : `QueryJobs ${idsLookupName(job, 0)} … ${idsLookupName(job, sqls.length - 1)}`})`,
      out,
    ),
  );
  return undefined;
}

/** The text of a job's ID positions snapshot (read when the QueryJob is still to be made after a restart). */
async function snapshotText(deps: CutoutDeps, ns: string, name: string): Promise<string> {
  const cm = await deps.storage.configMap(ns, name);
  const text = (cm?.['data'] as Record<string, string> | undefined)?.[IDS_KEY];
  if (text === undefined) throw new Error(`ConfigMap ${name} has no ${IDS_KEY}`);
  return text;
}

/** Plans positions in the operator and writes the positions ConfigMap (inline, ConfigMap or settled ID rows). */
async function planHere(
  ctx: Ctx,
  deps: CutoutDeps,
  job: CutoutJob,
  c: ImageCollection,
  s: Children,
  csv: Parameters<typeof planShards>[0]['csv'],
): Promise<PlanRecord> {
  let plan;
  try {
    plan = planShards({ csv, spec: job.spec, limits: c.spec.limits, footprints: c.status?.footprints });
  } catch (e) {
    if (e instanceof PositionsError)
      throw new TerminalError('BadPositions', `spec.positions: ${e.message.replace(/^positions: /, '')}`);
    throw e;
  }
  const desired = positionsConfigMap(job, c, plan);
  if (configMapBytes(desired) > CONFIGMAP_MAX_BYTES)
    throw new TerminalError(
      'PositionsTooLarge',
      `spec.positions: ${plan.positions} positions need more than ${CONFIGMAP_MAX_BYTES} bytes of ConfigMap; split the job`,
    );
  await deps.storage.createOnce(job.metadata.uid ?? '', desired, s.cm);
  const record = planRecord(desired);
  if (record === undefined) throw new Error('plan annotations do not read back');
  ctx.log.info(
    { positions: plan.positions, shards: plan.shards.length, settled: plan.settled.length },
    'Planned cutout shards',
  );
  return record;
}

async function execute(
  ctx: Ctx,
  deps: CutoutDeps,
  job: CutoutJob,
  c: ImageCollection,
  s: Children,
): Promise<ReconcileResult | undefined> {
  const uid = job.metadata.uid ?? '';
  const out = resultsPath(job, c);
  const bc = deps.build(job);
  let record = planRecord(s.cm); // undefined while there is no ConfigMap
  if (record === undefined && fromQuery(job)) {
    record = await planFromQuery(ctx, deps, job, c, s);
    if (record === undefined) return s.requeue;
  }
  if (record === undefined) {
    // Once the ID lookup has begun its children say so; before, the positions' header does.
    const begun = s.plan !== undefined || child(ctx, 'ConfigMap', job, COMPONENT.ids) !== undefined;
    const csv = begun ? undefined : await positionsCsv(deps, job);
    record =
      csv !== undefined && !isIdPositions(csv)
        ? await planHere(ctx, deps, job, c, s, csv)
        : await planFromIds(ctx, deps, job, c, s, csv);
    if (record === undefined) return s.requeue;
  }
  const byJob = plannedByJob(job, s.cm) || s.plan !== undefined;
  const n = record.shardSizes.length;
  if (n > 0) await deps.storage.createOnce(uid, shardsJob(job, c, n, bc), s.shards);
  const shardsOut =
    n > 0 ? jobOutcome(s.shards) : ({ done: true, ok: true, reason: 'NoShards', message: '' } as const);
  if (!shardsOut.done) {
    await deps.status.write(job, s.sb.executing(record, s.shards, false, out));
    return s.requeue;
  }
  if (!shardsOut.ok && shardsOut.reason === 'DeadlineExceeded')
    throw new TerminalError(
      'DeadlineExceeded',
      `shards ran longer than spec.executionDuration ${job.spec.executionDuration}`,
    );
  const merge = child(ctx, 'Job', job, COMPONENT.merge);
  await deps.storage.createOnce(uid, mergeJob(job, c, n, bc, byJob), merge);
  const mergeOut = jobOutcome(merge);
  if (!mergeOut.done) {
    await deps.status.write(job, s.sb.executing(record, s.shards, true, out));
    return s.requeue;
  }
  if (!mergeOut.ok)
    throw new TerminalError('MergeFailed', `merge Job failed: ${mergeOut.reason} ${mergeOut.message}`.trim());
  const text = terminationMessage(podsOf(ctx, job, COMPONENT.merge));
  const report = text === undefined ? undefined : parseMergeReport(text);
  if (report === undefined) {
    // The pod's status may lag the Job's: its change wakes this key again.
    await deps.status.write(job, s.sb.executing(record, s.shards, true, out));
    return s.requeue;
  }
  await deps.status.write(
    job,
    s.sb.completed(record, report, out, cutoutResultsUrl(c, job.metadata.name ?? '')),
  );
  return s.requeue;
}

/**
 * A TerminalError's record: phase ERROR, Degraded with the error's code. With spec.notify the key comes back at
 * once (not parked): the next reconcile finds ERROR and sends the notification.
 */
export async function recordError(
  deps: CutoutDeps,
  job: CutoutJob,
  err: TerminalError,
): Promise<ReconcileResult | undefined> {
  const fresh = deps.status.fresh(job);
  await deps.status.write(fresh, new StatusBuilder(fresh, deps.now()).phase('ERROR', err.code, err.message));
  return job.spec.notify !== undefined && deps.notifier !== undefined ? { requeueAfterMs: 1 } : undefined;
}
