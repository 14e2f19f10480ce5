// Pure reading of a lab Pod's status: how far it got, and the fail-fast reasons (unschedulable, image pull,
// crash loop, OOM kill) with stable codes and hints.
import type { V1ContainerStatus, V1Pod } from '../../kube/index.js';

/** Stable `Degraded` reasons for a lab that cannot come up. */
export const FAIL_REASON = {
  Unschedulable: 'Unschedulable',
  ImagePullFailed: 'ImagePullFailed',
  CrashLoop: 'CrashLoop',
  OOMKilled: 'OOMKilled',
  PodFailed: 'PodFailed',
  HomeVolumePending: 'HomeVolumePending',
} as const;
/** One of {@link FAIL_REASON}. */
export type FailReason = (typeof FAIL_REASON)[keyof typeof FAIL_REASON];

/** A fail-fast finding. */
export interface PodFailure {
  reason: FailReason;
  message: string;
  hint: string;
}

/** The last time the lab container terminated. */
export interface Termination {
  reason: string;
  exitCode?: number;
  message?: string;
  at?: string;
}

/** What a Pod's status says about a lab. */
export interface PodReading {
  /** Furthest stage reached. */
  stage: 'Absent' | 'Created' | 'Scheduled' | 'Started' | 'Ready' | 'Terminating' | 'Ended';
  failure?: PodFailure;
  /** Set when the lab container was OOM killed at some point, even if it now runs again. */
  oomKilled?: Termination;
  lastTermination?: Termination;
  scheduledAt?: string;
  startedAt?: string;
  readyAt?: string;
  restarts: number;
}

/** The name of the Jupyter container in every lab Pod. */
export const LAB_CONTAINER = 'lab';
/** Restarts after which a restarting container counts as a crash loop even before kubelet says so. */
export const CRASH_RESTARTS = 3;

function condTime(pod: V1Pod, type: string): string | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === type && x.status === 'True');
  return c === undefined ? undefined : c.lastTransitionTime;
}

function termination(cs: V1ContainerStatus | undefined): Termination | undefined {
  const t = cs?.state?.terminated ?? cs?.lastState?.terminated;
  if (t === undefined) return undefined;
  const out: Termination = { reason: t.reason ?? (t.exitCode === 0 ? 'Completed' : 'Error') };
  out.exitCode = t.exitCode;
  if (t.message !== undefined && t.message !== '') out.message = t.message;
  const at = t.finishedAt;
  if (at !== undefined) out.at = at;
  return out;
}

function waitingFailure(cs: V1ContainerStatus, image: string): PodFailure | undefined {
  const w = cs.state?.waiting;
  if (w === undefined) return undefined;
  const detail = w.message !== undefined && w.message !== '' ? `: ${w.message}` : '';
  if (w.reason === 'ErrImagePull' || w.reason === 'ImagePullBackOff' || w.reason === 'InvalidImageName') {
    return {
      reason: FAIL_REASON.ImagePullFailed,
      message: `Image ${image} cannot be pulled (${w.reason}${detail})`,
      hint: 'Check the image alias in the profile, the registry and the pull secret; pick another image.',
    };
  }
  if (w.reason === 'CrashLoopBackOff') {
    return {
      reason: FAIL_REASON.CrashLoop,
      message: `The lab container keeps crashing (${cs.restartCount} restarts)${detail}`,
      hint: 'Start with a different image or reset the user environment; check the lab logs.',
    };
  }
  return undefined;
}

function unschedulable(pod: V1Pod): PodFailure | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
  if (c?.status !== 'False' || c.reason !== 'Unschedulable') return undefined;
  // Waiting for a claim to bind is not a lack of capacity: the home volume check reports a claim that never binds.
  if (/unbound immediate PersistentVolumeClaims/i.test(c.message ?? '')) return undefined;
  return {
    reason: FAIL_REASON.Unschedulable,
    message: `No node can run the lab: ${c.message ?? 'unschedulable'}`,
    hint: 'Choose a smaller size or ask an admin for capacity.',
  };
}

function stageOf(pod: V1Pod, cs: V1ContainerStatus | undefined, scheduled: boolean): PodReading['stage'] {
  if (pod.metadata?.deletionTimestamp !== undefined) return 'Terminating';
  if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded') return 'Ended';
  if (cs?.ready === true) return 'Ready';
  if (cs?.state?.running !== undefined) return 'Started';
  if (scheduled || (pod.spec?.nodeName ?? '') !== '') return 'Scheduled';
  return 'Created';
}

