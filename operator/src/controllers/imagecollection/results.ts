// The results-server step of an ImageCollection's reconcile: apply its children (serve.ts) in order —
// ServiceAccount, Role, RoleBinding before the Deployment that uses them, then the Service —, delete those no longer
// wanted (spec.results.serve removed or disabled), and say what status.results is. Deleting the collection removes
// the children through their ownerReferences. As the Catalog's TAP step (../catalog/reconcile.ts).
import type { ImageCollection, ImageCollectionStatus } from '../../api/v1alpha1/index.js';
import type { Kube, KubeObject } from '../../kube/index.js';
import { specHashOf, type ReconcileContext } from '../../runtime/index.js';
import { buildResultsServer, resultsServerUrl, type ResultsChildren } from './serve.js';

/** Kinds of the results children, in apply order. */
export const RESULTS_KINDS = ['ServiceAccount', 'Role', 'RoleBinding', 'Deployment', 'Service'] as const;

const API_VERSIONS: Record<(typeof RESULTS_KINDS)[number], string> = {
  ServiceAccount: 'v1',
  Role: 'rbac.authorization.k8s.io/v1',
  RoleBinding: 'rbac.authorization.k8s.io/v1',
  Deployment: 'apps/v1',
  Service: 'v1',
};

const ordered = (c: ResultsChildren): KubeObject[] => [
  c.serviceAccount,
  c.role,
  c.roleBinding,
  c.deployment,
  c.service,
];
const where = (o: KubeObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

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
  const desired = buildResultsServer(c, image);
  const wanted = new Set((desired === undefined ? [] : ordered(desired)).map((o) => `${o.kind}:${where(o)}`));
  for (const kind of RESULTS_KINDS)
    for (const o of ctx.owned(kind))
      if (!wanted.has(`${kind}:${where(o)}`)) {
        await kube.delete(
          {
            apiVersion: API_VERSIONS[kind],
            kind,
            namespace: o.metadata?.namespace ?? '',
            name: o.metadata?.name ?? '',
          },
          { ...(o.metadata?.uid === undefined ? {} : { uid: o.metadata.uid }) },
        );
        ctx.log.info({ kind, object: where(o) }, 'Deleted results server child');
      }
  let deployment: KubeObject | undefined;
  for (const d of desired === undefined ? [] : ordered(desired)) {
    const current = ctx.owned(d.kind ?? '').find((o) => where(o) === where(d));
    if (d.kind === 'Deployment') deployment = current;
    if (current !== undefined && specHashOf(current) === specHashOf(d)) continue;
    await kube.apply(d);
    ctx.log.info(
      { kind: d.kind, object: where(d) },
      current === undefined ? 'Created results server child' : 'Updated results server child',
    );
  }
  return deployment;
}
