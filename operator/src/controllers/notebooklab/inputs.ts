// The status computation's input from what one reconcile found and did (status.ts computes from it).
import type { KubeObject, V1Pod } from '../../kube/index.js';
import type { ResolvedLab } from './build.js';
import type { CullDecision } from './culling/policy.js';
import { builtFromOther } from '../../runtime/index.js';
import type { homeBindCheck } from './home.js';
import { keepsRunning, keptResolved } from './kept.js';
import { LAB_CONTAINER, readPod } from './pod.js';
import type { QuotaVerdict } from './quota.js';
import type { StatusInput } from './status.js';

/** What stopping or culling did, for the status. */
export interface CullOutcome {
  podGone: boolean;
  culling?: { decision: CullDecision; lastActivity?: Date };
  stoppedBy?: StatusInput['stoppedBy'];
  requeueAfterMs?: number;
}

function imageOf(pod: V1Pod | undefined): string | undefined {
  return pod?.spec?.containers.find((c) => c.name === LAB_CONTAINER)?.image;
}

/** The status computation's input from what one reconcile found and did. */
export function statusInputOf(
  base: Omit<StatusInput, 'applied' | 'pod'>,
  run: {
    quota: QuotaVerdict;
    resolved: ResolvedLab;
    applied: StatusInput['applied'];
    pod: V1Pod | undefined;
    outcome: CullOutcome;
    homeFailure: ReturnType<typeof homeBindCheck>['failure'];
    /** The Pod the lab would get now, with its spec hash. */
    desiredPod: KubeObject | undefined;
  },
): StatusInput {
  const { pod, outcome } = run;
  const read = readPod(outcome.podGone ? undefined : pod);
  const live =
    pod === undefined || outcome.podGone || pod.metadata?.deletionTimestamp !== undefined ? undefined : pod;
  const runningImage = imageOf(live);
  return {
    ...base,
    ...(runningImage === undefined ? {} : { runningImage }),
    // The Pod carries the hash of what it was built from: another hash now means the lab would start differently.
    ...(live !== undefined && run.desiredPod !== undefined && builtFromOther(run.desiredPod, live)
      ? { outdated: true }
      : {}),
    quota: run.quota,
    resolved: { image: run.resolved.image, size: run.resolved.size.name, url: run.resolved.url },
    applied: run.applied,
    pod: run.homeFailure === undefined ? read : { ...read, failure: run.homeFailure },
    ...(pod === undefined || outcome.podGone ? {} : { podCreatedAt: pod.metadata?.creationTimestamp ?? '' }),
    ...(outcome.culling === undefined ? {} : { culling: outcome.culling }),
    ...(outcome.stoppedBy === undefined ? {} : { stoppedBy: outcome.stoppedBy }),
  };
}

/**
 * The status input of a lab that does not resolve: `invalid` says why; a running Pod that is kept (kept.ts) keeps
 * the phase, URL and image it runs with.
 */
export function unresolvedInputOf(
  base: Omit<StatusInput, 'applied' | 'pod'>,
  invalid: { reason: string; message: string },
  pod: V1Pod | undefined,
  outcome: CullOutcome,
  limited: boolean,
): StatusInput {
  const live = pod !== undefined && keepsRunning(base.lab, pod) && !outcome.podGone ? pod : undefined;
  const runningImage = imageOf(live);
  return {
    ...base,
    invalid,
    applied: new Set(),
    pod: readPod(outcome.podGone ? undefined : pod),
    ...(live === undefined
      ? {}
      : {
          kept: { limited },
          resolved: keptResolved(base.lab, runningImage),
          podCreatedAt: live.metadata?.creationTimestamp ?? '',
          ...(runningImage === undefined ? {} : { runningImage }),
        }),
    ...(outcome.culling === undefined ? {} : { culling: outcome.culling }),
    ...(outcome.stoppedBy === undefined ? {} : { stoppedBy: outcome.stoppedBy }),
  };
}

/** The stop the operator records when the quota refuses a lab that runs (the admin lowered a limit). */
export const QUOTA_STOP = {
  reason: 'QuotaExceeded',
  message: "Stopped by the operator: the owner's quota of this profile no longer admits the lab",
} as const;

/** A reconcile's result from the delays (ms) it wants to come back after: the soonest, at least 100 ms. */
export function requeueAfter(due: readonly (number | undefined)[]): { requeueAfterMs: number } | undefined {
  const ms = due.filter((v): v is number => v !== undefined);
  return ms.length === 0 ? undefined : { requeueAfterMs: Math.max(Math.min(...ms), 100) };
}
