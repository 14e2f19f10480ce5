// AnomalyService (namespaced): one deployment of services/anomaly (API, worker pool, Redis broker), scaled by
// `kubectl scale` (the scale subresource on the workers) or by queue depth (spec.autoscaling).
import { arr, dateTime, def, duration, enumOf, int, obj, req, str } from '../schema.js';
import type { KubeObject, ObjectMeta } from '../object.js';
import type { Infer, InferInput } from '../schema.js';
import {
  boundedQuantity,
  conditions,
  DNS1123_LABEL_PATTERN,
  DNS1123_SUBDOMAIN_PATTERN,
  observedGeneration,
  resourceAmounts,
} from './common.js';
import { API_VERSION, ANOMALYSERVICE } from './group.js';

/**
 * Longest AnomalyService name: the Redis StatefulSet `<name>-redis` gets a controller-revision-hash label of its
 * name plus 11 characters, which must stay a valid label value (≤ 63); 40 leaves room.
 */
export const ANOMALYSERVICE_NAME_MAX = 40;

/**
 * The service settings `spec.limits` maps onto: the environment variable services/anomaly/src/config.ts reads and
 * the bounds it accepts. The operator may not import the service (nor the service the operator), so this table is
 * the operator's half of the contract; `anomalyservice.test.ts` reads config.ts and fails when the two disagree.
 */
export const ANOMALY_LIMIT_SETTINGS = {
  maxUploadBytes: { env: 'MAX_UPLOAD_BYTES', minimum: 1024, maximum: 8 * 1024 * 1024 * 1024 },
  maxCols: { env: 'MAX_COLS', minimum: 1, maximum: 65_535 },
  maxSyncRows: { env: 'MAX_SYNC_ROWS', minimum: 1, maximum: 100_000 },
} as const;

/** The worker setting `spec.workers.threads` maps onto (config.ts `WORKER_THREADS`). */
export const ANOMALY_WORKER_THREADS = { env: 'WORKER_THREADS', minimum: 1, maximum: 64 } as const;

/** The conditions an AnomalyService reports. */
export const ANOMALY_CONDITIONS = [
  'Ready',
  'RedisReady',
  'ApiReady',
  'WorkersReady',
  'Scaling',
  'Degraded',
] as const;

/** Reasons of `status.lastScale` (the autoscaling policy's decisions, autoscale.ts). */
export const SCALING_REASONS = ['ScaledUp', 'ScaledDown', 'StabilizingScaleDown', 'AtDesired'] as const;

const L = ANOMALY_LIMIT_SETTINGS;

const secretRef = (what: string) =>
  obj(
    {
      name: req(
        str("Name of the Secret, in the AnomalyService's namespace.", {
          pattern: DNS1123_SUBDOMAIN_PATTERN,
          maxLength: 253,
        }),
      ),
      key: req(str('Key within the Secret.', { pattern: '^[-._a-zA-Z0-9]+$', maxLength: 253 })),
    },
    what,
  );

const resources = obj(
  {
    requests: resourceAmounts,
    limits: resourceAmounts,
  },
  'CPU and memory of each container: requests and limits (the operator fills in defaults for what is unset).',
);

const api = obj(
  {
    replicas: def(int('API Pods.', { minimum: 1, maximum: 32 }), 1),
    resources,
    tokensSecretRef: secretRef(
      "The Secret key holding the API bearer tokens as `tenant=token[,tenant=token…]` (the service's TOKENS); " +
        'when unset the operator creates `<name>-tokens` with one random token for tenant `default`. The operator ' +
        'reads GET /v1/status with the first token.',
    ),
    serviceType: def(
      enumOf(['ClusterIP', 'NodePort', 'LoadBalancer'] as const, 'Type of the API Service.'),
      'ClusterIP',
    ),
  },
  'The HTTP API.',
);

const workers = obj(
  {
    replicas: def(
      int(
        'Worker Pods. The scale subresource (`kubectl scale`, a HorizontalPodAutoscaler) and spec.autoscaling set it.',
        { minimum: 0, maximum: 1000 },
      ),
      1,
    ),
    threads: def(
      int("worker_threads per worker Pod doing CPU work (the service's WORKER_THREADS).", {
        minimum: ANOMALY_WORKER_THREADS.minimum,
        maximum: ANOMALY_WORKER_THREADS.maximum,
      }),
      1,
    ),
    resources,
  },
  'The worker pool. Changing threads rolls the workers; a stopping worker finishes or releases its tasks (SIGTERM drain).',
);

