// Pure status computation: phase, conditions, progress steps and culling fields from what reconcile observed.
// Level-based — recomputed from the children every time — and stable: unchanged inputs give an equal status,
// so reconcile can skip the write (no status reconcile loops, kubeflow/notebooks#1343).
import type { V1PersistentVolumeClaim } from '../../kube/index.js';
import type {
  LabPhase,
  LastTermination,
  NotebookLab,
  NotebookLabStatus,
  ProgressStep,
  ProgressState,
} from '../../api/v1alpha1/index.js';
import { CONDITION, rfc3339, setCondition } from '../../meta/index.js';
import type { Condition } from '../../meta/index.js';
import type { CullDecision } from './culling/policy.js';
import { keptMessage } from './kept.js';
import type { PodReading } from './pod.js';
import type { QuotaVerdict } from './quota.js';

/** The extra condition type set while a lab is about to be culled. */
export const IDLE_WARNING = 'IdleWarning';

/**
 * The extra condition type set while the running server was started from an older spec or profile (the admin moved
 * an image alias, the user changed the size or env): a running Pod is never replaced, so it applies at the next start.
 */
export const UPDATE_PENDING = 'UpdatePending';

/** Everything {@link computeStatus} looks at. */
export interface StatusInput {
  lab: NotebookLab;
  now: Date;
  /** A spec or profile problem that stops everything (InvalidSpec, ProfileNotFound), if any. */
  invalid?: { reason: string; message: string };
  /**
   * With `invalid`: the lab's running Pod is kept (kept.ts) — its phase follows the Pod, Degraded says why it
   * cannot start again, and `limited` whether a maximum lifetime still ends it.
   */
  kept?: { limited: boolean };
  quota?: QuotaVerdict;
  /** Resolved image, size, URL — absent when `invalid`. */
  resolved?: { image: string; size: string; url: string };
  /** The home claim's name; reported only while the claim exists or the lab is starting (it is being created). */
  homeClaimName?: string;
  /** The lab's own home claim, if it exists. */
  pvc: V1PersistentVolumeClaim | undefined;
  /** Names of children applied successfully in this reconcile (Secret, Service, NetworkPolicy, Pod). */
  applied: ReadonlySet<'Secret' | 'Service' | 'NetworkPolicy' | 'Pod'>;
  pod: PodReading;
  /** When the current Pod was created (maxLifetime counts from here). */
  podCreatedAt?: string;
  culling?: { decision: CullDecision; lastActivity?: Date };
  /**
   * Set by reconcile when it just stopped the lab (cull, max lifetime, the user's `spec.state: Stopped`, or the
   * quota refusing a running lab).
   */
  stoppedBy?: { reason: 'Culled' | 'MaxLifetime' | 'User' | 'QuotaExceeded'; message: string };
  /** The image the lab Pod runs, when there is one. */
  runningImage?: string;
  /** True when the running Pod differs from the one the lab and its profile would get now (see {@link UPDATE_PENDING}). */
  outdated?: boolean;
}

type Step = { name: string; state: ProgressState; message?: string; at?: string };

function phaseAndMessage(i: StatusInput): { phase: LabPhase; message: string } {
  const { lab, pod } = i;
  if (lab.metadata.deletionTimestamp !== undefined)
    return { phase: 'Stopping', message: 'Lab is being deleted' };
  if (i.invalid !== undefined && i.kept === undefined) return { phase: 'Failed', message: i.invalid.message };
  if (lab.spec.state === 'Stopped') {
    if (pod.stage !== 'Absent') return { phase: 'Stopping', message: 'Waiting for the lab Pod to terminate' };
    // A lab that never started has no home claim: nothing is kept.
    return i.pvc === undefined
      ? { phase: 'Stopped', message: 'Lab is stopped' }
      : { phase: 'Stopped', message: 'Lab is stopped; its home volume is kept' };
  }
  if (i.quota !== undefined && !i.quota.admitted) return { phase: 'Failed', message: i.quota.message };
  const f = pod.failure;
  if (f !== undefined && !(pod.stage === 'Ready' && f.reason === 'OOMKilled')) {
    return { phase: 'Failed', message: `${f.message}. ${f.hint}` };
  }
  switch (pod.stage) {
    case 'Ready':
      return { phase: 'Running', message: 'Lab is ready' };
    case 'Absent':
    case 'Created':
      return { phase: 'Pending', message: 'Waiting for the lab Pod to be scheduled' };
    case 'Terminating':
      return { phase: 'Pending', message: 'Waiting for the previous lab Pod to terminate' };
    case 'Ended':
      return { phase: 'Failed', message: 'The lab Pod ended' };
    default:
      return { phase: 'Starting', message: 'Lab server is starting' };
  }
}

