// The RBAC the Catalog controller needs; the chart's ClusterRole is generated from this list (no wildcards).
import type { V1PolicyRule } from '@kubernetes/client-node';
import { SERVED_RBAC } from '../../runtime/index.js';

/**
 * Catalogs are read and their status written; `finalizers` lets the TAP children's ownerReferences set
 * blockOwnerDeletion. The TAP children are applied and deleted. The controller holds every verb the TAP Role grants
 * on QueryJobs, as the apiserver requires of whoever creates a Role (it is given no `escalate`), though it never
 * creates, patches or deletes a QueryJob itself.
 */
export const rbac: V1PolicyRule[] = [
  { apiGroups: ['skyport.io'], resources: ['catalogs'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['skyport.io'], resources: ['catalogs/status'], verbs: ['get', 'patch', 'update'] },
  { apiGroups: ['skyport.io'], resources: ['catalogs/finalizers'], verbs: ['update'] },
  {
    apiGroups: ['skyport.io'],
    resources: ['queryjobs'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  },
  { apiGroups: ['skyport.io'], resources: ['queryjobs/status'], verbs: ['get', 'patch'] },
  // The served workload's children (runtime/served.ts).
  ...SERVED_RBAC,
];
