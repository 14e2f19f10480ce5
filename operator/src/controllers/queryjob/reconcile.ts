// One QueryJob's reconcile (level-based): destruction, the runner Job's outcome, ABORT, submit-time validation and
// quote, the owner's concurrency limit, then the runner Job. Kubernetes writes are storage.ts's; the Job is
// build.ts's; status goes through the StatusWriter.
import type { Catalog, QueryJob, QueryJobPhase, QueryJobStatus } from '../../api/v1alpha1/index.js';
import { parseDuration } from '../../api/units.js';
import type { Kube, KubeObject } from '../../kube/index.js';
import { LABELS, rfc3339, setCondition } from '../../meta/index.js';
import { Expectations, sooner, StatusWriter, withHash } from '../../runtime/index.js';
import type { Notifier } from '../../runtime/index.js';
import type { ReconcileContext, ReconcileResult } from '../../runtime/index.js';
import {
  applicationName,
  buildCleanupJob,
  buildRunnerIdentity,
  buildRunnerJob,
  cleanupJobName,
  COMPONENT,
  runnerJobName,
  type RunnerSettings,
  type RunPlan,
} from './build.js';
import { quoteAndCheck, type Canceller, type Quoter } from './database.js';
import { queryJobFacts } from './notify.js';
import { jobOutcome } from './outcome.js';
import { JOB_SLOTS, QueryJobStorage } from './storage.js';
import { checkedSql, resolveLimits, SubmitError } from './submit.js';

/** What the reconciler needs. */
export interface QueryJobDeps {
  kube: Kube;
  runner: RunnerSettings;
  quoter: Quoter;
  canceller: Canceller;
  /** Sends the end notification of jobs with spec.notify (none: never sent). */
  notifier?: Notifier;
  /** Wall clock (tests pass a fixed one). */
  now?: () => Date;
}

type Ctx = ReconcileContext<QueryJob>;
type Status = QueryJobStatus;

/** Phases after which the runner never runs again. */
const FINAL: readonly QueryJobPhase[] = ['COMPLETED', 'ERROR', 'ABORTED', 'ARCHIVED'];
/** Longest wait before a job is looked at again for its destruction time. */
const MAX_REQUEUE_MS = 3_600_000;
/**
 * How long after a quick job's executionDuration the operator stops waiting for the TAP service that took it (a TAP
 * pod that died mid-query never writes the outcome): the job goes to ERROR.
 */
export const QUICK_GRACE_MS = 30_000;
/** Condition set once the query passed validation and the quote. */
export const VALIDATED = 'Validated';

