// The identity a workload the operator deploys runs as: its own ServiceAccount, a Role with exactly the rules it
// needs in its namespace, and the RoleBinding between them, all three under one name and metadata; and the pod-level
// securityContext of the restricted Pod Security Standard every skyport pod runs with.
import type { KubeObject, ObjectMeta } from '../api/object.js';

/** A policy rule of a Role (rbac.authorization.k8s.io/v1). */
export interface RoleRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

/**
 * ServiceAccount `name` (no token mounted unless the pod asks for it), Role `name` with `rules`, and RoleBinding
 * `name` of that Role to that ServiceAccount in `namespace`; each with `metadata` (its name is `name`).
 */
export function workloadIdentity(
  metadata: ObjectMeta,
  name: string,
  namespace: string,
  rules: readonly RoleRule[],
): { serviceAccount: KubeObject; role: KubeObject; roleBinding: KubeObject } {
  return {
    serviceAccount: {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata,
      automountServiceAccountToken: false,
    },
    role: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata, rules },
    roleBinding: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  };
}

/** Pod-level securityContext of the restricted Pod Security Standard, running as `uid` (group and fsGroup too). */
export function restrictedPodSecurity(uid: number): Record<string, unknown> {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
