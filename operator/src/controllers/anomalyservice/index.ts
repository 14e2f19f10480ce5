// The AnomalyService controller module: its CRD, RBAC, settings (env, chart values and README from one schema) and
// the controller it builds. Registered in ../registry.ts.
import type { AnomalyService } from '../../api/v1alpha1/index.js';
import { ANOMALYSERVICE, API_VERSION, anomalyServiceDefinition } from '../../api/v1alpha1/index.js';
import { managedSelector } from '../../meta/index.js';
import { defineController, generationOrMetadataChanged, metadataOnly } from '../../runtime/index.js';
import type { ControllerOptions } from '../../runtime/index.js';
import type { KubeObject } from '../../kube/index.js';
import { httpPoolStatusFetcher } from './poolstatus.js';
import { rbac } from './rbac.js';
import { AnomalyReconciler } from './reconcile.js';

const IMAGE = {
  regex: '^[a-z0-9][a-z0-9._:/@-]*$',
  hint: 'must be an image reference such as ghcr.io/skyport/anomaly:0.1.0',
};

/** The AnomalyService controller's settings; `controllers.anomalyservice.<key>` in the chart. */
export const anomalyServiceSettings = {
  image: {
    type: 'string',
    env: 'SKYPORT_ANOMALY_IMAGE',
    default: 'ghcr.io/skyport/anomaly:0.1.0',
    pattern: IMAGE,
    description:
      'The anomaly service image (images/anomaly): the API runs its default command, the workers `dist/src/worker-main.js`.',
  },
  redisImage: {
    type: 'string',
    env: 'SKYPORT_ANOMALY_REDIS_IMAGE',
    default: 'docker.io/library/redis:7.2',
    pattern: IMAGE,
    description: 'The Redis image of managed Redis (runs `redis-server` as UID 999).',
  },
  apiIngressNamespaces: {
    type: 'list',
    env: 'SKYPORT_ANOMALY_API_INGRESS_NAMESPACES',
    default: ['skyport-system'],
    description:
      "Namespaces whose Pods the API's NetworkPolicy admits besides the service's own NotebookLabs: the operator's (it reads /v1/status).",
  },
  statusInterval: {
    type: 'duration',
    env: 'SKYPORT_ANOMALY_STATUS_INTERVAL',
    default: '15s',
    description: "How often each service's GET /v1/status is read (queue depth for status and autoscaling).",
  },
  statusUrlTemplate: {
    type: 'string',
    env: 'SKYPORT_ANOMALY_STATUS_URL_TEMPLATE',
    default: '',
    pattern: { regex: '^https?://', hint: 'must start with http:// or https://' },
    description:
      "Where the operator reads GET /v1/status; placeholders `{namespace} {name} {service} {clusterIP}` (`{clusterIP}`: the API Service's cluster IP, for an operator outside the cluster that reaches Service IPs but not cluster DNS). Empty: `http://{service}.{namespace}.svc:8080/v1/status`.",
  },
} as const;

/** Deployments and StatefulSets are cached without their spec: reconcile reads their hash and status counts. */
function withoutSpec(o: KubeObject): KubeObject {
  return { ...metadataOnly(o), ...(o['status'] === undefined ? {} : { status: o['status'] }) };
}

/** Services are cached as metadata plus `spec.clusterIP`. */
function withClusterIp(o: KubeObject): KubeObject {
  const ip = (o['spec'] as { clusterIP?: string } | undefined)?.clusterIP;
  return { ...metadataOnly(o), ...(ip === undefined ? {} : { spec: { clusterIP: ip } }) };
}

/** Builds the controller's options; the module uses the HTTP fetcher and the real clock. */
export function anomalyServiceController(
  deps: ConstructorParameters<typeof AnomalyReconciler>[0],
): ControllerOptions<AnomalyService> {
  const r = new AnomalyReconciler(deps);
  const managed = { labelSelector: managedSelector(ANOMALYSERVICE.kind) };
  return {
    name: 'anomalyservice',
    for: { apiVersion: API_VERSION, kind: ANOMALYSERVICE.kind },
    owns: [
      { apiVersion: 'apps/v1', kind: 'Deployment', ...managed, transform: withoutSpec },
      { apiVersion: 'apps/v1', kind: 'StatefulSet', ...managed, transform: withoutSpec },
      // Metadata and the cluster IP only: `{clusterIP}` in the status URL template reads it.
      { apiVersion: 'v1', kind: 'Service', ...managed, transform: withClusterIp },
      // Whole: the generated tokens Secret's data is the operator's token for /v1/status.
      { apiVersion: 'v1', kind: 'Secret', ...managed },
      { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', ...managed, transform: metadataOnly },
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', ...managed, transform: metadataOnly },
    ],
    // Our own status writes come back as updates; a scale (spec.workers.replicas) bumps the generation.
    updatePredicate: generationOrMetadataChanged,
    reconcile: (ctx) => r.reconcile(ctx),
  };
}

/** AnomalyService: the anomaly service's API, workers and Redis, scaled by `kubectl scale` or queue depth. */
export const anomalyService = defineController({
  name: 'anomalyservice',
  description: 'AnomalyServices: the anomaly service (API, workers, Redis), scaled by queue depth.',
  crds: [anomalyServiceDefinition],
  rbac,
  settings: anomalyServiceSettings,
  controller: ({ kube, events, settings }) =>
    anomalyServiceController({
      kube,
      events,
      build: {
        image: settings.image,
        redisImage: settings.redisImage,
        apiIngressNamespaces: settings.apiIngressNamespaces,
      },
      fetchStatus: httpPoolStatusFetcher(),
      statusIntervalMs: settings.statusInterval,
      statusUrlTemplate: settings.statusUrlTemplate,
    }),
});
