// The autoscaler's memory: per AnomalyService UID, the recommendations of the stabilisation window, fed to the pure
// policy (autoscale.ts). Kept in memory: after an operator restart the window starts again from the last decision
// recorded in status (so a restart never scales down sooner than the window would have).
import type { AnomalyService, LastScale } from '../../api/v1alpha1/index.js';
import { decide, type AutoscalePolicy, type Recommendation, type ScalingDecision } from './autoscale.js';

/** Decides worker replicas per service; `now` is passed in (ms), so tests drive it with a fake clock. */
export class Scaler {
  private readonly windows = new Map<string, readonly Recommendation[]>();

  /** The decision for `svc` at queue depth `depth`; undefined when the service has no spec.autoscaling. */
  decide(svc: AnomalyService, depth: number, now: number): ScalingDecision | undefined {
    const a = svc.spec.autoscaling;
    if (a === undefined) return undefined;
    const policy: AutoscalePolicy = {
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      targetQueueDepthPerWorker: a.targetQueueDepthPerWorker,
      scaleDownStabilizationSeconds: a.scaleDownStabilizationSeconds,
    };
    const uid = svc.metadata.uid ?? '';
    const recommendations = this.windows.get(uid) ?? seed(svc.status?.lastScale);
    const d = decide(policy, { replicas: svc.spec.workers.replicas, recommendations }, { depth, now });
    this.windows.set(uid, d.state.recommendations);
    return d;
  }

  /** Forgets a service (deleted, or autoscaling turned off). */
  forget(uid: string): void {
    this.windows.delete(uid);
  }
}

/** The last recorded decision as the window's first recommendation. */
function seed(last: LastScale | undefined): Recommendation[] {
  if (last === undefined) return [];
  const at = Date.parse(last.time);
  return Number.isFinite(at) ? [{ at, replicas: last.replicas }] : [];
}
