// The RBAC the AnomalyService controller needs; the chart's ClusterRole is generated from this list (no wildcards).
import type { V1PolicyRule } from '@kubernetes/client-node';

/**
 * Policy rules for the AnomalyService controller. Services are read from informers and patched (the autoscaler
 * sets spec.workers.replicas); status goes through `/status`; `finalizers` lets children set blockOwnerDeletion;
 * the children's kinds are watched and server-side applied; Secrets are also read (a user's tokens Secret).
 */
export const rbac: V1PolicyRule[] = [
  { apiGroups: ['skyport.io'], resources: ['anomalyservices'], verbs: ['get', 'list', 'watch', 'patch'] },
  { apiGroups: ['skyport.io'], resources: ['anomalyservices/status'], verbs: ['get', 'patch', 'update'] },
  { apiGroups: ['skyport.io'], resources: ['anomalyservices/finalizers'], verbs: ['update'] },
  {
    apiGroups: [''],
    resources: ['services', 'secrets'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
  },
  {
    apiGroups: ['apps'],
    resources: ['deployments', 'statefulsets'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
  },
  {
    apiGroups: ['policy'],
    resources: ['poddisruptionbudgets'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
  },
  {
    apiGroups: ['networking.k8s.io'],
    resources: ['networkpolicies'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
  },
];
