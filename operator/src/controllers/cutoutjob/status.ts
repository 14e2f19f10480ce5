// Pure: a CutoutJob's status while it executes and when it ends, from the plan's record (the positions ConfigMap's
// annotations), the shards' Indexed Job and the merge's report.
import type { KubeObject } from '../../api/object.js';
import type { CutoutJob, CutoutJobStatus, CutoutPhase } from '../../api/v1alpha1/index.js';
import { CONDITION, rfc3339, setCondition } from '../../meta/index.js';
import type { PlanRecord } from './plan.js';
import { parseIndexes, type JobStatusView } from './runner-pod.js';

/** Annotations of the positions ConfigMap recording the plan (read back instead of re-planning). */
export const PLAN_ANNOTATIONS = {
  positions: 'skyport.io/positions',
  shardSizes: 'skyport.io/shard-sizes',
  failed: 'skyport.io/settled-failed',
  unmatched: 'skyport.io/settled-unmatched',
} as const;

export type { PlanRecord };

/** The annotations recording a plan's counts (made by the operator, or reported by the runner's plan Job). */
export function planAnnotations(plan: PlanRecord): Record<string, string> {
  return {
    [PLAN_ANNOTATIONS.positions]: String(plan.positions),
    [PLAN_ANNOTATIONS.shardSizes]: plan.shardSizes.join(','),
    [PLAN_ANNOTATIONS.failed]: String(plan.failed),
    [PLAN_ANNOTATIONS.unmatched]: String(plan.unmatched),
  };
}

/** The plan read back from the ConfigMap's annotations; undefined when they are not (all) there. */
export function planRecord(cm: KubeObject | undefined): PlanRecord | undefined {
  const a = cm?.metadata?.annotations ?? {};
  const n = (k: string): number => Number(a[k] ?? NaN);
  const sizes = a[PLAN_ANNOTATIONS.shardSizes];
  const rec = {
    positions: n(PLAN_ANNOTATIONS.positions),
    shardSizes: sizes === undefined || sizes === '' ? [] : sizes.split(',').map(Number),
    failed: n(PLAN_ANNOTATIONS.failed),
    unmatched: n(PLAN_ANNOTATIONS.unmatched),
  };
  return [rec.positions, rec.failed, rec.unmatched, ...rec.shardSizes].every(Number.isInteger)
    ? rec
    : undefined;
}

/** The merge's report (services/cutout-runner/src/merge.ts `MergeReport`). */
export interface MergeReport {
  positions: number;
  counts: { ok: number; partial: number; unmatched: number; failed: number };
  files: number;
  bytes: number;
  missingShards: number[];
  results: { id: string; path: string; size: number; sha256: string }[];
}

/** Parses the merge pod's termination message; undefined when it is not a merge report. */
export function parseMergeReport(text: string): MergeReport | undefined {
  try {
    const o = JSON.parse(text) as MergeReport;
    const c = o.counts;
    const ok = [o.positions, o.files, o.bytes, c.ok, c.partial, c.unmatched, c.failed].every(
      Number.isInteger,
    );
    return ok && Array.isArray(o.results) ? o : undefined;
  } catch {
    return undefined;
  }
}

/** Parses the plan pod's report (services/cutout-runner/src/plan.ts `PlanReport`); undefined when it is not one. */
export function parsePlanReport(text: string): PlanRecord | undefined {
  let o: { v?: unknown; positions?: unknown; shardSizes?: unknown; failed?: unknown; unmatched?: unknown };
  try {
    o = JSON.parse(text) as typeof o;
  } catch {
    return undefined;
  }
  const count = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;
  const sizes: unknown[] = Array.isArray(o.shardSizes) ? (o.shardSizes as unknown[]) : [];
  if (o.v !== 1 || !Array.isArray(o.shardSizes) || !sizes.every(count)) return undefined;
  if (!count(o.positions) || !count(o.failed) || !count(o.unmatched)) return undefined;
  return { positions: o.positions, shardSizes: sizes, failed: o.failed, unmatched: o.unmatched };
}

/** The plan pod's error report (`{"error": {code, field?, message}}`); undefined when it is not one. */
export function parsePlanError(text: string): { code: string; message: string } | undefined {
  try {
    const e = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
    return typeof e?.code === 'string' && typeof e.message === 'string'
      ? { code: e.code, message: e.message }
      : undefined;
  } catch {
    return undefined;
  }
}

const TERMINAL: readonly CutoutPhase[] = ['COMPLETED', 'ERROR', 'ABORTED'];

/** Whether a phase is final (nothing more runs). */
export function isTerminal(phase: CutoutPhase | undefined): boolean {
  return phase !== undefined && TERMINAL.includes(phase);
}

/** Builds statuses for one job at one instant. */
export class StatusBuilder {
  constructor(
    private readonly job: CutoutJob,
    private readonly now: Date,
  ) {}

  private get gen() {
    const g = this.job.metadata.generation;
    return g === undefined ? {} : { observedGeneration: g };
  }

