// Catalog (cluster-scoped, docs/adr/0008-catalog-scope.md): an admin's PostgreSQL catalog that QueryJobs in any
// namespace name — its connection and read-only role, the limits every query obeys, where results go, retention.
import { arr, bool, def, duration, enumOf, int, obj, req, str, withRules } from '../schema.js';
import type { KubeObject, ObjectMeta } from '../object.js';
import type { Infer, InferInput } from '../schema.js';
import { parseDuration } from '../units.js';
import {
  boundedQuantity,
  conditions,
  DNS1123_LABEL_PATTERN,
  DNS1123_SUBDOMAIN_PATTERN,
  LABEL_VALUE_PATTERN,
  observedGeneration,
  resourceAmounts,
} from './common.js';
import type { KindNames } from './group.js';
import { API_VERSION } from './group.js';
import { s3Bucket } from './s3.js';

/** Catalog: an admin's PostgreSQL catalog for QueryJobs (cluster-scoped, like NotebookProfile). */
export const CATALOG = {
  kind: 'Catalog',
  listKind: 'CatalogList',
  plural: 'catalogs',
  singular: 'catalog',
  shortNames: ['cat'],
  scope: 'Cluster',
} as const satisfies KindNames;

/** Default and hard bounds of a catalog's limits (Rubin TAP's 600 s default, DESaccess's 24 h maximum). */
export const CATALOG_DEFAULTS = {
  defaultExecutionDuration: '10m',
  maxExecutionDuration: '1h',
  maxRecords: 10_000_000,
  maxResultBytes: '10Gi',
  maxConcurrentJobsPerUser: 2,
  destruction: '168h',
} as const;

const credentials = obj(
  {
    secretName: req(
      str(
        "Name of a Secret holding the read-only role's user name and password. It must exist in each namespace " +
          'whose QueryJobs use this catalog (the namespace set-up copies it, as with image pull Secrets).',
        { pattern: DNS1123_SUBDOMAIN_PATTERN, maxLength: 253 },
      ),
    ),
    usernameKey: def(
      str('Key of the user name.', { pattern: '^[-._a-zA-Z0-9]+$', maxLength: 253 }),
      'username',
    ),
    passwordKey: def(
      str('Key of the password.', { pattern: '^[-._a-zA-Z0-9]+$', maxLength: 253 }),
      'password',
    ),
  },
  'The read-only role queries run as (a kubernetes.io/basic-auth Secret has these keys).',
);

const database = obj(
  {
    host: req(str('Host name or address of the PostgreSQL server.', { minLength: 1, maxLength: 253 })),
    port: def(int('TCP port.', { minimum: 1, maximum: 65535 }), 5432),
    database: req(str('Database name.', { minLength: 1, maxLength: 63 })),
    credentials: req(credentials),
  },
  'The PostgreSQL server (or a Citus coordinator) and the read-only role.',
);

const limits = obj(
  {
    defaultExecutionDuration: def(
      duration('executionDuration of a QueryJob that sets none.'),
      CATALOG_DEFAULTS.defaultExecutionDuration,
    ),
    maxExecutionDuration: def(
      duration(
        'Longest executionDuration a QueryJob may ask for; enforced twice (statement_timeout and the Job deadline).',
      ),
      CATALOG_DEFAULTS.maxExecutionDuration,
    ),
    maxRecords: def(
      int('Most rows a result holds; a QueryJob maxRecords above it is lowered to it.', {
        minimum: 1,
        format: 'int64',
      }),
      CATALOG_DEFAULTS.maxRecords,
    ),
    maxResultBytes: def(
      boundedQuantity(
        'storage',
        "Largest result the planner's estimate may reach; larger is refused at submit.",
      ),
      CATALOG_DEFAULTS.maxResultBytes,
    ),
    maxEstimatedRows: int(
      "Most rows the planner's estimate may reach; larger is refused at submit. Unset: maxRecords is not a " +
        'refusal (a result is cut at maxRecords with an overflow flag) and only maxResultBytes and maxCost apply.',
      { minimum: 1, format: 'int64' },
    ),
    maxCost: int("Largest planner cost (EXPLAIN's total cost) a query may have; unset: not checked.", {
      minimum: 1,
      format: 'int64',
    }),
    maxConcurrentJobsPerUser: def(
      int('Most QueryJobs of one owner executing at once; more wait in QUEUED.', {
        minimum: 1,
        maximum: 1000,
      }),
      CATALOG_DEFAULTS.maxConcurrentJobsPerUser,
    ),
  },
  'Limits every query of this catalog obeys.',
  {
    rules: [
      {
        rule: 'duration(self.defaultExecutionDuration) <= duration(self.maxExecutionDuration)',
        message: 'defaultExecutionDuration must not exceed maxExecutionDuration',
        fieldPath: '.defaultExecutionDuration',
        check: (s) => parseDuration(s.defaultExecutionDuration) <= parseDuration(s.maxExecutionDuration),
      },
    ],
  },
);