function homeStep(i: StatusInput): Step {
  if (i.pvc?.status?.phase === 'Bound') return { name: 'HomeVolume', state: 'Succeeded' };
  const f = i.pod.failure;
  if (f?.reason === 'HomeVolumePending') return { name: 'HomeVolume', state: 'Failed', message: f.message };
  return {
    name: 'HomeVolume',
    state: 'Running',
    message: `Waiting for ${i.homeClaimName ?? 'the home claim'} to bind`,
  };
}

function steps(i: StatusInput): Step[] {
  const { pod } = i;
  const out: Step[] = [];
  const admitted = i.quota === undefined || i.quota.admitted;
  out.push(
    admitted
      ? { name: 'Admitted', state: 'Succeeded' }
      : { name: 'Admitted', state: 'Failed', message: i.quota?.admitted === false ? i.quota.message : '' },
  );
  if (!admitted) return out;
  out.push(homeStep(i));
  for (const n of ['Secret', 'Service', 'NetworkPolicy'] as const) {
    if (i.applied.has(n)) out.push({ name: n, state: 'Succeeded' });
  }
  const f = pod.failure;
  out.push(
    pod.stage === 'Absent'
      ? { name: 'Pod', state: 'Running' }
      : { name: 'Pod', state: 'Succeeded', ...at(i.podCreatedAt) },
  );
  if (pod.stage === 'Absent') return out;
  if (f?.reason === 'Unschedulable') out.push({ name: 'Scheduled', state: 'Failed', message: f.message });
  else if (pod.scheduledAt !== undefined)
    out.push({ name: 'Scheduled', state: 'Succeeded', at: pod.scheduledAt });
  else out.push({ name: 'Scheduled', state: 'Running' });
  if (pod.scheduledAt === undefined) return out;
  const started = pod.startedAt !== undefined || pod.stage === 'Ready' || pod.restarts > 0;
  if (f?.reason === 'ImagePullFailed') out.push({ name: 'ImagePulled', state: 'Failed', message: f.message });
  else if (started) out.push({ name: 'ImagePulled', state: 'Succeeded', ...at(pod.startedAt) });
  else out.push({ name: 'ImagePulled', state: 'Running' });
  if (!started) return out;
  if (pod.stage === 'Ready') out.push({ name: 'ServerReady', state: 'Succeeded', ...at(pod.readyAt) });
  else if (f !== undefined) out.push({ name: 'ServerReady', state: 'Failed', message: f.message });
  else out.push({ name: 'ServerReady', state: 'Running' });
  return out;
}

function at(v: string | undefined): { at?: string } {
  return v === undefined ? {} : { at: v };
}

/**
 * Merges freshly observed steps with the previous progress: a step keeps its timestamps while its state is
 * unchanged; `startedAt` is when it was first seen, `finishedAt` when it succeeded or failed (the observed time
 * from the Pod where there is one, else `now`).
 */
function mergeProgress(prev: readonly ProgressStep[] | undefined, next: Step[], now: string): ProgressStep[] {
  return next.map((s) => {
    const old = prev?.find((p) => p.name === s.name);
    const startedAt = old?.startedAt ?? s.at ?? now;
    const step: ProgressStep = { name: s.name, state: s.state, startedAt };
    if (s.message !== undefined && s.message !== '') step.message = s.message;
    if (s.state === 'Succeeded' || s.state === 'Failed') {
      step.finishedAt =
        old?.state === s.state && old.finishedAt !== undefined ? old.finishedAt : (s.at ?? now);
    }
    return step;
  });
}

/** The reasons the operator records when it stops a lab (see {@link StatusInput.stoppedBy}). */
const STOP_REASONS: ReadonlySet<string> = new Set(['Culled', 'MaxLifetime', 'User', 'QuotaExceeded']);

