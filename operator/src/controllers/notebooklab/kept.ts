// A running lab that no longer resolves — its profile was deleted (also by `helm upgrade --set
// sampleProfile.enabled=false`) or its spec asks for a size or image the profile lacks — keeps its server: the
// owner may be mid-work. It is flagged (Degraded with the reason, one Warning Event) and runs until its owner stops
// it or its maximum lifetime ends. Pure decisions; reconcile.ts acts on them.
import type { V1Pod } from '../../kube/index.js';
import type { NotebookLab, NotebookLabStatus, NotebookProfile } from '../../api/v1alpha1/index.js';
import { CULLING_DEFAULTS } from '../../api/v1alpha1/index.js';
import { parseDuration } from '../../api/units.js';
import type { Condition } from '../../meta/index.js';
import { decideCulling } from './culling/policy.js';
import type { CullDecision, CullingPolicy } from './culling/policy.js';

/** True when the lab's Pod is kept although the lab no longer resolves: it runs, and its owner wants it to. */
export function keepsRunning(lab: NotebookLab, pod: V1Pod | undefined): boolean {
  return (
    lab.spec.state === 'Running' &&
    lab.metadata.deletionTimestamp === undefined &&
    pod !== undefined &&
    pod.metadata?.deletionTimestamp === undefined
  );
}

/** The limit a kept lab runs under, with the durations its stop message quotes. */
export interface KeptLimit {
  policy: CullingPolicy;
  limits: { idleTimeout: string; maxLifetime: string };
}

/**
 * The maximum lifetime of a kept lab: its profile's when the profile is still there (none when its culling is
 * off), else the profile default (168h from the Pod's start), since the deleted profile's own limit is gone with
 * it. Idle culling does not apply: the owner was told the server is kept until they stop it.
 */
export function keptLimit(profile: NotebookProfile | undefined): KeptLimit | undefined {
  const c = profile?.spec.culling ?? { enabled: true, ...CULLING_DEFAULTS };
  if (!c.enabled) return undefined;
  return {
    policy: { maxLifetimeMs: parseDuration(c.maxLifetime), warnBeforeMs: parseDuration(c.warnBefore) },
    limits: { idleTimeout: c.idleTimeout, maxLifetime: c.maxLifetime },
  };
}

/** Whether a kept lab's maximum lifetime is near or over at `now`; undefined when it is not kept or has none. */
export function keptDecision(
  lab: NotebookLab,
  pod: V1Pod | undefined,
  limit: KeptLimit | undefined,
  now: Date,
): CullDecision | undefined {
  if (limit === undefined || pod === undefined || !keepsRunning(lab, pod)) return undefined;
  const created = pod.metadata?.creationTimestamp;
  const startedAt = created === undefined ? now : new Date(created);
  return decideCulling(limit.policy, startedAt, undefined, now);
}

/** The Degraded message of a kept lab: why it no longer resolves, and that (and until when) its server is kept. */
export function keptMessage(invalid: { message: string }, limited: boolean): string {
  const until = limited ? 'until you stop the lab or its maximum lifetime ends' : 'until you stop the lab';
  return `${invalid.message}. The running server is kept ${until}; it cannot start again as it is`;
}

/**
 * What the status says a kept lab runs, from its previous status (the profile that resolved it may be gone): the
 * URL and size it was started with, and the image its Pod runs.
 */
export function keptResolved(
  lab: NotebookLab,
  runningImage: string | undefined,
): { image: string; size: string; url: string } {
  const s: NotebookLabStatus | undefined = lab.status;
  return { image: runningImage ?? s?.image ?? '', size: s?.size ?? '', url: s?.url ?? '' };
}

/** The Degraded condition of `next` when it became True or changed its reason since `prev` (one Event each). */
export function newlyDegraded(
  prev: NotebookLabStatus | undefined,
  next: NotebookLabStatus,
): Condition | undefined {
  const find = (s: NotebookLabStatus | undefined): Condition | undefined =>
    (s?.conditions as Condition[] | undefined)?.find((c) => c.type === 'Degraded' && c.status === 'True');
  const now = find(next);
  return now !== undefined && find(prev)?.reason !== now.reason ? now : undefined;
}
