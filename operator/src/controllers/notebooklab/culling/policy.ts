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
 * How much a lab's activity reading can be trusted: `fresh` (the Jupyter server answered within the TTL), `stale`
 * (its last answer is older and a new check is on the way) or `unknown` (no answer: not asked yet, timeout, DNS
 * failure, error). Only a fresh answer culls for idleness; a stale one can warn; an unknown one counts as not
 * idle. The maximum lifetime needs no activity reading and is enforced whatever the reading.
 */
export type ActivityFreshness = 'fresh' | 'stale' | 'unknown';

const RANK = { none: 0, warn: 1, cull: 2 } as const;
type Action = CullDecision['action'];

/** The strongest action `reading` lets an Idle limit take. */
const IDLE_CAP: Record<ActivityFreshness, Action> = { fresh: 'cull', stale: 'warn', unknown: 'none' };

/**
 * Decides whether a running lab is to be warned or culled at `now`. Idle time counts from the later of the
 * last activity and the start (a lab that never reported activity is idle since it started); max lifetime counts
 * from the start. The strongest action wins (cull, then warn), the earlier limit among equals; `activity` caps
 * what the Idle limit may do (see {@link ActivityFreshness}).
 */
export function decideCulling(
  policy: CullingPolicy,
  startedAt: Date,
  lastActivity: Date | undefined,
  now: Date,
  activity: ActivityFreshness = 'fresh',
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
  const t = now.getTime();
  const judged = candidates.map((c) => {
    const warnAt = c.at - policy.warnBeforeMs;
    let action: Action = t >= c.at ? 'cull' : t >= warnAt ? 'warn' : 'none';
    const cap = c.reason === 'Idle' ? IDLE_CAP[activity] : 'cull';
    if (RANK[action] > RANK[cap]) action = cap;
    // The next threshold still ahead: the warning, then the cull.
    const next = t < warnAt ? warnAt - t : t < c.at ? c.at - t : undefined;
    return { ...c, warnAt, action, next };
  });
  // Non-empty and sorted by time: the first of the strongest is the earliest.
  const best = judged.reduce((a, b) => (RANK[b.action] > RANK[a.action] ? b : a));
  const out: CullDecision = {
    action: best.action,
    reason: best.reason,
    cullAt: new Date(best.at),
    warnAt: new Date(best.warnAt),
  };
  if (best.action === 'cull') return out;
  const nexts = judged.map((j) => j.next).filter((n): n is number => n !== undefined);
  return nexts.length === 0 ? out : { ...out, nextCheckMs: Math.min(...nexts) };
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