const s3 = s3Bucket({
  description: 'An S3-compatible bucket results are written to (docs/adr/0013-s3-results.md).',
  bucket: 'The bucket (it must exist; the runner writes, the TAP service presigns reads, cleanup deletes).',
  prefix:
    'Key prefix of every result: objects are <prefix>/<namespace>/<queryjob>/<uid>/<file> (empty: from ' +
    'the bucket root).',
  prefixDefault: 'skyport-results',
  secret:
    'Name of a Secret with the access key pair. It must exist in each namespace whose QueryJobs use this ' +
    'catalog, and in the TAP namespace (it signs result URLs).',
});

const results = obj(
  {
    claimName: str(
      'PersistentVolumeClaim results are written to, one directory per QueryJob; it must exist in each ' +
        'namespace whose QueryJobs use this catalog (ReadWriteMany when jobs of a namespace run on several nodes).',
      { pattern: DNS1123_SUBDOMAIN_PATTERN, maxLength: 253 },
    ),
    s3,
  },
  'Where result files go: exactly one of claimName (a PersistentVolumeClaim) and s3 (a bucket).',
  {
    rules: [
      {
        rule: 'has(self.claimName) != has(self.s3)',
        message: 'exactly one of claimName and s3 must be set',
        check: (s) => (s.claimName !== undefined) !== (s.s3 !== undefined),
      },
    ],
  },
);

const retention = obj(
  {
    destruction: def(
      withRules(
        duration('How long after creation a QueryJob is destroyed (results deleted, record ARCHIVED).'),
        [
          {
            rule: "duration(self) >= duration('1m')",
            message: 'must be at least 1m',
            check: (v) => parseDuration(v) >= 60_000,
          },
        ],
      ),
      CATALOG_DEFAULTS.destruction,
    ),
  },
  'Result retention.',
);

/** Limits of quick QueryJobs (`spec.mode: quick`), which the TAP service runs in its own process. */
export const QUICK_DEFAULTS = { maxRecords: 100_000, maxExecutionDuration: '1m' } as const;

const quick = obj(
  {
    maxRecords: def(
      int(
        'Most rows a quick QueryJob may ask for; its maxRecords when it sets none. A quick job asking for more ' +
          'ends in ERROR (QuickJobTooBig): run it async.',
        { minimum: 1, format: 'int64' },
      ),
      QUICK_DEFAULTS.maxRecords,
    ),
    maxExecutionDuration: def(
      duration(
        'Longest executionDuration of a quick QueryJob (its statement_timeout); the default when it sets none. ' +
          'A quick job asking for more ends in ERROR (QuickJobTooBig).',
      ),
      QUICK_DEFAULTS.maxExecutionDuration,
    ),
  },
  "Quick QueryJobs run by this TAP service (docs/adr/0009-catalog-tap-service.md); the catalog's limits apply too.",
);