const managedRedis = obj(
  {
    size: def(boundedQuantity('storage', 'Size of the Redis data volume (append-only file).'), '10Gi'),
    storageClassName: str('StorageClass of the data volume; the cluster default when unset.', {
      pattern: DNS1123_SUBDOMAIN_PATTERN,
      maxLength: 253,
    }),
    resources,
  },
  'A Redis StatefulSet the operator runs: append-only file on a PersistentVolumeClaim, maxmemory-policy noeviction ' +
    '(a broker must never drop a task).',
);

const redis = obj(
  {
    managed: managedRedis,
    external: obj(
      {
        urlSecretRef: req(
          secretRef("The Secret key holding the redis:// or rediss:// URL (the service's REDIS_URL)."),
        ),
      },
      'A Redis run elsewhere.',
    ),
  },
  'The broker and store: exactly one of managed and external. Immutable mode: a service does not move its data.',
  {
    rules: [
      {
        rule: 'has(self.managed) != has(self.external)',
        message: 'exactly one of managed and external must be set',
        check: (s) => (s.managed !== undefined) !== (s.external !== undefined),
      },
      {
        rule: 'has(self.managed) == has(oldSelf.managed)',
        message: 'the Redis mode (managed or external) is immutable',
        check: (s, old) => old === undefined || (s.managed !== undefined) === (old.managed !== undefined),
      },
    ],
  },
);

const autoscaling = obj(
  {
    minReplicas: def(int('Fewest workers.', { minimum: 0, maximum: 1000 }), 1),
    maxReplicas: req(int('Most workers.', { minimum: 1, maximum: 1000 })),
    targetQueueDepthPerWorker: def(
      int('Queued tasks per worker: replicas = ceil(queueDepth / this).', { minimum: 1, maximum: 1_000_000 }),
      10,
    ),
    scaleDownStabilizationSeconds: def(
      int('Scale down only to the highest recommendation of this many seconds (scale up is at once).', {
        minimum: 0,
        maximum: 86_400,
      }),
      300,
    ),
  },
  'Queue-depth autoscaling of the workers: the operator reads GET /v1/status of the API and sets ' +
    'spec.workers.replicas through the scale subresource, as a HorizontalPodAutoscaler would (use one or the other).',
  {
    rules: [
      {
        rule: 'self.minReplicas <= self.maxReplicas',
        message: 'minReplicas must be ≤ maxReplicas',
        fieldPath: '.minReplicas',
        check: (s) => s.minReplicas <= s.maxReplicas,
      },
    ],
  },
);

const limits = obj(
  {
    maxUploadBytes: int("Largest accepted request body in bytes (the service's MAX_UPLOAD_BYTES).", {
      minimum: L.maxUploadBytes.minimum,
      maximum: L.maxUploadBytes.maximum,
      format: 'int64',
    }),
    maxCols: int('Largest accepted feature count (MAX_COLS).', {
      minimum: L.maxCols.minimum,
      maximum: L.maxCols.maximum,
    }),
    maxSyncRows: int('Score requests up to this many rows are answered at once (MAX_SYNC_ROWS).', {
      minimum: L.maxSyncRows.minimum,
      maximum: L.maxSyncRows.maximum,
    }),
  },
  "Request limits of the API; the service's defaults for what is unset.",
);

const alertRule = obj(
  {
    type: req(
      enumOf(
        ['Threshold', 'Excursion'] as const,
        'Threshold: score above `threshold`. Excursion: a quantity stable for `stableWindows` windows starts moving.',
      ),
    ),
    threshold: str('Score threshold in (0, 1) for Threshold rules, as a decimal string such as "0.7".', {
      pattern: '^0?\\.[0-9]+$',
      maxLength: 16,
    }),
    stableWindows: int('Windows a quantity must have been stable for Excursion rules.', {
      minimum: 1,
      maximum: 10_000,
    }),
  },
  'One alert rule of a stream.',
);