function isOom(cs: V1ContainerStatus | undefined): boolean {
  return cs?.lastState?.terminated?.reason === 'OOMKilled' || cs?.state?.terminated?.reason === 'OOMKilled';
}

/** When the Pod was scheduled, its server started and became ready, as far as the Pod records them. */
function podTimes(
  pod: V1Pod,
  cs: V1ContainerStatus | undefined,
): Pick<PodReading, 'scheduledAt' | 'startedAt' | 'readyAt'> {
  const out: Pick<PodReading, 'scheduledAt' | 'startedAt' | 'readyAt'> = {};
  // kwok and some kubelets leave out PodScheduled=True; a bound Pod's startTime is the next best record.
  const scheduledAt =
    condTime(pod, 'PodScheduled') ?? ((pod.spec?.nodeName ?? '') !== '' ? pod.status?.startTime : undefined);
  if (scheduledAt !== undefined) out.scheduledAt = scheduledAt;
  const startedAt = cs?.state?.running?.startedAt;
  if (startedAt !== undefined) out.startedAt = startedAt;
  const readyAt = cs?.ready === true ? condTime(pod, 'Ready') : undefined;
  if (readyAt !== undefined) out.readyAt = readyAt;
  return out;
}

/** Reads a lab Pod (or its absence). Pure: no clock, no I/O. */
export function readPod(pod: V1Pod | undefined): PodReading {
  if (pod === undefined) return { stage: 'Absent', restarts: 0 };
  const cs = pod.status?.containerStatuses?.find((c) => c.name === LAB_CONTAINER);
  const image = pod.spec?.containers.find((c) => c.name === LAB_CONTAINER)?.image ?? '(unknown image)';
  const times = podTimes(pod, cs);
  const reading: PodReading = {
    stage: stageOf(pod, cs, times.scheduledAt !== undefined),
    restarts: cs?.restartCount ?? 0,
    ...times,
  };
  const last = termination(cs);
  if (last !== undefined) reading.lastTermination = last;
  if (isOom(cs)) reading.oomKilled = last ?? { reason: 'OOMKilled' };
  const failure = findFailure(pod, cs, image, reading);
  if (failure !== undefined) reading.failure = failure;
  return reading;
}

function findFailure(
  pod: V1Pod,
  cs: V1ContainerStatus | undefined,
  image: string,
  reading: PodReading,
): PodFailure | undefined {
  if (reading.stage === 'Terminating') return undefined;
  const sched = unschedulable(pod);
  if (sched !== undefined) return sched;
  if (reading.stage === 'Ended') {
    const t = reading.lastTermination;
    if (t?.reason === 'OOMKilled') return oomFailure(pod, t);
    return {
      reason: FAIL_REASON.PodFailed,
      message: `The lab Pod ended (${pod.status?.phase ?? 'unknown'}${t === undefined ? '' : `, ${t.reason}`}): ${pod.status?.message ?? t?.message ?? 'no message'}`,
      hint: 'Stop and start the lab to try again; check the lab logs.',
    };
  }
  if (cs === undefined) return undefined;
  const waiting = waitingFailure(cs, image);
  // An OOM kill followed by a crash loop is reported as the OOM kill: it says what to change (the size).
  if (reading.oomKilled !== undefined && reading.stage !== 'Ready') return oomFailure(pod, reading.oomKilled);
  if (waiting !== undefined) return waiting;
  if (cs.ready !== true && cs.restartCount >= CRASH_RESTARTS) {
    return {
      reason: FAIL_REASON.CrashLoop,
      message: `The lab container restarted ${cs.restartCount} times${reading.lastTermination === undefined ? '' : ` (last: ${reading.lastTermination.reason})`}`,
      hint: 'Start with a different image or reset the user environment; check the lab logs.',
    };
  }
  if (reading.oomKilled !== undefined) return oomFailure(pod, reading.oomKilled);
  return undefined;
}

function oomFailure(pod: V1Pod, t: Termination): PodFailure {
  const limit = pod.spec?.containers.find((c) => c.name === LAB_CONTAINER)?.resources?.limits?.['memory'];
  return {
    reason: FAIL_REASON.OOMKilled,
    message: `The lab ran out of memory and was killed${limit === undefined ? '' : ` (limit ${String(limit)})`}${t.at === undefined ? '' : ` at ${t.at}`}`,
    hint: 'Choose a larger size or use less memory (load data in chunks).',
  };
}
