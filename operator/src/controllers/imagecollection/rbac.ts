// The RBAC the ImageCollection controller needs (the chart's ClusterRole is generated from it).
import type { V1PolicyRule } from '@kubernetes/client-node';

/** Collections are read and their status written; indexing Jobs are created and old ones deleted; pods are read for the report. */
export const rbac: V1PolicyRule[] = [
  { apiGroups: ['skyport.io'], resources: ['imagecollections'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['skyport.io'], resources: ['imagecollections/status'], verbs: ['get', 'patch', 'update'] },
  { apiGroups: ['skyport.io'], resources: ['imagecollections/finalizers'], verbs: ['update'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
];