const stream = obj(
  {
    name: req(str('Channel name, unique in the service.', { pattern: DNS1123_LABEL_PATTERN, maxLength: 63 })),
    source: req(
      enumOf(
        ['HTTP', 'RedisStream'] as const,
        'HTTP: NDJSON pushed to the API. RedisStream: a Redis Stream key.',
      ),
    ),
    redisStreamKey: str('The Redis Stream key when source is RedisStream.', { maxLength: 256 }),
    window: def(duration('Aggregation window (min, max, mean, median, std per window).'), '1s'),
    alerts: def(
      arr(alertRule, 'Alert rules, delivered through the webhook/SSE alerting.', { maxItems: 8 }),
      [],
    ),
  },
  'A telemetry channel. Schema only: the operator does not yet configure streams in the service.',
  {
    rules: [
      {
        rule: "(self.source == 'RedisStream') == has(self.redisStreamKey)",
        message: 'redisStreamKey is set exactly when source is RedisStream',
        check: (s) => (s.source === 'RedisStream') === (s.redisStreamKey !== undefined),
      },
    ],
  },
);

/** Schema of AnomalyService.spec. */
export const anomalyServiceSpec = obj(
  {
    api: def(api, {}),
    workers: def(workers, {}),
    redis: def(redis, { managed: {} }),
    autoscaling,
    limits,
    streams: arr(stream, 'Telemetry channels (online alerting).', {
      maxItems: 64,
      listType: 'map',
      listMapKeys: ['name'],
    }),
  },
  'Desired state of the anomaly service.',
);

const lastScale = obj(
  {
    time: req(dateTime('When the decision was made.')),
    replicas: req(int('Worker replicas set.', { minimum: 0 })),
    from: req(int('Worker replicas before.', { minimum: 0 })),
    desired: req(int('ceil(queueDepth / target) within [min, max], before stabilisation.', { minimum: 0 })),
    queueDepth: req(int('Queue depth the decision read.', { minimum: 0, format: 'int64' })),
    reason: req(enumOf(SCALING_REASONS, 'ScaledUp, ScaledDown, StabilizingScaleDown or AtDesired.')),
    message: req(str('The decision in one sentence.', { maxLength: 1024 })),
  },
  'The last autoscaling decision that changed the replicas or held a scale-down.',
);

/** Schema of AnomalyService.status. */
export const anomalyServiceStatus = obj(
  {
    observedGeneration: observedGeneration(),
    conditions: conditions(
      'Ready (API, workers and Redis ready), RedisReady, ApiReady, WorkersReady, Scaling (autoscaling is ' +
        'active; reason the last decision) and Degraded (with a stable reason, e.g. StatusUnreachable).',
    ),
    url: str('In-cluster URL of the API, e.g. http://x-api.ns.svc:8080.', { maxLength: 1024 }),
    workerReplicas: int("Worker Pods that exist (the scale subresource's status replicas).", { minimum: 0 }),
    readyWorkers: int('Worker Pods ready.', { minimum: 0 }),
    workerSelector: str("Label selector of the worker Pods (the scale subresource's selector).", {
      maxLength: 1024,
    }),
    queueDepth: int('Tasks waiting for a worker, from GET /v1/status.', { minimum: 0, format: 'int64' }),
    jobsRunning: int('Jobs whose tasks are queued or running, from GET /v1/status.', {
      minimum: 0,
      format: 'int64',
    }),
    modelsStored: int('Models stored, from GET /v1/status.', { minimum: 0, format: 'int64' }),
    lastScale,
  },
  'Observed state of the anomaly service.',
);

/** AnomalyService.spec (after apiserver defaulting). */
export type AnomalyServiceSpec = Infer<typeof anomalyServiceSpec>;
/** AnomalyService.spec as a user writes it. */
export type AnomalyServiceSpecInput = InferInput<typeof anomalyServiceSpec>;
/** AnomalyService.status. */
export type AnomalyServiceStatus = Infer<typeof anomalyServiceStatus>;
/** status.lastScale. */
export type LastScale = Infer<typeof lastScale>;
/** CPU and memory requests and limits of one container. */
export type AnomalyResources = Infer<typeof resources>;

/** An AnomalyService as read from the apiserver. */
export interface AnomalyService extends KubeObject {
  apiVersion: typeof API_VERSION;
  kind: typeof ANOMALYSERVICE.kind;
  metadata: ObjectMeta;
  spec: AnomalyServiceSpec;
  status?: AnomalyServiceStatus;
}
