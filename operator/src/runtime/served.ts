// Reconcile kit: the children of a served workload (ServiceAccount, Role, RoleBinding, Deployment, Service) kept as
// built — stale ones (another name or namespace, or serving turned off) deleted first, changed ones applied in
// order — for any controller that deploys one (a Catalog's TAP service, a collection's results server).
import type { V1PolicyRule } from '@kubernetes/client-node';
import type { Kube, KubeObject } from '../kube/index.js';
import type { ReconcileContext } from './controller.js';
import { specHashOf } from './expectations.js';

/** What a served workload is made of, each with its spec hash (withHash). */
export interface ServedChildren {
  readonly serviceAccount: KubeObject;
  readonly role: KubeObject;
  readonly roleBinding: KubeObject;
  readonly deployment: KubeObject;
  readonly service: KubeObject;
}

/** The kinds of {@link ServedChildren}, in apply order (the identity before the pods that run as it). */
export const SERVED_KINDS = ['ServiceAccount', 'Role', 'RoleBinding', 'Deployment', 'Service'] as const;

/** The rules {@link syncServedChildren} needs on those kinds: a controller using it adds them to its own. */
export const SERVED_RBAC: V1PolicyRule[] = [
  {
    apiGroups: [''],
    resources: ['services', 'serviceaccounts'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
  },
  {
    apiGroups: ['apps'],
    resources: ['deployments'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
  },
  {
    apiGroups: ['rbac.authorization.k8s.io'],
    resources: ['roles', 'rolebindings'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
  },
];

const API_VERSIONS: Record<(typeof SERVED_KINDS)[number], string> = {
  ServiceAccount: 'v1',
  Role: 'rbac.authorization.k8s.io/v1',
  RoleBinding: 'rbac.authorization.k8s.io/v1',
  Deployment: 'apps/v1',
  Service: 'v1',
};

const ordered = (c: ServedChildren): KubeObject[] => [
  c.serviceAccount,
  c.role,
  c.roleBinding,
  c.deployment,
  c.service,
];
const where = (o: KubeObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/**
 * Makes the primary's owned children of {@link SERVED_KINDS} exactly `desired` (none when undefined): deletes the
 * others (UID precondition), applies those whose spec hash differs from the cached one; `what` names them in the
 * log. Returns the Deployment as cached (its status gives readiness), undefined when there is none yet.
 */
export async function syncServedChildren<T extends KubeObject>(
  ctx: ReconcileContext<T>,
  kube: Kube,
  desired: ServedChildren | undefined,
  what: string,
): Promise<KubeObject | undefined> {
  const wanted = new Set((desired === undefined ? [] : ordered(desired)).map((o) => `${o.kind}:${where(o)}`));
  // Stale children first: a Service left in an old namespace must not outlive a move.
  for (const kind of SERVED_KINDS)
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
        ctx.log.info({ kind, object: where(o) }, `Deleted ${what} child`);
      }
  let deployment: KubeObject | undefined;
  for (const d of desired === undefined ? [] : ordered(desired)) {
    const current = ctx.owned(d.kind ?? '').find((o) => where(o) === where(d));
    if (d.kind === 'Deployment') deployment = current;
    if (current !== undefined && specHashOf(current) === specHashOf(d)) continue;
    await kube.apply(d);
    ctx.log.info(
      { kind: d.kind, object: where(d) },
      current === undefined ? `Created ${what} child` : `Updated ${what} child`,
    );
  }
  return deployment;
}
