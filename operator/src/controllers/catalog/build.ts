// Pure builders of a Catalog's TAP service (CONTRIBUTING.md §1; docs/adr/0009-catalog-tap-service.md): its
// ServiceAccount, the Role letting it create and watch QueryJobs in its namespace (every async TAP job is a
// QueryJob), the RoleBinding, the Deployment of services/tap and its Service. No I/O, no clock.
import type { Catalog } from '../../api/v1alpha1/index.js';
import { parseDuration } from '../../api/units.js';
import type { KubeObject } from '../../kube/index.js';
import {
  childLabels,
  childMeta,
  childName,
  LABELS,
  restrictedPodSecurity,
  workloadIdentity,
} from '../../meta/index.js';
import { withHash } from '../../runtime/index.js';

/** The `app.kubernetes.io/component` of the TAP children. */
export const TAP_COMPONENT = 'tap';
/** The TAP container's port and the path its routes live under (services/tap: PORT, TAP_BASE_PATH). */
export const TAP_PORT = 8080;
export const TAP_BASE_PATH = '/tap';
/** Mounts in the TAP pod. */
export const TAP_MOUNTS = {
  results: '/results',
  catalog: '/var/run/secrets/catalog',
  tap: '/var/run/secrets/tap',
} as const;
/** Keys of the TAP Secret (spec.tap.secretName). */
export const TAP_SECRET_KEYS = { tokens: 'tokens', signingKey: 'signing-key' } as const;
/**
 * What a TAP ServiceAccount may do: QueryJobs of its namespace, nothing else — their status too, which it writes for
 * the quick jobs it runs (services/tap/src/quick.ts).
 */
export const TAP_ROLE_RULES = [
  {
    apiGroups: ['skyport.io'],
    resources: ['queryjobs'],
    verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  },
  { apiGroups: ['skyport.io'], resources: ['queryjobs/status'], verbs: ['get', 'patch'] },
];
/** The TAP service's row and time limits the service itself caps at (services/tap/src/config.ts). */
const TAP_MAXREC_CAP = 1_000_000_000;
const TAP_EXECUTION_CAP_SECONDS = 7 * 86_400;
const TAP_MAXREC_DEFAULT = 100_000;
const TAP_DESTRUCTION_HARD_SECONDS = 30 * 86_400;

/** The TAP pods' uid and gid: the query runner's (images/query-runner, images/tap), whose result files it serves. */
export const TAP_UID = 1000;

/** Settings of the TAP pods. */
export interface TapSettings {
  readonly image: string;
  readonly pullPolicy: 'IfNotPresent' | 'Always' | 'Never';
}

/** A catalog's TAP children, each hashed ({@link withHash}). */
export interface TapChildren {
  readonly serviceAccount: KubeObject;
  readonly role: KubeObject;
  readonly roleBinding: KubeObject;
  readonly deployment: KubeObject;
  readonly service: KubeObject;
}

/** The name of every TAP child: `<catalog>-tap`. */
export function tapName(catalog: Catalog): string {
  return childName(catalog.metadata.name ?? '', TAP_COMPONENT);
}

/** The in-cluster base URL of the catalog's TAP service, or undefined when it has none. */
export function tapUrl(catalog: Catalog): string | undefined {
  const t = catalog.spec.tap;
  if (t === undefined || !t.enabled) return undefined;
  return `http://${tapName(catalog)}.${t.namespace}.svc:${TAP_PORT}${TAP_BASE_PATH}`;
}

function owner(catalog: Catalog) {
  return {
    apiVersion: catalog.apiVersion,
    kind: catalog.kind,
    metadata: { name: catalog.metadata.name ?? '', uid: catalog.metadata.uid ?? '' },
  };
}

const seconds = (d: string): number => Math.ceil(parseDuration(d) / 1000);

