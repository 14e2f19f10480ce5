// The pure AnomalyService builder (CONTRIBUTING.md §1): (service, context) → every child it needs. No I/O, no clock.
// Names and shared settings are in names.ts, Redis in redis.ts, PodDisruptionBudgets and NetworkPolicies in
// policy.ts; this file holds the API Deployment and Service, the worker Deployment and the tokens Secret.
import type { AnomalyService } from '../../api/v1alpha1/index.js';
import { ANOMALY_LIMIT_SETTINGS, ANOMALY_WORKER_THREADS } from '../../api/v1alpha1/index.js';
import type { KubeObject } from '../../kube/index.js';
import { childLabels, childMeta, restrictedPodSecurity } from '../../meta/index.js';
import {
  ANOMALY_UID,
  API_PORT,
  anomalyNames,
  COMPONENT,
  CONTAINER_SECURITY,
  containerResources,
  DEFAULT_TENANT,
  owner,
  podSelector,
  TOKENS_KEY,
  tokensRef,
  WORKER_ARGS,
  WORKER_DRAIN_MS,
  WORKER_METRICS_PORT,
  type BuildContext,
} from './names.js';
import { buildNetworkPolicies, buildPodDisruptionBudgets } from './policy.js';
import { buildRedis, redisUrl } from './redis.js';

function redisUrlEnv(svc: AnomalyService): Record<string, unknown> {
  const ext = svc.spec.redis.external;
  if (ext !== undefined) {
    return {
      name: 'REDIS_URL',
      valueFrom: { secretKeyRef: { name: ext.urlSecretRef.name, key: ext.urlSecretRef.key } },
    };
  }
  return { name: 'REDIS_URL', value: redisUrl(svc) };
}

/** The API container's environment: the service's own variable names (config.ts). */
function apiEnv(svc: AnomalyService): Record<string, unknown>[] {
  const ref = tokensRef(svc);
  const env: Record<string, unknown>[] = [
    { name: 'PORT', value: String(API_PORT) },
    redisUrlEnv(svc),
    { name: 'TOKENS', valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } },
  ];
  const limits = svc.spec.limits ?? {};
  for (const [field, setting] of Object.entries(ANOMALY_LIMIT_SETTINGS)) {
    const v = limits[field as keyof typeof limits];
    if (v !== undefined) env.push({ name: setting.env, value: String(v) });
  }
  return env;
}

function httpProbe(port: number, path: string, periodSeconds: number): Record<string, unknown> {
  return { httpGet: { path, port }, periodSeconds, timeoutSeconds: 3, failureThreshold: 3 };
}

function deployment(
  svc: AnomalyService,
  component: string,
  name: string,
  replicas: number,
  pod: Record<string, unknown>,
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(owner(svc), component, { name }),
    spec: {
      replicas,
      selector: { matchLabels: podSelector(svc, component) },
      // A new worker comes up before an old one drains, so a thread change never halves the pool.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: { metadata: { labels: childLabels(owner(svc), component) }, spec: pod },
    },
  };
}

/** The API Deployment: the anomaly image's default command, tokens from the Secret, limits as env. */
export function buildApiDeployment(svc: AnomalyService, ctx: BuildContext): KubeObject {
  const names = anomalyNames(svc.metadata.name ?? '');
  return deployment(svc, COMPONENT.api, names.api, svc.spec.api.replicas, {
    automountServiceAccountToken: false,
    securityContext: restrictedPodSecurity(ANOMALY_UID),
    containers: [
      {
        name: 'api',
        image: ctx.image,
        imagePullPolicy: 'IfNotPresent',
        env: apiEnv(svc),
        ports: [{ name: 'http', containerPort: API_PORT, protocol: 'TCP' }],
        readinessProbe: httpProbe(API_PORT, '/readyz', 5),
        livenessProbe: httpProbe(API_PORT, '/healthz', 10),
        resources: containerResources(svc.spec.api.resources, {
          requests: { cpu: '250m', memory: '512Mi' },
          limits: { cpu: '2', memory: '2Gi' },
        }),
        securityContext: CONTAINER_SECURITY,
      },
    ],
  });
}

