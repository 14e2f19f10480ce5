// The RBAC the QueryJob controller needs; the chart's ClusterRole is generated from this list (no wildcards).
import type { V1PolicyRule } from '@kubernetes/client-node';
import { NOTIFY_RBAC } from '../../runtime/index.js';

/**
 * QueryJobs are read from informers and their status written through `/status`; `finalizers` lets the runner Job's
 * ownerReference set blockOwnerDeletion; Catalogs are read-only. Jobs are created and deleted (never updated), their
 * Pods read for the runner's termination message, and the catalog's Secret read for the EXPLAIN quote and ABORT
 * (and spec.notify's signing Secret: NOTIFY_RBAC). The runner's ServiceAccount, Role and RoleBinding are applied
 * (the Role grants get/patch of one QueryJob's status, which this role holds itself, so the apiserver's escalation
 * check passes).
 */
export const rbac: V1PolicyRule[] = [
  { apiGroups: ['skyport.io'], resources: ['queryjobs'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['skyport.io'], resources: ['queryjobs/status'], verbs: ['get', 'patch', 'update'] },
  { apiGroups: ['skyport.io'], resources: ['queryjobs/finalizers'], verbs: ['update'] },
  { apiGroups: ['skyport.io'], resources: ['catalogs'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
  ...NOTIFY_RBAC,
  // The runner's identity (build.ts buildRunnerIdentity), applied server-side before its Job.
  { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'create', 'patch'] },
  {
    apiGroups: ['rbac.authorization.k8s.io'],
    resources: ['roles', 'rolebindings'],
    verbs: ['get', 'create', 'patch'],
  },
];
