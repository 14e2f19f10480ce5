// Managed Redis of an AnomalyService: a one-replica StatefulSet with its append-only file on a PersistentVolumeClaim
// and a headless Service. `maxmemory-policy noeviction`: the broker refuses writes when full, never drops a task.
import type { AnomalyService } from '../../api/v1alpha1/index.js';
import { parseQuantity } from '../../api/units.js';
import type { KubeObject } from '../../kube/index.js';
import { childLabels, childMeta, restrictedPodSecurity } from '../../meta/index.js';
import {
  anomalyNames,
  COMPONENT,
  CONTAINER_SECURITY,
  containerResources,
  owner,
  podSelector,
  type BuildContext,
} from './names.js';

/** Redis's port. */
export const REDIS_PORT = 6379;
/** UID and GID of the `redis` user of the official Redis images. */
export const REDIS_UID = 999;
/** Share of the container's memory limit Redis may use for data (the rest: AOF rewrite buffers, the process). */
export const REDIS_MAXMEMORY_SHARE = 0.75;

/** The managed Redis URL the API and workers use: the headless Service's name resolves to the one Pod. */
export function redisUrl(svc: AnomalyService): string {
  return `redis://${anomalyNames(svc.metadata.name ?? '').redis}.${svc.metadata.namespace ?? 'default'}.svc:${REDIS_PORT}`;
}

/** `redis-server` arguments: AOF on (fsync every second), noeviction under a memory cap, data in /data. */
export function redisArgs(maxmemoryBytes: number): string[] {
  return [
    '--port',
    String(REDIS_PORT),
    '--dir',
    '/data',
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    // RDB snapshots off: the AOF is the durable record; a snapshot fork would double memory at the worst time.
    '--save',
    '',
    '--maxmemory',
    String(maxmemoryBytes),
    '--maxmemory-policy',
    'noeviction',
    // Redis refuses non-loopback clients without a password in protected mode; the NetworkPolicy admits only the
    // API and workers.
    '--protected-mode',
    'no',
  ];
}

/** The managed Redis StatefulSet and headless Service, or undefined for external Redis. */
export function buildRedis(
  svc: AnomalyService,
  ctx: BuildContext,
): { statefulSet: KubeObject; service: KubeObject } | undefined {
  const managed = svc.spec.redis.managed;
  if (managed === undefined) return undefined;
  const name = anomalyNames(svc.metadata.name ?? '').redis;
  const resources = containerResources(managed.resources, {
    requests: { cpu: '250m', memory: '1Gi' },
    limits: { cpu: '1', memory: '1Gi' },
  });
  const maxmemory = Math.floor(parseQuantity(resources.limits.memory) * REDIS_MAXMEMORY_SHARE);
  const claim: Record<string, unknown> = {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: managed.size } },
  };
  if (managed.storageClassName !== undefined) claim['storageClassName'] = managed.storageClassName;
  const statefulSet: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: childMeta(owner(svc), COMPONENT.redis, { name }),
    spec: {
      replicas: 1,
      serviceName: name,
      selector: { matchLabels: podSelector(svc, COMPONENT.redis) },
      // The data volume outlives the Pod and the StatefulSet's scale-down; it goes with the AnomalyService.
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
      template: {
        metadata: { labels: childLabels(owner(svc), COMPONENT.redis) },
        spec: {
          automountServiceAccountToken: false,
          securityContext: restrictedPodSecurity(REDIS_UID),
          containers: [
            {
              name: 'redis',
              image: ctx.redisImage,
              imagePullPolicy: 'IfNotPresent',
              command: ['redis-server'],
              args: redisArgs(maxmemory),
              ports: [{ name: 'redis', containerPort: REDIS_PORT, protocol: 'TCP' }],
              readinessProbe: {
                exec: { command: ['redis-cli', '-p', String(REDIS_PORT), 'ping'] },
                periodSeconds: 5,
                timeoutSeconds: 3,
              },
              livenessProbe: { tcpSocket: { port: REDIS_PORT }, periodSeconds: 10, timeoutSeconds: 3 },
              resources,
              securityContext: CONTAINER_SECURITY,
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels: childLabels(owner(svc), COMPONENT.redis) },
          spec: claim,
        },
      ],
    },
  };
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(owner(svc), COMPONENT.redis, { name }),
    spec: {
      clusterIP: 'None',
      selector: podSelector(svc, COMPONENT.redis),
      ports: [{ name: 'redis', port: REDIS_PORT, targetPort: 'redis', protocol: 'TCP' }],
    },
  };
  return { statefulSet, service };
}
