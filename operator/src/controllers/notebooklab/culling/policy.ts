// Pure culling decision: when a lab is warned and stopped for idleness or for exceeding its maximum lifetime.
import type { NotebookProfile } from '../../../api/v1alpha1/index.js';
import { parseDuration } from '../../../api/units.js';

/** Culling policy in milliseconds, resolved from the profile. An absent limit never culls. */
export interface CullingPolicy {
  idleTimeoutMs?: number;
  maxLifetimeMs?: number;
  /** How long before the cull the lab is warned (Event + `IdleWarning` condition). */
  warnBeforeMs: number;
}

/** Why a lab is (or will be) culled. */
export type CullReason = 'Idle' | 'MaxLifetime';

/** What to do now. */
export interface CullDecision {
  action: 'none' | 'warn' | 'cull';
  reason?: CullReason;
  cullAt?: Date;
  warnAt?: Date;
  /** Time until the next threshold (warn or cull), for `requeueAfter`. */
  nextCheckMs?: number;
}

/**
 * Decides whether a running lab is to be warned or culled at `now`. Idle time counts from the later of the
 * last activity and the start (a lab that never reported activity is idle since it started); max lifetime counts
 * from the start. The earlier limit wins.
 */
export function decideCulling(
  policy: CullingPolicy,
  startedAt: Date,
  lastActivity: Date | undefined,
  now: Date,
): CullDecision {
  const candidates: { at: number; reason: CullReason }[] = [];
  if (policy.idleTimeoutMs !== undefined) {
    const since = Math.max(startedAt.getTime(), lastActivity?.getTime() ?? 0);
    candidates.push({ at: since + policy.idleTimeoutMs, reason: 'Idle' });
  }
  if (policy.maxLifetimeMs !== undefined) {
    candidates.push({ at: startedAt.getTime() + policy.maxLifetimeMs, reason: 'MaxLifetime' });
  }
  if (candidates.length === 0) return { action: 'none' };
  candidates.sort((a, b) => a.at - b.at);
  // Sorted non-empty array: the first element exists.
  const first = candidates[0]!;
  const cullAt = new Date(first.at);
  const warnAt = new Date(first.at - policy.warnBeforeMs);
  const t = now.getTime();
  if (t >= first.at) return { action: 'cull', reason: first.reason, cullAt, warnAt };
  if (t >= warnAt.getTime()) {
    return { action: 'warn', reason: first.reason, cullAt, warnAt, nextCheckMs: first.at - t };
  }
  return { action: 'none', reason: first.reason, cullAt, warnAt, nextCheckMs: warnAt.getTime() - t };
}

/** The profile's culling settings as durations, or undefined when culling is off. */
export function cullingPolicy(profile: NotebookProfile): CullingPolicy | undefined {
  const c = profile.spec.culling;
  if (!c.enabled) return undefined;
  return {
    idleTimeoutMs: parseDuration(c.idleTimeout),
    maxLifetimeMs: parseDuration(c.maxLifetime),
    warnBeforeMs: parseDuration(c.warnBefore),
  };
}
