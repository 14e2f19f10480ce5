// AnomalyService status from what the cache shows of its children and what GET /v1/status said: pure, so each
// condition's rule is unit-tested (status.test.ts). Counts the API could not be asked for keep their last value.
import { isDeepStrictEqual } from 'node:util';
import type { AnomalyService, AnomalyServiceStatus, LastScale } from '../../api/v1alpha1/index.js';
import type { KubeObject } from '../../kube/index.js';
import { setCondition, type Condition, type ConditionInput } from '../../meta/index.js';
import type { ScalingDecision } from './autoscale.js';
import { apiUrl, workerSelector } from './names.js';
import type { PoolStatus } from './poolstatus.js';

/** What the status is computed from. */
export interface StatusInputs {
  readonly svc: AnomalyService;
  /** Cached children (undefined while not created yet). */
  readonly redis?: KubeObject | undefined;
  readonly api?: KubeObject | undefined;
  readonly workers?: KubeObject | undefined;
  /** The pool status just read, or why it could not be (undefined: not asked, the API is not ready). */
  readonly pool?: { ok: true; status: PoolStatus } | { ok: false; error: string } | undefined;
  /** This reconcile's autoscaling decision, if one was made. */
  readonly decision?: ScalingDecision | undefined;
  /** Replicas before the decision (spec.workers.replicas as read). */
  readonly from?: number;
  readonly now: Date;
}

type Counts = { replicas?: number; readyReplicas?: number };
const countsOf = (o: KubeObject | undefined): Counts => o?.['status'] ?? {};

function cond(
  list: Condition[] | undefined,
  c: Omit<ConditionInput, 'observedGeneration'>,
  gen: number | undefined,
  now: Date,
): Condition[] {
  return setCondition(list, { ...c, ...(gen === undefined ? {} : { observedGeneration: gen }) }, now);
}

interface Verdict {
  ok: boolean;
  reason: string;
  message: string;
}

function redisVerdict(svc: AnomalyService, redis: KubeObject | undefined): Verdict {
  if (svc.spec.redis.external !== undefined) {
    return {
      ok: true,
      reason: 'External',
      message: 'external Redis (the API and workers report failures to reach it)',
    };
  }
  const ready = countsOf(redis).readyReplicas ?? 0;
  return ready >= 1
    ? { ok: true, reason: 'Ready', message: 'managed Redis is ready' }
    : { ok: false, reason: 'Starting', message: 'managed Redis is not ready yet' };
}

function apiVerdict(svc: AnomalyService, api: KubeObject | undefined): Verdict {
  const ready = countsOf(api).readyReplicas ?? 0;
  const msg = `${ready}/${svc.spec.api.replicas} API Pods ready`;
  return ready >= 1
    ? { ok: true, reason: 'Ready', message: msg }
    : { ok: false, reason: 'Starting', message: msg };
}

function workersVerdict(svc: AnomalyService, workers: KubeObject | undefined): Verdict {
  const want = svc.spec.workers.replicas;
  const ready = countsOf(workers).readyReplicas ?? 0;
  if (want === 0) return { ok: true, reason: 'ScaledToZero', message: 'spec.workers.replicas is 0' };
  const msg = `${ready}/${want} worker Pods ready`;
  return ready >= want
    ? { ok: true, reason: 'Ready', message: msg }
    : { ok: false, reason: 'Starting', message: msg };
}

function lastScaleOf(i: StatusInputs): LastScale | undefined {
  const d = i.decision;
  // AtDesired changes nothing: the last decision that did (or held a scale-down) stays in status.
  if (d === undefined || d.reason === 'AtDesired') return i.svc.status?.lastScale;
  const depth = i.pool?.ok === true ? i.pool.status.queueDepth : 0;
  const time = i.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const prev = i.svc.status?.lastScale;
  // A held scale-down repeats every poll; keep its first time so the status does not change on each one.
  if (
    prev !== undefined &&
    prev.reason === d.reason &&
    prev.replicas === d.replicas &&
    d.reason === 'StabilizingScaleDown'
  ) {
    return prev;
  }
  return {
    time,
    replicas: d.replicas,
    from: i.from ?? d.replicas,
    desired: d.desired,
    queueDepth: depth,
    reason: d.reason,
    message: d.message,
  };
}

