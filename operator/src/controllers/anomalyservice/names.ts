// Names, labels, ports and the restricted security settings every AnomalyService child shares (CONTRIBUTING.md §4).
import type { AnomalyService, AnomalyResources } from '../../api/v1alpha1/index.js';
import { API_VERSION, ANOMALYSERVICE } from '../../api/v1alpha1/index.js';
import { childName, LABELS, selectorString, type OwnerLike } from '../../meta/index.js';

/** Components (the `app.kubernetes.io/component` label) and child-name suffixes. */
export const COMPONENT = { api: 'api', workers: 'workers', redis: 'redis', tokens: 'tokens' } as const;

/** Port of the API (the service's PORT) and of the workers' /metrics, /healthz, /readyz (METRICS_PORT). */
export const API_PORT = 8080;
export const WORKER_METRICS_PORT = 9090;
/** UID the anomaly image runs as (images/anomaly/Dockerfile). */
export const ANOMALY_UID = 65532;
/** Key of the generated tokens Secret: the service's TOKENS format, `tenant=token`. */
export const TOKENS_KEY = 'TOKENS';
/** Tenant of the generated token. */
export const DEFAULT_TENANT = 'default';
/** The worker entry point of the anomaly image (its default command runs the API). */
export const WORKER_ARGS = ['dist/src/worker-main.js'];
/** SIGTERM drain of a worker (the service's SHUTDOWN_GRACE_MS); the Pod's grace period leaves 10 s on top. */
export const WORKER_DRAIN_MS = 20_000;

/** What the builder needs besides the resource. */
export interface BuildContext {
  /** The anomaly image (API and workers). */
  readonly image: string;
  /** The Redis image of managed Redis. */
  readonly redisImage: string;
  /** Namespaces besides the service's own whose Pods may reach the API (the operator's, to read /v1/status). */
  readonly apiIngressNamespaces: readonly string[];
  /** The token of a generated tokens Secret; only used when the Secret does not exist yet. */
  readonly token: string;
}

/** Deterministic names of an AnomalyService's children. */
export interface AnomalyNames {
  api: string;
  workers: string;
  redis: string;
  tokens: string;
}

/** Children names: `<name>-api`, `<name>-workers`, `<name>-redis`, `<name>-tokens`. */
export function anomalyNames(name: string): AnomalyNames {
  return {
    api: childName(name, COMPONENT.api),
    workers: childName(name, COMPONENT.workers),
    redis: childName(name, COMPONENT.redis),
    tokens: childName(name, COMPONENT.tokens),
  };
}

/** The owner identity of a service for childMeta (a stored object always has a name and UID). */
export function owner(svc: AnomalyService): OwnerLike {
  return {
    apiVersion: API_VERSION,
    kind: ANOMALYSERVICE.kind,
    metadata: {
      name: svc.metadata.name ?? '',
      uid: svc.metadata.uid ?? '',
      ...(svc.metadata.namespace === undefined ? {} : { namespace: svc.metadata.namespace }),
    },
  };
}

/** Labels that select one component's Pods: owner UID + component (rename-proof, exact). */
export function podSelector(svc: AnomalyService, component: string): Record<string, string> {
  return { [LABELS.ownerUid]: svc.metadata.uid ?? '', [LABELS.component]: component };
}

/** The worker Pods' selector as a string (status.workerSelector, the scale subresource's selector). */
export function workerSelector(svc: AnomalyService): string {
  return selectorString(podSelector(svc, COMPONENT.workers));
}

/** The API's in-cluster URL (status.url). */
export function apiUrl(svc: AnomalyService): string {
  return `http://${anomalyNames(svc.metadata.name ?? '').api}.${svc.metadata.namespace ?? 'default'}.svc:${API_PORT}`;
}

/** The Secret key holding the API tokens: the user's, or the generated `<name>-tokens`. */
export function tokensRef(svc: AnomalyService): { name: string; key: string } {
  return (
    svc.spec.api.tokensSecretRef ?? { name: anomalyNames(svc.metadata.name ?? '').tokens, key: TOKENS_KEY }
  );
}

/** Container-level security of the restricted Pod Security Standard, with a read-only root. */
export const CONTAINER_SECURITY = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
} as const;

/** Requests and limits: the spec's, else the defaults; limits default to the requests given. */
export function containerResources(
  given: AnomalyResources | undefined,
  defaults: Required<AnomalyResources>,
): Required<AnomalyResources> {
  return {
    requests: given?.requests ?? defaults.requests,
    limits: given?.limits ?? given?.requests ?? defaults.limits,
  };
}