/** The TAP service's environment (services/tap/README.md, "Configuration") from the catalog. */
function tapEnv(catalog: Catalog, namespace: string): Record<string, unknown>[] {
  const db = catalog.spec.database;
  const limits = catalog.spec.limits;
  const schemas = [...new Set(catalog.spec.tables.map((t) => (t.split('.')[0] ?? 'public').toLowerCase()))];
  const maxrecHard = Math.min(limits.maxRecords, TAP_MAXREC_CAP);
  const durationHard = Math.min(seconds(limits.maxExecutionDuration), TAP_EXECUTION_CAP_SECONDS);
  const destruction = seconds(catalog.spec.retention.destruction);
  const env: [string, string][] = [
    ['TAP_JOB_STORE', 'kubernetes'],
    ['TAP_NAMESPACE', namespace],
    ['TAP_BASE_PATH', TAP_BASE_PATH],
    ['PORT', String(TAP_PORT)],
    ['TAP_CATALOG_NAME', catalog.metadata.name ?? ''],
    ...(catalog.spec.release === undefined
      ? []
      : [['TAP_CATALOG_RELEASE', catalog.spec.release] as [string, string]]),
    ['TAP_SCHEMAS', schemas.length === 0 ? 'public' : schemas.join(',')],
    ['PGHOST', db.host],
    ['PGPORT', String(db.port)],
    ['PGDATABASE', db.database],
    ['PGPASSWORD_FILE', `${TAP_MOUNTS.catalog}/password`],
    ['TAP_TOKENS_FILE', `${TAP_MOUNTS.tap}/${TAP_SECRET_KEYS.tokens}`],
    ['TAP_SIGNING_KEY_FILE', `${TAP_MOUNTS.tap}/${TAP_SECRET_KEYS.signingKey}`],
    ...resultsEnv(catalog),
    ['TAP_MAXREC_HARD', String(maxrecHard)],
    ['TAP_MAXREC_DEFAULT', String(Math.min(TAP_MAXREC_DEFAULT, maxrecHard))],
    ['TAP_EXECUTION_DURATION_HARD', String(durationHard)],
    [
      'TAP_EXECUTION_DURATION_DEFAULT',
      String(Math.min(seconds(limits.defaultExecutionDuration), durationHard)),
    ],
    ['TAP_DESTRUCTION_DEFAULT_SECONDS', String(destruction)],
    ['TAP_DESTRUCTION_HARD_SECONDS', String(Math.max(destruction, TAP_DESTRUCTION_HARD_SECONDS))],
  ];
  const s3 = catalog.spec.results.s3?.credentialsSecretRef;
  return [
    ...env.map(([name, value]) => ({ name, value })),
    {
      name: 'PGUSER',
      valueFrom: { secretKeyRef: { name: db.credentials.secretName, key: db.credentials.usernameKey } },
    },
    // The key pair signs presigned result URLs; by reference only, never in the pod spec.
    ...(s3 === undefined
      ? []
      : [
          {
            name: 'AWS_ACCESS_KEY_ID',
            valueFrom: { secretKeyRef: { name: s3.name, key: s3.accessKeyIdKey } },
          },
          {
            name: 'AWS_SECRET_ACCESS_KEY',
            valueFrom: { secretKeyRef: { name: s3.name, key: s3.secretAccessKeyKey } },
          },
        ]),
  ];
}

/** Where the TAP service finds results: the mounted claim, or the bucket (TAP_RESULTS_S3_*). */
function resultsEnv(catalog: Catalog): [string, string][] {
  const s3 = catalog.spec.results.s3;
  if (s3 === undefined) return [['TAP_RESULTS_DIR', TAP_MOUNTS.results]];
  return [
    ['TAP_RESULTS_S3_ENDPOINT', s3.endpoint.replace(/\/$/, '')],
    ['TAP_RESULTS_S3_BUCKET', s3.bucket],
    ['TAP_RESULTS_S3_REGION', s3.region],
    ['TAP_RESULTS_S3_FORCE_PATH_STYLE', String(s3.forcePathStyle)],
    ['TAP_RESULTS_S3_PREFIX', s3.prefix],
  ];
}