function scalingCondition(i: StatusInputs): Omit<ConditionInput, 'observedGeneration'> {
  if (i.svc.spec.autoscaling === undefined) {
    return { type: 'Scaling', status: 'False', reason: 'Disabled', message: 'spec.autoscaling is unset' };
  }
  if (i.decision !== undefined) {
    return { type: 'Scaling', status: 'True', reason: i.decision.reason, message: i.decision.message };
  }
  const prev = i.svc.status?.conditions?.find((c) => c.type === 'Scaling');
  if (prev !== undefined && prev.status === 'True') return prev;
  return {
    type: 'Scaling',
    status: 'Unknown',
    reason: 'WaitingForStatus',
    message: 'waiting for the API to report its queue depth',
  };
}

/** queueDepth, jobsRunning, modelsStored: as just read, else as last written. */
function poolCounts(
  i: StatusInputs,
): Pick<AnomalyServiceStatus, 'queueDepth' | 'jobsRunning' | 'modelsStored'> {
  const pool = i.pool?.ok === true ? i.pool.status : i.svc.status;
  const out: Pick<AnomalyServiceStatus, 'queueDepth' | 'jobsRunning' | 'modelsStored'> = {};
  if (pool?.queueDepth !== undefined) out.queueDepth = pool.queueDepth;
  if (pool?.jobsRunning !== undefined) out.jobsRunning = pool.jobsRunning;
  if (pool?.modelsStored !== undefined) out.modelsStored = pool.modelsStored;
  return out;
}

/** The next status of an AnomalyService. */
export function anomalyStatus(i: StatusInputs): AnomalyServiceStatus {
  const { svc, now } = i;
  const prev = svc.status;
  const gen = svc.metadata.generation;
  const redis = redisVerdict(svc, i.redis);
  const api = apiVerdict(svc, i.api);
  const workers = workersVerdict(svc, i.workers);
  let c = prev?.conditions;
  const set = (x: Omit<ConditionInput, 'observedGeneration'>): void => {
    c = cond(c, x, gen, now);
  };
  const notReady = [
    ['RedisNotReady', redis],
    ['ApiNotReady', api],
    ['WorkersNotReady', workers],
  ].find(([, v]) => !(v as Verdict).ok) as [string, Verdict] | undefined;
  set(
    notReady === undefined
      ? {
          type: 'Ready',
          status: 'True',
          reason: 'Ready',
          message: 'the API, the workers and Redis are ready',
        }
      : { type: 'Ready', status: 'False', reason: notReady[0], message: notReady[1].message },
  );
  set({
    type: 'RedisReady',
    status: redis.ok ? 'True' : 'False',
    reason: redis.reason,
    message: redis.message,
  });
  set({ type: 'ApiReady', status: api.ok ? 'True' : 'False', reason: api.reason, message: api.message });
  set({
    type: 'WorkersReady',
    status: workers.ok ? 'True' : 'False',
    reason: workers.reason,
    message: workers.message,
  });
  set(scalingCondition(i));
  set(
    i.pool?.ok === false
      ? { type: 'Degraded', status: 'True', reason: 'StatusUnreachable', message: i.pool.error }
      : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no problem found' },
  );
  const out: AnomalyServiceStatus = {
    ...(gen === undefined ? {} : { observedGeneration: gen }),
    conditions: c ?? [],
    url: apiUrl(svc),
    workerReplicas: countsOf(i.workers).replicas ?? 0,
    readyWorkers: countsOf(i.workers).readyReplicas ?? 0,
    workerSelector: workerSelector(svc),
    ...poolCounts(i),
  };
  const last = lastScaleOf(i);
  if (last !== undefined) out.lastScale = last;
  return out;
}

/**
 * Whether two statuses say the same (conditions keep their transition times when unchanged). Key order is ignored:
 * the apiserver returns objects with sorted keys.
 */
export function sameStatus(a: AnomalyServiceStatus | undefined, b: AnomalyServiceStatus): boolean {
  return a !== undefined && isDeepStrictEqual(a, b);
}
