// The results-server step of an ImageCollection's reconcile: apply its children (serve.ts) in order —
// ServiceAccount, Role, RoleBinding before the Deployment that uses them, then the Service —, delete those no longer
// wanted (spec.results.serve removed or disabled), and say what status.results is. Deleting the collection removes
// the children through their ownerReferences. As the Catalog's TAP step (../catalog/reconcile.ts).
import type { ImageCollection, ImageCollectionStatus } from '../../api/v1alpha1/index.js';
import type { Kube, KubeObject } from '../../kube/index.js';
import { syncServedChildren, type ReconcileContext } from '../../runtime/index.js';
import { buildResultsServer, resultsServerUrl } from './serve.js';

/** status.results from the collection and its Deployment as cached (undefined: not served). */
export function resultsStatus(
  c: ImageCollection,
  deployment: KubeObject | undefined,
): ImageCollectionStatus['results'] {
  const url = resultsServerUrl(c);
  const s = c.spec.results.serve;
  if (url === undefined || s === undefined) return undefined;
  const ready = ((deployment?.['status'] ?? {}) as { readyReplicas?: number }).readyReplicas ?? 0;
  return { url, replicas: s.replicas, readyReplicas: ready };
}

/** Applies the wanted results children and deletes the others; returns the Deployment as cached. */
export async function reconcileResultsServer(
  ctx: ReconcileContext<ImageCollection>,
  kube: Kube,
  c: ImageCollection,
  image: string,
): Promise<KubeObject | undefined> {
  return syncServedChildren(ctx, kube, buildResultsServer(c, image), 'results server');
}
