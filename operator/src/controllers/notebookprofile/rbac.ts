// The RBAC the NotebookProfile controller needs; merged into the chart's generated ClusterRole (no wildcards).
import type { V1PolicyRule } from '@kubernetes/client-node';

/** Profiles are read from an informer; only their `/status` (the `Ready` condition) is written. */
export const rbac: V1PolicyRule[] = [
  { apiGroups: ['skyport.io'], resources: ['notebookprofiles'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['skyport.io'], resources: ['notebookprofiles/status'], verbs: ['get', 'patch', 'update'] },
];