function finished(job: KubeObject): boolean {
  const conds = (job as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions;
  return (conds ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** A status without `progress`: the runner's field (its own field manager), which the operator never writes. */
function withoutProgress(s: Status | undefined): Status {
  const { progress: _p, ...rest } = s ?? {};
  return rest;
}

function sameStatus(prev: Status | undefined, next: Status): boolean {
  return JSON.stringify(withoutProgress(prev)) === JSON.stringify(withoutProgress(next));
}

/**
 * A job refused at submit (no runner ever made) whose spec changed since: it is checked again. The CRD lets the
 * query change only while spec.phase is PENDING, so this is a user fixing a query before running it.
 */
function refusedEarlier(qj: QueryJob, prev: Status): boolean {
  const validated = prev.conditions?.find((c) => c.type === VALIDATED);
  return (
    prev.phase === 'ERROR' &&
    prev.jobName === undefined &&
    validated?.status === 'False' &&
    validated.observedGeneration !== (qj.metadata.generation ?? 0)
  );
}

/** The destruction time: spec.destruction, else creation + the catalog's retention. */
export function destructionOf(qj: QueryJob, catalog: Catalog): string {
  if (qj.spec.destruction !== undefined) return qj.spec.destruction;
  const created = Date.parse(qj.metadata.creationTimestamp ?? '') || 0;
  return rfc3339(new Date(created + parseDuration(catalog.spec.retention.destruction)));
}

/** Reconciles QueryJobs. */
export class QueryJobReconciler {
  readonly storage: QueryJobStorage;
  readonly status: StatusWriter<Status>;
  private readonly now: () => Date;

  constructor(private readonly deps: QueryJobDeps) {
    this.storage = new QueryJobStorage(deps.kube, new Expectations({ createOnly: JOB_SLOTS }));
    this.status = new StatusWriter<Status>({ kube: deps.kube, same: sameStatus });
    this.now = deps.now ?? (() => new Date());
  }

  async reconcile(ctx: Ctx): Promise<ReconcileResult | void> {
    const res = await this.step(ctx);
    const notifier = this.deps.notifier;
    if (ctx.object === undefined || notifier === undefined) return res;
    // After the step: the status it wrote (an end phase reached just now) is announced in the same reconcile.
    const qj = this.status.fresh(ctx.object);
    if (qj.metadata.deletionTimestamp !== undefined || qj.spec.notify === undefined) return res;
    const next = await notifier.sync(qj, queryJobFacts(qj), (notification) =>
      this.write(qj, { ...(qj.status ?? {}), notification }),
    );
    return sooner(res, next);
  }

  private async step(ctx: Ctx): Promise<ReconcileResult | void> {
    if (ctx.object === undefined) return;
    const qj = this.status.fresh(ctx.object);
    const uid = qj.metadata.uid ?? '';
    if (qj.metadata.deletionTimestamp !== undefined) {
      this.status.forget(uid);
      this.storage.expected.forget(uid);
      return;
    }
    const prev: Status = qj.status ?? {};
    if (prev.phase === 'ARCHIVED') return;
    const catalog = ctx.get<Catalog>('Catalog', { name: qj.spec.catalogRef.name });
    const now = this.now();
    if (catalog === undefined) {
      // The catalog watch wakes the job when it appears.
      if (prev.phase !== undefined && FINAL.includes(prev.phase)) return;
      await this.write(qj, {
        ...prev,
        phase: 'PENDING',
        conditions: setCondition(
          prev.conditions,
          {
            type: VALIDATED,
            status: 'False',
            reason: 'CatalogNotFound',
            message: `Catalog ${qj.spec.catalogRef.name} does not exist`,
            observedGeneration: qj.metadata.generation ?? 0,
          },
          now,
        ),
      });
      return;
    }
    const destruction = destructionOf(qj, catalog);
    const jobs = ctx.owned<KubeObject>('Job');
    const runner = jobs.find((j) => j.metadata?.name === runnerJobName(qj));
    const base: Status = { ...prev, destruction };
    if (now.getTime() >= Date.parse(destruction)) return this.destroy(ctx, qj, catalog, base, runner, jobs);

    const later = {
      requeueAfterMs: Math.min(MAX_REQUEUE_MS, Date.parse(destruction) - now.getTime() + 1000),
    };
    if (prev.phase !== undefined && FINAL.includes(prev.phase) && !refusedEarlier(qj, prev)) {
      await this.write(qj, base);
      return later;
    }
    if (runner !== undefined) return this.observe(ctx, qj, catalog, base, runner, later);
    if (qj.spec.phase === 'ABORT') return this.abort(qj, catalog, base, undefined, later);
    return this.submit(ctx, qj, catalog, base, later);
  }

  /** The runner Job exists: its outcome becomes the phase (or ABORT stops it while it runs). */
  private async observe(
    ctx: Ctx,
    qj: QueryJob,
    catalog: Catalog,
    base: Status,
    runner: KubeObject,
    later: ReconcileResult,
  ): Promise<ReconcileResult> {
    const now = this.now();
    const outcome = jobOutcome(runner, this.runnerPods(ctx, qj));
    const done = outcome.phase === 'COMPLETED' || outcome.phase === 'ERROR';
    if (!done && qj.spec.phase === 'ABORT') return this.abort(qj, catalog, base, runner, later);
    const { phase, attempts, rows, overflow, results, error, endTime } = outcome;
    await this.write(qj, {
      ...base,
      phase,
      jobName: runnerJobName(qj),
      startTime: base.startTime ?? runner.metadata?.creationTimestamp ?? rfc3339(now),
      attempts,
      ...(rows === undefined ? {} : { rows }),
      ...(overflow === undefined ? {} : { overflow }),
      ...(results === undefined ? {} : { results }),
      ...(error === undefined ? {} : { error }),
      ...(done ? { endTime: endTime ?? rfc3339(now) } : {}),
    });
    return later;
  }

  /** Validation, quote, then (phase RUN) the owner's concurrency limit and the runner Job. */
  private async submit(
    ctx: Ctx,
    qj: QueryJob,
    catalog: Catalog,
    base: Status,
    later: ReconcileResult,
  ): Promise<ReconcileResult> {
    const now = this.now();
    const generation = qj.metadata.generation ?? 0;
    let plan: RunPlan;
    let next: Status;
    const validated = base.conditions?.find((c) => c.type === VALIDATED);
    if (
      validated?.status === 'True' &&
      validated.observedGeneration === generation &&
      base.sql !== undefined &&
      base.executionDuration !== undefined &&
      base.maxRecords !== undefined
    ) {
      plan = { sql: base.sql, executionDurationSeconds: base.executionDuration, maxRecords: base.maxRecords };
      next = base;
    } else {
      try {
        const limits = resolveLimits(qj, catalog);
        const sql = await checkedSql(qj);
        const creds = await this.storage.credentials(catalog, qj.metadata.namespace ?? 'default');
        const q = await quoteAndCheck(this.deps.quoter, catalog, creds, sql);
        plan = { sql, ...limits };
        const { error: _e, endTime: _t, ...rest } = base;
        next = {
          ...rest,
          sql,
          executionDuration: limits.executionDurationSeconds,
          maxRecords: limits.maxRecords,
          quote: {
            estimatedRows: Math.ceil(q.estimatedRows),
            estimatedBytes: Math.ceil(q.estimatedBytes),
            cost: Math.ceil(q.cost),
          },
          conditions: setCondition(
            base.conditions,
            {
              type: VALIDATED,
              status: 'True',
              reason: 'Quoted',
              message: `one SELECT; the planner estimates ${Math.ceil(q.estimatedRows)} rows`,
              observedGeneration: generation,
            },
            now,
          ),
        };
      } catch (err) {
        if (!(err instanceof SubmitError)) throw err;
        await this.write(qj, {
          ...base,
          phase: 'ERROR',
          error: err.toStatus(),
          endTime: rfc3339(now),
          conditions: setCondition(
            base.conditions,
            {
              type: VALIDATED,
              status: 'False',
              reason: err.code,
              message: err.message,
              observedGeneration: generation,
            },
            now,
          ),
        });
        return later;
      }
    }
    if (qj.spec.validateOnly || qj.spec.phase !== 'RUN') {
      await this.write(qj, { ...next, phase: 'PENDING' });
      return later;
    }
    if (qj.spec.mode === 'quick') return this.handOver(qj, next, later);
    const busy = this.busyPeers(ctx, qj);
    const max = catalog.spec.limits.maxConcurrentJobsPerUser;
    if (busy >= max) {
      // A peer's status change wakes this job (the QueryJob watch in controller.ts).
      await this.write(qj, { ...next, phase: 'QUEUED' });
      return later;
    }
    // The pod's identity before the Job whose pod runs as it.
    await this.storage.applyRunnerIdentity(buildRunnerIdentity(qj));
    const job = withHash(buildRunnerJob(qj, catalog, plan, this.deps.runner));
    const run = { awaitingCache: false };
    await this.storage.createJob(qj.metadata.uid ?? '', 'RunnerJob', job, undefined, run);
    await this.write(qj, {
      ...next,
      phase: 'QUEUED',
      jobName: runnerJobName(qj),
      startTime: next.startTime ?? rfc3339(now),
      attempts: 0,
    });
    return later;
  }

  /**
   * A validated quick job with phase RUN: QUEUED, for the catalog's TAP service to take (docs/adr/0009): it writes
   * EXECUTING, runs the query in its process and writes the outcome. From then on the status is the TAP's, so the
   * operator forgets its own copy (the informer's is the truth) and only watches the time: a job EXECUTING past its
   * executionDuration + QUICK_GRACE_MS (the TAP pod died mid-query) goes to ERROR.
   */
  private async handOver(qj: QueryJob, next: Status, later: ReconcileResult): Promise<ReconcileResult> {
    const now = this.now().getTime();
    if (next.phase === 'EXECUTING') {
      const deadline =
        (Date.parse(next.startTime ?? '') || now) + (next.executionDuration ?? 0) * 1000 + QUICK_GRACE_MS;
      if (now < deadline)
        return { requeueAfterMs: Math.min(later.requeueAfterMs ?? deadline, deadline - now) };
      await this.write(qj, {
        ...next,
        phase: 'ERROR',
        endTime: rfc3339(this.now()),
        error: {
          type: 'transient',
          code: 'QuickJobLost',
          message:
            `the TAP service took this quick job at ${next.startTime ?? '?'} and wrote no outcome within ` +
            `executionDuration (${next.executionDuration ?? 0} s) + ${QUICK_GRACE_MS / 1000} s`,
        },
      });
      return later;
    }
    if (next.phase !== 'QUEUED') {
      await this.write(qj, { ...next, phase: 'QUEUED' });
      this.status.forget(qj.metadata.uid ?? '');
    }
    return later;
  }

  /** ABORT: the backend cancelled, the Job (and its pod) deleted, phase ABORTED. */
  private async abort(
    qj: QueryJob,
    catalog: Catalog,
    base: Status,
    runner: KubeObject | undefined,
    later: ReconcileResult,
  ): Promise<ReconcileResult> {
    if (runner !== undefined && !finished(runner)) await this.stopRunner(qj, catalog, runner);
    // A quick job the TAP service is running: its backend carries the same application_name as a runner's.
    if (qj.spec.mode === 'quick' && base.phase === 'EXECUTING') await this.cancelBackend(qj, catalog);
    await this.write(qj, { ...base, phase: 'ABORTED', endTime: base.endTime ?? rfc3339(this.now()) });
    return later;
  }

  private async stopRunner(qj: QueryJob, catalog: Catalog, runner: KubeObject): Promise<void> {
    await this.storage.deleteJob(runner);
    await this.cancelBackend(qj, catalog);
  }

  private async cancelBackend(qj: QueryJob, catalog: Catalog): Promise<void> {
    try {
      const creds = await this.storage.credentials(catalog, qj.metadata.namespace ?? 'default');
      await this.deps.canceller(catalog, creds, applicationName(qj));
    } catch {
      // The runner cancels its own backend on SIGTERM; the Job is gone either way.
    }
  }

  /** Destruction: a running query stopped, the result directory deleted by a cleanup Job, then ARCHIVED. */
  private async destroy(
    ctx: Ctx,
    qj: QueryJob,
    catalog: Catalog,
    base: Status,
    runner: KubeObject | undefined,
    jobs: readonly KubeObject[],
  ): Promise<ReconcileResult | void> {
    const now = this.now();
    if (runner !== undefined && !finished(runner)) await this.stopRunner(qj, catalog, runner);
    if (qj.spec.mode === 'quick' && base.phase === 'EXECUTING') await this.cancelBackend(qj, catalog);
    const ended: Status = {
      ...base,
      ...(base.endTime === undefined ? { endTime: rfc3339(now) } : {}),
    };
    if (base.jobName !== undefined) {
      const cleanup = jobs.find((j) => j.metadata?.name === cleanupJobName(qj));
      if (cleanup === undefined || !finished(cleanup)) {
        if (cleanup === undefined) {
          const job = withHash(buildCleanupJob(qj, catalog, this.deps.runner));
          await this.storage.createJob(qj.metadata.uid ?? '', 'CleanupJob', job, undefined, {
            awaitingCache: false,
          });
        }
        await this.write(qj, ended);
        return; // The cleanup Job's completion wakes the job (owned Jobs).
      }
      const ok = (cleanup as { status?: { succeeded?: number } }).status?.succeeded ?? 0;
      if (ok === 0) {
        ctx.log.warn({ job: cleanup.metadata?.name }, 'Result cleanup failed; will retry');
        await this.storage.deleteJob(cleanup);
        return { requeueAfterMs: 60_000 };
      }
      for (const j of jobs) await this.storage.deleteJob(j);
    }
    const { results: _r, ...rest } = ended;
    await this.write(qj, { ...rest, phase: 'ARCHIVED' });
  }

  /** The runner Job's pods in the cache (by the owner-UID label the pod template carries). */
  private runnerPods(ctx: Ctx, qj: QueryJob): KubeObject[] {
    return ctx
      .cached<KubeObject>('Pod', qj.metadata.namespace)
      .filter(
        (p) =>
          p.metadata?.labels?.[LABELS.ownerUid] === qj.metadata.uid &&
          p.metadata?.labels?.[LABELS.component] === COMPONENT.runner,
      );
  }

  /** The owner's other jobs of this catalog holding a runner Job that has not finished. */
  private busyPeers(ctx: Ctx, qj: QueryJob): number {
    return ctx
      .indexed<QueryJob>('QueryJob', 'owner', qj.spec.owner)
      .filter(
        (p) =>
          p.metadata.uid !== qj.metadata.uid &&
          p.spec.catalogRef.name === qj.spec.catalogRef.name &&
          p.status?.jobName !== undefined &&
          (p.status.phase === 'QUEUED' || p.status.phase === 'EXECUTING'),
      ).length;
  }

  /**
   * Writes the status (server-side apply) without `progress`: the runner patches that field while it runs, and an
   * apply carrying a copy read earlier would put old figures back and take the field over.
   */
  private async write(qj: QueryJob, next: Status): Promise<void> {
    await this.status.write(qj, {
      ...withoutProgress(next),
      observedGeneration: qj.metadata.generation ?? 0,
    });
  }
}
