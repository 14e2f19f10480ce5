// When the lab Pod may be created. With its home claim when the claim's StorageClass binds on first consumer (the
// scheduler provisions the volume for the Pod), or when few claims are waiting to bind: a Pod created before its
// immediate-binding claim is bound fails scheduling once ("pod has unbound immediate PersistentVolumeClaims"), and
// the binding puts it straight back (kube-scheduler ≥ 1.33 takes a Pod from its back-off queue when nothing else
// waits), so it starts one reconcile, create and scheduling round sooner than a Pod created after the binding. Under a
// start storm that churn (failed attempts, FailedScheduling Events, condition writes, back-offs that do apply when the
// scheduler is busy) costs the control plane more than the Pod itself: once EARLY_POD_MAX_WAITING claims are waiting,
// new Pods wait for their claim to bind. A claim that never binds is reported, not waited on silently.
import type { V1PersistentVolumeClaim } from '../../kube/index.js';
import type { PodFailure } from './pod.js';
import { FAIL_REASON } from './pod.js';

/** Annotation marking the cluster's default StorageClass. */
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

/** Default for how long a home claim may stay unbound before the lab is Degraded (HomeVolumePending). */
export const HOME_BIND_TIMEOUT_MS = 60_000;

/**
 * Home claims waiting to bind (the operator's cache: every lab's) from which on a new lab Pod waits for its claim to
 * bind instead of being created with it. The cache lags the operator's own writes by a watch delivery, so a burst of
 * new labs can start a few more early Pods than this before their claims are seen.
 */
export const EARLY_POD_MAX_WAITING = 8;

/** Whether a new lab Pod waits for its home claim to bind; `waitingClaims` is only asked for a waiting claim. */
export function holdsPod(home: HomeState, waitingClaims: () => number, max = EARLY_POD_MAX_WAITING): boolean {
  return home.kind === 'waiting' && waitingClaims() >= max;
}

/** Claims in `claims` that are not bound. */
export function unboundClaims(claims: readonly V1PersistentVolumeClaim[]): number {
  let n = 0;
  for (const c of claims) if (c.status?.phase !== 'Bound') n++;
  return n;
}

/** What reconcile reads of a StorageClass. */
export interface StorageClassLite {
  metadata?: { name?: string; annotations?: Record<string, string>; creationTimestamp?: string };
  volumeBindingMode?: string;
}

/** The home claim's state as far as starting the Pod is concerned. */
export type HomeState =
  | { readonly kind: 'bound' }
  /** The class binds on first consumer: create the Pod, the scheduler gets the volume. */
  | { readonly kind: 'consumer'; readonly className: string }
  /** Waiting for the claim to bind (immediate binding); `since` is the claim's creation time, if it exists. */
  | { readonly kind: 'waiting'; readonly className: string; readonly since?: string };

/** The default StorageClass as the apiserver picks it: the newest class marked default. */
export function defaultClass(classes: readonly StorageClassLite[]): StorageClassLite | undefined {
  let best: StorageClassLite | undefined;
  for (const c of classes) {
    if (c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] !== 'true') continue;
    if (best === undefined || (c.metadata.creationTimestamp ?? '') > (best.metadata?.creationTimestamp ?? ''))
      best = c;
  }
  return best;
}

/**
 * The home claim's state. The class is the claim's (the apiserver fills in the default at admission), else the
 * one the lab asks for, else the cluster default; no class (`""`) or an unknown one means immediate binding.
 */
export function homeState(
  pvc: V1PersistentVolumeClaim | undefined,
  requestedClass: string | undefined,
  classes: readonly StorageClassLite[],
): HomeState {
  if (pvc?.status?.phase === 'Bound') return { kind: 'bound' };
  const className =
    pvc?.spec?.storageClassName ?? requestedClass ?? defaultClass(classes)?.metadata?.name ?? '';
  const sc = className === '' ? undefined : classes.find((c) => c.metadata?.name === className);
  if (sc?.volumeBindingMode === 'WaitForFirstConsumer') return { kind: 'consumer', className };
  const since = pvc === undefined ? undefined : (pvc.metadata?.creationTimestamp ?? '');
  return since === undefined || since === ''
    ? { kind: 'waiting', className }
    : { kind: 'waiting', className, since };
}

/**
 * The failure to report when an immediate-binding claim has waited longer than `timeoutMs`, and otherwise how
 * long until it would (so reconcile comes back then even if no event arrives).
 */
export function homeBindCheck(
  state: HomeState,
  claimName: string,
  now: Date,
  timeoutMs: number,
): { failure?: PodFailure; recheckMs?: number } {
  if (state.kind !== 'waiting' || state.since === undefined) return {};
  const waited = now.getTime() - Date.parse(state.since);
  if (waited < timeoutMs) return { recheckMs: timeoutMs - waited };
  const cls = state.className === '' ? 'no StorageClass' : `StorageClass ${state.className}`;
  return {
    failure: {
      reason: FAIL_REASON.HomeVolumePending,
      message: `Home volume claim ${claimName} (${cls}) has not bound after ${Math.round(waited / 1000)} s`,
      hint: `Ask an admin to check the storage class and its provisioner (kubectl describe pvc ${claimName})`,
    },
  };
}
