// The RBAC the NotebookLab controller needs; the chart's ClusterRole is generated from this list (no wildcards).
import type { V1PolicyRule } from '@kubernetes/client-node';

/**
 * Policy rules for the NotebookLab controller. Every verb is here because reconcile uses it:
 * labs are read from informers and patched (finalizer, culling `spec.state`), status goes through `/status`,
 * `finalizers` is needed to set `blockOwnerDeletion` on children, profiles and StorageClasses are read-only, and the five child
 * kinds are watched, server-side applied and deleted (Pod on stop, PVC on delete-policy).
 */
export const rbac: V1PolicyRule[] = [
  {
    apiGroups: ['skyport.io'],
    resources: ['notebooklabs'],
    verbs: ['get', 'list', 'watch', 'patch', 'update'],
  },
  { apiGroups: ['skyport.io'], resources: ['notebooklabs/status'], verbs: ['get', 'patch', 'update'] },
  { apiGroups: ['skyport.io'], resources: ['notebooklabs/finalizers'], verbs: ['update'] },
  { apiGroups: ['skyport.io'], resources: ['notebookprofiles'], verbs: ['get', 'list', 'watch'] },
  {
    apiGroups: [''],
    resources: ['pods', 'persistentvolumeclaims', 'services', 'secrets'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
  },
  // The home claim's binding mode decides whether the Pod waits for the claim to bind (home.ts).
  { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get', 'list', 'watch'] },
  {
    apiGroups: ['networking.k8s.io'],
    resources: ['networkpolicies'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'],
  },
];
