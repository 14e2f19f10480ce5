// PodDisruptionBudgets and NetworkPolicies of an AnomalyService: drains keep the API up and the pool working; only
// the API and the workers reach Redis; the API is reachable from the namespace's NotebookLabs and the operator.
import type { AnomalyService } from '../../api/v1alpha1/index.js';
import type { KubeObject } from '../../kube/index.js';
import { childMeta, LABELS } from '../../meta/index.js';
import { API_PORT, anomalyNames, COMPONENT, owner, podSelector, type BuildContext } from './names.js';
import { REDIS_PORT } from './redis.js';

/** Labels of NotebookLab Pods (the notebooklab controller's `childLabels(lab, 'lab')`). */
export const LAB_POD_LABELS = {
  [LABELS.name]: 'notebooklab',
  [LABELS.component]: 'lab',
} as const;

/**
 * A PodDisruptionBudget per Deployment: at most one API and one worker Pod evicted at a time. None for managed
 * Redis: one replica with a budget of zero would block every node drain; its AOF brings the queue back instead.
 */
export function buildPodDisruptionBudgets(svc: AnomalyService): KubeObject[] {
  const names = anomalyNames(svc.metadata.name ?? '');
  return [
    [COMPONENT.api, names.api],
    [COMPONENT.workers, names.workers],
  ].map(([component = '', name = '']) => ({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMeta(owner(svc), component, { name }),
    spec: { maxUnavailable: 1, selector: { matchLabels: podSelector(svc, component) } },
  }));
}

function networkPolicy(
  svc: AnomalyService,
  component: string,
  name: string,
  from: Record<string, unknown>[],
  port: number,
): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMeta(owner(svc), component, { name }),
    spec: {
      podSelector: { matchLabels: podSelector(svc, component) },
      policyTypes: ['Ingress'],
      ingress: [{ from, ports: [{ protocol: 'TCP', port }] }],
    },
  };
}

/**
 * The NetworkPolicies: Redis admits this service's API and worker Pods only (none for external Redis, which is
 * not ours); the API admits the namespace's NotebookLab Pods and Pods of `ctx.apiIngressNamespaces`.
 */
export function buildNetworkPolicies(svc: AnomalyService, ctx: BuildContext): KubeObject[] {
  const names = anomalyNames(svc.metadata.name ?? '');
  const out: KubeObject[] = [];
  if (svc.spec.redis.managed !== undefined) {
    out.push(
      networkPolicy(
        svc,
        COMPONENT.redis,
        names.redis,
        [COMPONENT.api, COMPONENT.workers].map((c) => ({
          podSelector: { matchLabels: podSelector(svc, c) },
        })),
        REDIS_PORT,
      ),
    );
  }
  const apiFrom: Record<string, unknown>[] = [{ podSelector: { matchLabels: { ...LAB_POD_LABELS } } }];
  const namespaces = [...new Set(ctx.apiIngressNamespaces)].sort();
  if (namespaces.length > 0) {
    apiFrom.push({
      namespaceSelector: {
        matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: namespaces }],
      },
    });
  }
  out.push(networkPolicy(svc, COMPONENT.api, names.api, apiFrom, API_PORT));
  return out;
}