  /** `phase` with `message`, Ready/Degraded set, the rest of the previous status kept. */
  phase(
    phase: CutoutPhase,
    reason: string,
    message: string,
    extra: Partial<CutoutJobStatus> = {},
  ): CutoutJobStatus {
    const prev = this.job.status ?? {};
    let conditions = setCondition(
      prev.conditions,
      {
        type: CONDITION.Ready,
        status: phase === 'COMPLETED' ? 'True' : 'False',
        reason,
        message,
        ...this.gen,
      },
      this.now,
    );
    if (phase === 'ERROR' || prev.conditions?.some((c) => c.type === CONDITION.Degraded))
      conditions = setCondition(
        conditions,
        {
          type: CONDITION.Degraded,
          status: phase === 'ERROR' ? 'True' : 'False',
          reason,
          message,
          ...this.gen,
        },
        this.now,
      );
    const end = isTerminal(phase) ? { endTime: prev.endTime ?? rfc3339(this.now) } : {};
    return { ...prev, ...this.gen, phase, message, conditions, ...end, ...extra };
  }

  /** EXECUTING while the plan Job reads the QueryJob's result (nothing counted yet). */
  planning(message: string, outputPath: string): CutoutJobStatus {
    return this.phase('EXECUTING', 'Planning', message, {
      startTime: this.job.status?.startTime ?? rfc3339(this.now),
      outputPath,
    });
  }

  /** EXECUTING: progress from the Indexed Job's finished indexes. */
  executing(
    plan: PlanRecord,
    shards: KubeObject | undefined,
    merging: boolean,
    outputPath: string,
  ): CutoutJobStatus {
    const st = (shards?.['status'] ?? {}) as JobStatusView;
    const finished = new Set([...parseIndexes(st.completedIndexes), ...parseIndexes(st.failedIndexes)]);
    const settled = plan.failed + plan.unmatched;
    const inShards = plan.shardSizes.reduce((n, s, i) => n + (finished.has(i) ? s : 0), 0);
    const done = merging ? plan.positions : settled + inShards;
    const percent = plan.positions === 0 ? 100 : Math.floor((done * 100) / plan.positions);
    const message = merging
      ? `merging ${plan.shardSizes.length} shards' manifests`
      : `${finished.size} of ${plan.shardSizes.length} shards done, ${done} of ${plan.positions} positions`;
    return this.phase('EXECUTING', merging ? 'Merging' : 'Cutting', message, {
      startTime: this.job.status?.startTime ?? rfc3339(this.now),
      shards: plan.shardSizes.length,
      outputPath,
      counts: {
        positions: plan.positions,
        done,
        ok: 0,
        partial: 0,
        unmatched: plan.unmatched,
        failed: plan.failed,
      },
      progress: {
        shardsDone: merging ? plan.shardSizes.length : finished.size,
        positionsDone: done,
        percent,
      },
    });
  }

  /**
   * COMPLETED: the merge's counts, bytes and results (paths from the results volume's root), and `resultsUrl` when
   * the collection serves results.
   */
  completed(
    plan: PlanRecord,
    report: MergeReport,
    outputPath: string,
    resultsUrl: string | undefined,
  ): CutoutJobStatus {
    const c = report.counts;
    const lost =
      report.missingShards.length > 0
        ? `; shards ${report.missingShards.join(', ')} failed, their rows are marked failed`
        : '';
    const message = `${report.positions} positions: ${c.ok} ok, ${c.partial} partial, ${c.unmatched} unmatched, ${c.failed} failed${lost}`;
    return this.phase('COMPLETED', 'Completed', message, {
      shards: plan.shardSizes.length,
      outputPath,
      counts: { positions: report.positions, done: report.positions, ...c },
      bytes: report.bytes,
      files: report.files,
      progress: { shardsDone: plan.shardSizes.length, positionsDone: report.positions, percent: 100 },
      results: report.results.map((r) => ({
        id: r.id,
        path: `${outputPath}/${r.path}`,
        mimeType: r.path.endsWith('.csv') ? 'text/csv' : 'application/json',
        size: r.size,
        sha256: r.sha256,
      })),
      ...(resultsUrl !== undefined && { resultsUrl }),
    });
  }
}

/**
 * A COMPLETED job's status with `resultsUrl` as its collection says now (set, changed or removed as serving is
 * enabled, moved or disabled); other phases never carry one.
 */
export function withResultsUrl(
  status: CutoutJobStatus | undefined,
  url: string | undefined,
): CutoutJobStatus | undefined {
  if (status === undefined || status.phase !== 'COMPLETED' || status.resultsUrl === url) return undefined;
  const { resultsUrl: _old, ...rest } = status;
  return url === undefined ? rest : { ...rest, resultsUrl: url };
}

/** Whether two statuses say the same (transition times aside). */
export function sameCutoutStatus(a: CutoutJobStatus | undefined, b: CutoutJobStatus): boolean {
  const strip = (s: CutoutJobStatus | undefined) =>
    JSON.stringify({ ...s, conditions: s?.conditions?.map(({ lastTransitionTime: _t, ...c }) => c) });
  return strip(a) === strip(b);
}
