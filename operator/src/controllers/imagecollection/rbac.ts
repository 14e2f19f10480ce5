// The RBAC the ImageCollection controller needs (the chart's ClusterRole is generated from it).
import type { V1PolicyRule } from '@kubernetes/client-node';
import { SERVED_RBAC } from '../../runtime/index.js';

/**
 * Collections are read and their status written; indexing Jobs are created and old ones deleted; pods are read for
 * the report; the results server's children are applied and deleted.
 */
export const rbac: V1PolicyRule[] = [
  { apiGroups: ['skyport.io'], resources: ['imagecollections'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['skyport.io'], resources: ['imagecollections/status'], verbs: ['get', 'patch', 'update'] },
  { apiGroups: ['skyport.io'], resources: ['imagecollections/finalizers'], verbs: ['update'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  // The results server's children (serve.ts). The operator holds what the server's Role grants on CutoutJobs
  // (get, list): the apiserver lets only a holder create such a Role (no `escalate`).
  { apiGroups: ['skyport.io'], resources: ['cutoutjobs'], verbs: ['get', 'list'] },
  // The served workload's children (runtime/served.ts).
  ...SERVED_RBAC,
];