/** Where a catalog's TAP service runs, and how (docs/adr/0009-catalog-tap-service.md). */
const tap = obj(
  {
    enabled: def(bool('Run the TAP service; false removes it and keeps this block.'), true),
    namespace: req(
      str(
        "Namespace of the TAP Deployment, its Service and its async jobs (QueryJobs). The catalog's credentials " +
          'Secret, its results claim and the TAP Secret (secretName) must exist there.',
        { pattern: DNS1123_LABEL_PATTERN, maxLength: 63 },
      ),
    ),
    secretName: req(
      str(
        'Secret in that namespace with `tokens` (one `user token` a line: who a bearer token is) and `signing-key` ' +
          '(at least 32 bytes: the HMAC key of result URLs, shared by the replicas).',
        { pattern: DNS1123_SUBDOMAIN_PATTERN, maxLength: 253 },
      ),
    ),
    replicas: def(
      int('TAP Pods (the job state lives in QueryJobs, so any replica serves any job).', {
        minimum: 0,
        maximum: 16,
      }),
      1,
    ),
    resources: obj(
      { requests: resourceAmounts, limits: resourceAmounts },
      'CPU and memory of the TAP container (defaults: requests 100m/128Mi, limits 1/512Mi).',
    ),
    serviceType: def(
      enumOf(['ClusterIP', 'NodePort', 'LoadBalancer'] as const, 'Type of the TAP Service.'),
      'ClusterIP',
    ),
    quick: def(quick, {}),
  },
  "The catalog's IVOA TAP service (services/tap): sync queries and async jobs, each async job a QueryJob. Unset: none.",
);

/** Schema of Catalog.spec. */
export const catalogSpec = obj(
  {
    description: str('Text shown to users (TAP /tables, portals).', { maxLength: 1024 }),
    release: str('Data release, recorded in each result\'s provenance, e.g. "Y6A2".', {
      pattern: LABEL_VALUE_PATTERN,
      maxLength: 63,
    }),
    database: req(database),
    tables: def(
      arr(
        str('A table as schema.table.', {
          pattern: '^[A-Za-z_][A-Za-z0-9_$]*\\.[A-Za-z_][A-Za-z0-9_$]*$',
          maxLength: 127,
        }),
        "Tables this catalog exposes (listed to users); what a query may read is decided by the role's grants.",
        { maxItems: 256, listType: 'set' },
      ),
      [],
    ),
    limits: def(limits, {}),
    results: req(results),
    retention: def(retention, {}),
    tap,
  },
  'A PostgreSQL catalog QueryJobs run against.',
);

/** Schema of Catalog.status. */
export const catalogStatus = obj(
  {
    observedGeneration: observedGeneration(),
    conditions: conditions('TapReady is True when the TAP service has a ready Pod.'),
    tap: obj(
      {
        url: str('In-cluster URL of the TAP service (its base: /sync, /async, /capabilities below it).', {
          maxLength: 512,
        }),
        namespace: str('Namespace of the TAP service.', { maxLength: 63 }),
        replicas: int('TAP Pods asked for.', { minimum: 0 }),
        readyReplicas: int('TAP Pods ready (their /availability answers: the database is reachable).', {
          minimum: 0,
        }),
      },
      'The TAP service, while spec.tap is enabled.',
    ),
  },
  'Observed state of the catalog.',
);

/** Catalog.spec (after apiserver defaulting). */
export type CatalogSpec = Infer<typeof catalogSpec>;
/** Catalog.spec as an admin writes it. */
export type CatalogSpecInput = InferInput<typeof catalogSpec>;
/** Catalog.status. */
export type CatalogStatus = Infer<typeof catalogStatus>;

/** A Catalog as read from the apiserver. */
export interface Catalog extends KubeObject {
  apiVersion: typeof API_VERSION;
  kind: typeof CATALOG.kind;
  metadata: ObjectMeta;
  spec: CatalogSpec;
  status?: CatalogStatus;
}