/** The worker Deployment: the image's worker entry point, WORKER_THREADS, a drain longer than a task's release. */
export function buildWorkerDeployment(svc: AnomalyService, ctx: BuildContext): KubeObject {
  const names = anomalyNames(svc.metadata.name ?? '');
  const threads = svc.spec.workers.threads;
  return deployment(svc, COMPONENT.workers, names.workers, svc.spec.workers.replicas, {
    automountServiceAccountToken: false,
    securityContext: restrictedPodSecurity(ANOMALY_UID),
    // The worker drains for SHUTDOWN_GRACE_MS on SIGTERM and exits 5 s later at the latest (worker-main.ts).
    terminationGracePeriodSeconds: WORKER_DRAIN_MS / 1000 + 10,
    containers: [
      {
        name: 'worker',
        image: ctx.image,
        imagePullPolicy: 'IfNotPresent',
        args: WORKER_ARGS,
        env: [
          redisUrlEnv(svc),
          { name: ANOMALY_WORKER_THREADS.env, value: String(threads) },
          { name: 'METRICS_PORT', value: String(WORKER_METRICS_PORT) },
          { name: 'SHUTDOWN_GRACE_MS', value: String(WORKER_DRAIN_MS) },
        ],
        ports: [{ name: 'metrics', containerPort: WORKER_METRICS_PORT, protocol: 'TCP' }],
        readinessProbe: httpProbe(WORKER_METRICS_PORT, '/readyz', 5),
        livenessProbe: httpProbe(WORKER_METRICS_PORT, '/healthz', 10),
        resources: containerResources(svc.spec.workers.resources, {
          requests: { cpu: String(threads), memory: '1Gi' },
          limits: { cpu: String(threads), memory: '2Gi' },
        }),
        securityContext: CONTAINER_SECURITY,
      },
    ],
  });
}

/** The API Service: port 8080 (`http`) to the API Pods. */
export function buildApiService(svc: AnomalyService): KubeObject {
  const names = anomalyNames(svc.metadata.name ?? '');
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(owner(svc), COMPONENT.api, { name: names.api }),
    spec: {
      type: svc.spec.api.serviceType,
      selector: podSelector(svc, COMPONENT.api),
      ports: [{ name: 'http', port: API_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/** The generated tokens Secret (`default=<token>`), or undefined when the spec names its own. */
export function buildTokensSecret(svc: AnomalyService, ctx: BuildContext): KubeObject | undefined {
  if (svc.spec.api.tokensSecretRef !== undefined) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(owner(svc), COMPONENT.tokens, { name: anomalyNames(svc.metadata.name ?? '').tokens }),
    type: 'Opaque',
    stringData: { [TOKENS_KEY]: `${DEFAULT_TENANT}=${ctx.token}` },
  };
}

/** Every child of an AnomalyService, in creation order (see reconcile.ts for why this order). */
export interface DesiredChildren {
  tokens?: KubeObject;
  redisService?: KubeObject;
  redisStatefulSet?: KubeObject;
  apiDeployment: KubeObject;
  apiService: KubeObject;
  workerDeployment: KubeObject;
  podDisruptionBudgets: KubeObject[];
  networkPolicies: KubeObject[];
}

/** Builds every child of `svc`. */
export function buildChildren(svc: AnomalyService, ctx: BuildContext): DesiredChildren {
  const redis = buildRedis(svc, ctx);
  const tokens = buildTokensSecret(svc, ctx);
  return {
    ...(tokens === undefined ? {} : { tokens }),
    ...(redis === undefined ? {} : { redisService: redis.service, redisStatefulSet: redis.statefulSet }),
    apiDeployment: buildApiDeployment(svc, ctx),
    apiService: buildApiService(svc),
    workerDeployment: buildWorkerDeployment(svc, ctx),
    podDisruptionBudgets: buildPodDisruptionBudgets(svc),
    networkPolicies: buildNetworkPolicies(svc, ctx),
  };
}