function resources(catalog: Catalog): Record<string, unknown> {
  const r = catalog.spec.tap?.resources;
  return {
    requests: { cpu: r?.requests?.cpu ?? '100m', memory: r?.requests?.memory ?? '128Mi' },
    limits: { cpu: r?.limits?.cpu ?? '1', memory: r?.limits?.memory ?? '512Mi' },
  };
}

/**
 * The catalog's TAP children, or undefined when `spec.tap` is unset or disabled. Pod Security "restricted" (uid
 * 1000 — the query runner's, whose result files it serves —, read-only root, no capabilities, RuntimeDefault
 * seccomp); the results claim read-write (quick QueryJobs' results are written by the TAP process); readiness on /availability (the database answers), liveness on
 * /capabilities (the process answers, whatever the database does).
 */
export function buildTap(catalog: Catalog, settings: TapSettings): TapChildren | undefined {
  const t = catalog.spec.tap;
  if (t === undefined || !t.enabled) return undefined;
  const o = owner(catalog);
  const name = tapName(catalog);
  const meta = { ...childMeta(o, TAP_COMPONENT, { name }), namespace: t.namespace };
  const selector = { [LABELS.ownerUid]: o.metadata.uid, [LABELS.component]: TAP_COMPONENT };
  const cred = catalog.spec.database.credentials;
  const claim = catalog.spec.results.claimName;
  const probe = (path: string) => ({ httpGet: { path: `${TAP_BASE_PATH}${path}`, port: 'http' } });
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta,
    spec: {
      replicas: t.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: childLabels(o, TAP_COMPONENT) },
        spec: {
          serviceAccountName: name,
          // The TAP process talks to the apiserver (QueryJobs) with this ServiceAccount's token.
          automountServiceAccountToken: true,
          securityContext: restrictedPodSecurity(TAP_UID),
          containers: [
            {
              name: TAP_COMPONENT,
              image: settings.image,
              imagePullPolicy: settings.pullPolicy,
              ports: [{ name: 'http', containerPort: TAP_PORT, protocol: 'TCP' }],
              env: tapEnv(catalog, t.namespace),
              resources: resources(catalog),
              // Every 2 s: the kubelet's first probe, right at container start, finds nothing listening yet, and the
              // next one is a period later — 10 s kept a replaced pod out of its Service for ~12 s on the real node.
              readinessProbe: { ...probe('/availability'), periodSeconds: 2, timeoutSeconds: 5 },
              livenessProbe: {
                ...probe('/capabilities'),
                initialDelaySeconds: 10,
                periodSeconds: 20,
                timeoutSeconds: 5,
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                ...(claim === undefined ? [] : [{ name: 'results', mountPath: TAP_MOUNTS.results }]),
                { name: 'catalog', mountPath: TAP_MOUNTS.catalog, readOnly: true },
                { name: 'tap', mountPath: TAP_MOUNTS.tap, readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            ...(claim === undefined
              ? []
              : [{ name: 'results', persistentVolumeClaim: { claimName: claim } }]),
            {
              name: 'catalog',
              secret: { secretName: cred.secretName, items: [{ key: cred.passwordKey, path: 'password' }] },
            },
            {
              name: 'tap',
              secret: {
                secretName: t.secretName,
                items: Object.values(TAP_SECRET_KEYS).map((k) => ({ key: k, path: k })),
              },
            },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
          ],
        },
      },
    },
  };
  const identity = workloadIdentity(meta, name, t.namespace, TAP_ROLE_RULES);
  return {
    serviceAccount: withHash(identity.serviceAccount),
    role: withHash(identity.role),
    roleBinding: withHash(identity.roleBinding),
    deployment: withHash(deployment),
    service: withHash({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta,
      spec: {
        type: t.serviceType,
        selector,
        ports: [{ name: 'http', port: TAP_PORT, targetPort: 'http', protocol: 'TCP' }],
      },
    }),
  };
}
