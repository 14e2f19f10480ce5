// Pure: what a runner Job and its Pods say about the query — UWS phase, attempts, and from the runner's termination
// message (services/query-runner/src/termination.ts) the result files or the error.
import type { QueryJobError, QueryJobPhase, QueryJobResult } from '../../api/v1alpha1/index.js';
import type { KubeObject } from '../../kube/index.js';
import { RUNNER_CONTAINER } from './build.js';

/** What the Job says. */
export interface RunOutcome {
  readonly phase: Extract<QueryJobPhase, 'QUEUED' | 'EXECUTING' | 'COMPLETED' | 'ERROR'>;
  /** Runner pods that ended. */
  readonly attempts: number;
  readonly rows?: number;
  readonly overflow?: boolean;
  readonly results?: QueryJobResult[];
  readonly error?: QueryJobError;
  /** When the Job finished (its condition's time). */
  readonly endTime?: string;
}

interface JobStatus {
  active?: number;
  ready?: number;
  failed?: number;
  succeeded?: number;
  conditions?: {
    type: string;
    status: string;
    reason?: string;
    message?: string;
    lastTransitionTime?: string;
  }[];
}

interface Terminated {
  exitCode?: number;
  message?: string;
  finishedAt?: string;
}

interface PodLike {
  status?: {
    phase?: string;
    containerStatuses?: { name: string; state?: { terminated?: Terminated } }[];
  };
}

interface Summary {
  rows?: unknown;
  overflow?: unknown;
  files?: unknown;
  error?: unknown;
}

function terminated(pod: KubeObject): Terminated | undefined {
  const cs = (pod as PodLike).status?.containerStatuses?.find((c) => c.name === RUNNER_CONTAINER);
  return cs?.state?.terminated;
}

function parse(message: string | undefined): Summary | undefined {
  if (message === undefined || message === '') return undefined;
  try {
    const v = JSON.parse(message) as unknown;
    return typeof v === 'object' && v !== null ? v : undefined;
  } catch {
    return undefined;
  }
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The result files of a termination message; malformed entries are left out. */
export function resultsOf(files: unknown): QueryJobResult[] {
  if (!Array.isArray(files)) return [];
  const out: QueryJobResult[] = [];
  for (const f of files as Record<string, unknown>[]) {
    if (typeof f !== 'object' || f === null) continue;
    const { name, mediaType, rows, bytes, sha256 } = f;
    if (
      !isStr(name) ||
      !isStr(mediaType) ||
      !isCount(bytes) ||
      !isStr(sha256) ||
      !/^[a-f0-9]{64}$/.test(sha256)
    )
      continue;
    out.push({ name, format: mediaType, bytes, sha256, ...(isCount(rows) ? { rows } : {}) });
  }
  return out;
}

function errorOf(summary: Summary | undefined): QueryJobError | undefined {
  const e = summary?.error as Record<string, unknown> | undefined;
  if (e === undefined || typeof e !== 'object') return undefined;
  const type = e['type'] === 'transient' ? 'transient' : 'fatal';
  const code = isStr(e['code']) ? e['code'] : 'RunnerFailed';
  const message = isStr(e['message']) ? e['message'] : 'the query runner failed';
  return { type, code, message };
}

function byFinish(pods: readonly KubeObject[]): KubeObject[] {
  return [...pods].sort((a, b) =>
    (terminated(a)?.finishedAt ?? '').localeCompare(terminated(b)?.finishedAt ?? ''),
  );
}

/** The Job's outcome; `pods` are the Job's pods (any order). */
export function jobOutcome(job: KubeObject, pods: readonly KubeObject[]): RunOutcome {
  const st = ((job as { status?: JobStatus }).status ?? {}) satisfies JobStatus;
  const attempts = (st.failed ?? 0) + (st.succeeded ?? 0);
  const cond = (type: string) => st.conditions?.find((c) => c.type === type && c.status === 'True');
  const complete = cond('Complete');
  if (complete !== undefined) {
    const ok = byFinish(pods.filter((p) => terminated(p)?.exitCode === 0)).pop();
    const s = parse(ok === undefined ? undefined : terminated(ok)?.message);
    return {
      phase: 'COMPLETED',
      attempts,
      ...(isCount(s?.rows) ? { rows: s.rows } : {}),
      ...(typeof s?.overflow === 'boolean' ? { overflow: s.overflow } : {}),
      results: resultsOf(s?.files),
      ...(complete.lastTransitionTime === undefined ? {} : { endTime: complete.lastTransitionTime }),
    };
  }
  const failed = cond('Failed');
  if (failed !== undefined) {
    const last = byFinish(pods.filter((p) => (terminated(p)?.exitCode ?? 0) !== 0)).pop();
    const fromRunner = errorOf(parse(last === undefined ? undefined : terminated(last)?.message));
    const error: QueryJobError =
      failed.reason === 'DeadlineExceeded'
        ? {
            type: 'fatal',
            code: 'ExecutionDurationExceeded',
            message: `the Job's activeDeadlineSeconds passed: ${failed.message ?? 'deadline exceeded'}`,
          }
        : (fromRunner ?? {
            type: 'fatal',
            code: 'RunnerFailed',
            message: `the runner Job failed (${failed.reason ?? 'Failed'}): ${failed.message ?? ''}`.trim(),
          });
    return {
      phase: 'ERROR',
      attempts,
      error,
      ...(failed.lastTransitionTime === undefined ? {} : { endTime: failed.lastTransitionTime }),
    };
  }
  const running = (st.active ?? 0) > 0 && pods.some((p) => (p as PodLike).status?.phase === 'Running');
  return { phase: running ? 'EXECUTING' : 'QUEUED', attempts };
}