function lastTermination(i: StatusInput, now: string): LastTermination | undefined {
  const prev = i.lab.status?.lastTermination;
  if (i.stoppedBy !== undefined) return { reason: i.stoppedBy.reason, message: i.stoppedBy.message, at: now };
  const t = i.pod.lastTermination;
  // A Pod the operator stopped ends after the stop was recorded: a real kubelet reports its container Completed
  // (or Error) while the Pod terminates. That exit is the stop's consequence, so the stop's reason stays.
  const stopping = i.lab.spec.state === 'Stopped' || i.pod.stage === 'Terminating';
  if (t !== undefined && stopping && prev !== undefined && STOP_REASONS.has(prev.reason)) return prev;
  if (t !== undefined) {
    const rec: LastTermination = {
      reason: t.reason,
      at: t.at ?? (prev?.reason === t.reason ? prev.at : now),
    };
    if (t.message !== undefined) rec.message = t.message;
    if (t.exitCode !== undefined) rec.exitCode = t.exitCode;
    return rec;
  }
  return prev;
}

/** The problem that makes the lab Degraded, most fundamental first: spec, then quota, then the Pod. */
function degradedOf(i: StatusInput): { reason: string; message: string } | undefined {
  if (i.invalid !== undefined && i.kept !== undefined)
    return { reason: i.invalid.reason, message: keptMessage(i.invalid, i.kept.limited) };
  if (i.invalid !== undefined) return i.invalid;
  if (i.lab.spec.state !== 'Running') return undefined;
  if (i.quota !== undefined && !i.quota.admitted) return { reason: i.quota.reason, message: i.quota.message };
  const f = i.pod.failure;
  return f === undefined ? undefined : { reason: f.reason, message: `${f.message}. Hint: ${f.hint}` };
}

/** Sets {@link UPDATE_PENDING} while the running server is outdated; withdraws it (False) once it is not. */
function updatePending(
  i: StatusInput,
  set: (type: string, status: Condition['status'], reason: string, msg: string) => void,
  list: readonly Condition[],
): void {
  // A kept lab has nothing current to compare its Pod with: the condition stays as it was.
  if (i.kept !== undefined) return;
  const restart = 'stop and start the lab to use it (its home volume is kept)';
  const wanted = i.resolved?.image;
  if (i.outdated === true) {
    if (i.runningImage !== undefined && wanted !== undefined && i.runningImage !== wanted)
      set(
        UPDATE_PENDING,
        'True',
        'ImageChanged',
        `Running ${i.runningImage}; the lab now resolves to ${wanted}: ${restart}`,
      );
    else
      set(
        UPDATE_PENDING,
        'True',
        'SpecChanged',
        `The lab's spec or profile changed since its server started: ${restart}`,
      );
  } else if (list.some((c) => c.type === UPDATE_PENDING && c.status === 'True')) {
    if (i.runningImage === undefined || i.lab.spec.state !== 'Running')
      set(
        UPDATE_PENDING,
        'False',
        'NotRunning',
        'No lab server runs; the next start uses the current spec and profile',
      );
    else set(UPDATE_PENDING, 'False', 'UpToDate', "The lab's server matches its spec and profile");
  }
}

