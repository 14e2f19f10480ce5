// Standard update predicates (`ControllerOptions.updatePredicate`): which primary updates are worth a reconcile.
import type { KubeObject } from '../kube/client.js';

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? {}) === JSON.stringify(b ?? {});

/** A new generation (spec) or a deletion started: the controller's own status writes are ignored. */
export function generationChanged(o: KubeObject, old: KubeObject): boolean {
  return (
    o.metadata?.generation !== old.metadata?.generation ||
    o.metadata?.deletionTimestamp !== old.metadata?.deletionTimestamp
  );
}

/**
 * {@link generationChanged}, or labels or annotations changed: what a user may change to ask for another try.
 * The controller's own status and finalizer writes come back as updates that need no reconcile
 * (kubeflow/notebooks#1343).
 */
export function generationOrMetadataChanged(o: KubeObject, old: KubeObject): boolean {
  return (
    generationChanged(o, old) ||
    !same(o.metadata?.labels, old.metadata?.labels) ||
    !same(o.metadata?.annotations, old.metadata?.annotations)
  );
}
