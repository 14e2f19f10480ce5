// The AnomalyService worker autoscaling policy, pure: queue depth → worker replicas. Up at once; down only
// to the highest recommendation of the last stabilisation window (the HorizontalPodAutoscaler's
// scale-down stabilisation), so a sawtooth queue does not flap the pool. No clock of its own: the caller
// passes `now` (ms) and keeps the returned state for the next call.

/** `spec.autoscaling` of an AnomalyService. */
export interface AutoscalePolicy {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Queued tasks one worker is expected to hold; replicas = ceil(depth / this). */
  readonly targetQueueDepthPerWorker: number;
  readonly scaleDownStabilizationSeconds: number;
}

/** One past recommendation, kept for the stabilisation window. */
export interface Recommendation {
  readonly at: number;
  readonly replicas: number;
}

/** What the policy remembers between decisions (stored in status by the controller). */
export interface AutoscaleState {
  /** Worker replicas now (what the worker Deployment is set to). */
  readonly replicas: number;
  /** Recommendations within the stabilisation window, oldest first. */
  readonly recommendations: readonly Recommendation[];
}

export type ScalingReason = 'ScaledUp' | 'ScaledDown' | 'StabilizingScaleDown' | 'AtDesired';

/** A decision: the replicas to set, why, and the state for the next call. */
export interface ScalingDecision {
  readonly replicas: number;
  /** ceil(depth / target) clamped to [min, max], before stabilisation. */
  readonly desired: number;
  readonly reason: ScalingReason;
  /** One sentence for the Event and status, e.g. "queue depth 37 at 5 per worker wants 8; scaled up from 3". */
  readonly message: string;
  readonly state: AutoscaleState;
}

/** A policy or observation the controller must not act on, naming the field. */
export class AutoscaleError extends Error {
  override readonly name = 'AutoscaleError';
}

function requireInt(value: number, field: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new AutoscaleError(`${field} must be an integer ≥ ${min}, got ${value}`);
  }
}

/** Checks a policy: 0 ≤ min ≤ max, max ≥ 1, target > 0, stabilisation ≥ 0 seconds. */
export function validatePolicy(p: AutoscalePolicy): void {
  requireInt(p.minReplicas, 'spec.autoscaling.minReplicas', 0);
  requireInt(p.maxReplicas, 'spec.autoscaling.maxReplicas', 1);
  if (p.minReplicas > p.maxReplicas) {
    throw new AutoscaleError(
      `spec.autoscaling.minReplicas (${p.minReplicas}) must be ≤ maxReplicas (${p.maxReplicas})`,
    );
  }
  if (!(p.targetQueueDepthPerWorker > 0) || !Number.isFinite(p.targetQueueDepthPerWorker)) {
    throw new AutoscaleError(
      `spec.autoscaling.targetQueueDepthPerWorker must be a number > 0, got ${p.targetQueueDepthPerWorker}`,
    );
  }
  if (!(p.scaleDownStabilizationSeconds >= 0) || !Number.isFinite(p.scaleDownStabilizationSeconds)) {
    throw new AutoscaleError(
      `spec.autoscaling.scaleDownStabilizationSeconds must be ≥ 0, got ${p.scaleDownStabilizationSeconds}`,
    );
  }
}

/** ceil(depth / target) within [min, max]. */
export function desiredReplicas(policy: AutoscalePolicy, depth: number): number {
  const raw = Math.ceil(depth / policy.targetQueueDepthPerWorker);
  return Math.min(policy.maxReplicas, Math.max(policy.minReplicas, raw));
}

/**
 * Decides the worker replicas for a queue depth observed at `now` (ms). `state.replicas` is the current
 * replica count, including a `kubectl scale` made since the last decision.
 */
export function decide(
  policy: AutoscalePolicy,
  state: AutoscaleState,
  observation: { readonly depth: number; readonly now: number },
): ScalingDecision {
  validatePolicy(policy);
  const { depth, now } = observation;
  if (!Number.isInteger(depth) || depth < 0) {
    throw new AutoscaleError(`status.queueDepth must be an integer ≥ 0, got ${depth}`);
  }
  if (!Number.isFinite(now)) throw new AutoscaleError(`now must be a finite time in ms, got ${now}`);
  requireInt(state.replicas, 'status.workers.replicas', 0);

  const desired = desiredReplicas(policy, depth);
  const windowStart = now - policy.scaleDownStabilizationSeconds * 1000;
  const recommendations = [
    ...state.recommendations.filter((r) => r.at > windowStart && r.at <= now),
    { at: now, replicas: desired },
  ];
  const stabilised = Math.max(...recommendations.map((r) => r.replicas));
  const current = state.replicas;
  const what = `queue depth ${depth} at ${policy.targetQueueDepthPerWorker} per worker wants ${desired}`;

  let replicas = current;
  let reason: ScalingReason = 'AtDesired';
  let message = `${what}; ${current} running`;
  if (desired > current) {
    replicas = desired;
    reason = 'ScaledUp';
    message = `${what}; scaled up from ${current}`;
  } else if (desired < current) {
    replicas = Math.min(current, stabilised);
    if (replicas < current) {
      reason = 'ScaledDown';
      message = `${what}; scaled down from ${current} to ${replicas} (highest in the last ${policy.scaleDownStabilizationSeconds} s)`;
    } else {
      reason = 'StabilizingScaleDown';
      message = `${what}; keeping ${current} until ${policy.scaleDownStabilizationSeconds} s of lower demand`;
    }
  }
  return { replicas, desired, reason, message, state: { replicas, recommendations } };
}