function conditions(i: StatusInput, phase: LabPhase, message: string): Condition[] {
  const gen = i.lab.metadata.generation ?? 0;
  let list = (i.lab.status?.conditions ?? []) as Condition[];
  const set = (type: string, status: Condition['status'], reason: string, msg: string): void => {
    list = setCondition(list, { type, status, reason, message: msg, observedGeneration: gen }, i.now);
  };
  const degraded = degradedOf(i);
  if (degraded !== undefined) set(CONDITION.Degraded, 'True', degraded.reason, degraded.message);
  else set(CONDITION.Degraded, 'False', 'AsExpected', 'No problem found');

  if (phase === 'Running')
    set(CONDITION.Ready, 'True', 'LabReady', `Lab is ready at ${i.resolved?.url ?? ''}`);
  else set(CONDITION.Ready, 'False', degraded?.reason ?? phase, message);

  const progressing = phase === 'Pending' || phase === 'Starting' || phase === 'Stopping';
  set(CONDITION.Progressing, progressing ? 'True' : 'False', progressing ? phase : 'Settled', message);

  updatePending(i, set, list);

  const d = i.culling?.decision;
  if (d !== undefined && d.action === 'warn' && d.cullAt !== undefined) {
    const why = d.reason === 'MaxLifetime' ? 'reaches its maximum lifetime' : 'has been idle too long';
    set(
      IDLE_WARNING,
      'True',
      d.reason === 'MaxLifetime' ? 'MaxLifetimeSoon' : 'IdleSoon',
      `Lab ${why} and will be stopped at ${rfc3339(d.cullAt)}`,
    );
  } else if (
    i.stoppedBy !== undefined &&
    i.stoppedBy.reason !== 'User' &&
    list.some((c) => c.type === IDLE_WARNING)
  ) {
    set(IDLE_WARNING, 'False', i.stoppedBy.reason, i.stoppedBy.message);
  } else if (list.some((c) => c.type === IDLE_WARNING && c.status === 'True')) {
    // Activity came back (or the lab stopped): withdraw the warning; a False one is left as it is.
    set(IDLE_WARNING, 'False', 'Active', 'Lab is not about to be culled');
  }
  return list;
}

/** The fields that describe the current start (progress, times, culling) of a lab meant to be running. */
function startFields(
  i: StatusInput,
  running: boolean,
  now: string,
): Pick<NotebookLabStatus, 'progress' | 'startedAt' | 'lastActivity' | 'cullAt'> {
  const out: Pick<NotebookLabStatus, 'progress' | 'startedAt' | 'lastActivity' | 'cullAt'> = {};
  // Progress describes the current start; a stopped lab has none, so the next start begins afresh. A kept lab's
  // start is over and cannot be observed again (nothing is applied for it): its progress stays as it was.
  if (running && i.kept === undefined) out.progress = mergeProgress(i.lab.status?.progress, steps(i), now);
  else if (running && i.lab.status?.progress !== undefined) out.progress = i.lab.status.progress;
  if (running && i.podCreatedAt !== undefined) out.startedAt = i.podCreatedAt;
  const prevActivity = i.lab.status?.lastActivity;
  const la = i.culling?.lastActivity;
  if (la !== undefined) out.lastActivity = rfc3339(la);
  else if (prevActivity !== undefined) out.lastActivity = prevActivity;
  const cullAt = i.culling?.decision.cullAt;
  if (running && cullAt !== undefined && i.pod.stage !== 'Absent') out.cullAt = rfc3339(cullAt);
  return out;
}

/** Computes the lab's status. Pure: the clock comes in as `input.now`. */
export function computeStatus(i: StatusInput): NotebookLabStatus {
  const now = rfc3339(i.now);
  const { phase, message } = phaseAndMessage(i);
  const status: NotebookLabStatus = {
    observedGeneration: i.lab.metadata.generation ?? 0,
    phase,
    message,
    conditions: conditions(i, phase, message),
  };
  const running =
    i.lab.spec.state === 'Running' &&
    (i.invalid === undefined || i.kept !== undefined) &&
    i.lab.metadata.deletionTimestamp === undefined;
  const admitted = i.quota === undefined || i.quota.admitted;
  if (i.homeClaimName !== undefined && (i.pvc !== undefined || (running && admitted)))
    status.homeClaimName = i.homeClaimName;
  if (i.resolved !== undefined) {
    status.url = i.resolved.url;
    // What runs, while a Pod does (an older image until the next start when the alias moved); else what will.
    status.image = i.runningImage ?? i.resolved.image;
    status.size = i.resolved.size;
  }
  Object.assign(status, startFields(i, running, now));
  const lt = lastTermination(i, now);
  if (lt !== undefined) status.lastTermination = lt;
  return status;
}

/** Deep equality of two statuses as JSON, to skip writing an unchanged status. */
export function sameStatus(a: NotebookLabStatus | undefined, b: NotebookLabStatus): boolean {
  return a !== undefined && canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val !== null && typeof val === 'object' && !Array.isArray(val)) {
      return Object.fromEntries(
        Object.entries(val as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
      );
    }
    return val;
  });
}
