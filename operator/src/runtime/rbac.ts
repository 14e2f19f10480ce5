// The RBAC the runtime itself needs (leader-election Lease, Events); controllers add their own rules.
import type { V1PolicyRule } from '@kubernetes/client-node';

/**
 * Policy rules for the runtime: leader election reads, creates and updates (CAS) its Lease; the event
 * recorder creates Events and patches them to bump the count of a repeated event.
 */
export const rbac: V1PolicyRule[] = [
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'],
  },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch', 'update'] },
];
