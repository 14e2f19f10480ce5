// The RBAC the CutoutJob controller needs (the chart's ClusterRole is generated from it).
import type { V1PolicyRule } from '@kubernetes/client-node';
import { NOTIFY_RBAC } from '../../runtime/index.js';

/**
 * CutoutJobs are read, patched (finalizer) and deleted (destruction), status through /status; collections, QueryJobs
 * and Catalogs (positions from a QueryJob's result) are read; the QueryJob of an ID lookup created and aborted;
 * the positions ConfigMap and the Jobs are created (never updated) and the shards' Job patched to suspend it (ABORT);
 * a user's positions ConfigMap is read; pods are read for the merge's report; spec.notify's signing Secret is read
 * (NOTIFY_RBAC).
 */
export const rbac: V1PolicyRule[] = [
  {
    apiGroups: ['skyport.io'],
    resources: ['cutoutjobs'],
    verbs: ['get', 'list', 'watch', 'patch', 'update', 'delete'],
  },
  { apiGroups: ['skyport.io'], resources: ['cutoutjobs/status'], verbs: ['get', 'patch', 'update'] },
  { apiGroups: ['skyport.io'], resources: ['cutoutjobs/finalizers'], verbs: ['update'] },
  { apiGroups: ['skyport.io'], resources: ['imagecollections'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['skyport.io'], resources: ['catalogs'], verbs: ['get', 'list', 'watch'] },
  // The QueryJob looking up a job's COADD_OBJECT_IDs is created (once) and patched to abort it.
  { apiGroups: ['skyport.io'], resources: ['queryjobs'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create'] },
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
  ...NOTIFY_RBAC,
];
