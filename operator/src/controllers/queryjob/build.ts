// Pure builders of a QueryJob's children (CONTRIBUTING.md §1): the batch/v1 Job running the query runner and the
// Job that deletes the results at destruction. No I/O, no clock. Results go to the Catalog's claim, or with
// spec.results.s3 to a bucket: the runner writes to an emptyDir scratch and publishes from there, the cleanup Job
// runs the runner's `--delete`, and the key pair reaches both only by secretKeyRef (docs/adr/0013-s3-results.md).
import type { Catalog, QueryJob } from '../../api/v1alpha1/index.js';
import { parseQuantity } from '../../api/units.js';
import type { KubeObject } from '../../kube/index.js';
import { childLabels, childMeta, childName } from '../../meta/index.js';

/** Components (the `app.kubernetes.io/component` label) of a QueryJob's children. */
export const COMPONENT = { runner: 'runner', cleanup: 'cleanup' } as const;

/** Where the results claim is mounted in the runner and cleanup pods. */
export const RESULTS_MOUNT = '/results';
/** Where the read-only role's password is mounted. */
export const CREDENTIALS_MOUNT = '/var/run/secrets/catalog';
/** The runner's container name (exit codes are matched on it). */
export const RUNNER_CONTAINER = 'runner';
/** Exit codes of the runner (services/query-runner/src/errors.ts): 1 fatal, 2 invalid spec, 75 transient. */
export const RUNNER_EXIT = { fatal: 1, spec: 2, transient: 75 } as const;
/**
 * Seconds the Job's activeDeadlineSeconds allows beyond executionDuration for the pod to start and the runner to
 * connect: the runner's own deadline (executionDuration) fires first, the Job's is the backstop.
 */
export const DEADLINE_GRACE_SECONDS = 60;
/** The runner's uid and gid (images/query-runner). */
export const RUNNER_UID = 1000;

/** What reconcile decided at submit and the builder turns into a Job. */
export interface RunPlan {
  /** The SQL that runs (ADQL translated). */
  readonly sql: string;
  readonly executionDurationSeconds: number;
  readonly maxRecords: number;
}

/** Settings of the runner pods. */
export interface RunnerSettings {
  readonly image: string;
  readonly pullPolicy: 'IfNotPresent' | 'Always' | 'Never';
}

/** The runner Job's name: `<queryjob>-run`. */
export function runnerJobName(qj: QueryJob): string {
  return childName(qj.metadata.name ?? '', 'run');
}

/** The runner's ServiceAccount, Role and RoleBinding name: `<queryjob>-run`, as its Job. */
export function runnerIdentityName(qj: QueryJob): string {
  return runnerJobName(qj);
}

/** The cleanup Job's name: `<queryjob>-cleanup`. */
export function cleanupJobName(qj: QueryJob): string {
  return childName(qj.metadata.name ?? '', 'cleanup');
}

/** The job's directory on the results claim: name and UID, so a re-created namesake never shares it. */
export function resultDir(qj: QueryJob): string {
  return `${RESULTS_MOUNT}/${qj.metadata.name ?? ''}-${qj.metadata.uid ?? ''}`;
}

/**
 * The job's key prefix in the Catalog's bucket: `<prefix>/<namespace>/<queryjob>/<uid>/` (the UID, as on a claim,
 * so a re-created namesake never shares the objects of one being destroyed).
 */
export function s3Prefix(qj: QueryJob, catalog: Catalog): string {
  const p = catalog.spec.results.s3?.prefix ?? '';
  const ns = qj.metadata.namespace ?? 'default';
  return `${p === '' ? '' : p + '/'}${ns}/${qj.metadata.name ?? ''}/${qj.metadata.uid ?? ''}/`;
}

/** The runner's output.s3, or undefined when results go to a claim. */
function s3Output(qj: QueryJob, catalog: Catalog): Record<string, unknown> | undefined {
  const s3 = catalog.spec.results.s3;
  if (s3 === undefined) return undefined;
  return {
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    prefix: s3Prefix(qj, catalog),
  };
}

/** AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the Catalog's Secret (none for a claim). */
function s3Env(catalog: Catalog): Record<string, unknown>[] {
  const ref = catalog.spec.results.s3?.credentialsSecretRef;
  if (ref === undefined) return [];
  return [
    { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: ref.name, key: ref.accessKeyIdKey } } },
    {
      name: 'AWS_SECRET_ACCESS_KEY',
      valueFrom: { secretKeyRef: { name: ref.name, key: ref.secretAccessKeyKey } },
    },
  ];
}

/** The PostgreSQL application_name of the job's backend (≤ 63 bytes), which ABORT looks for. */
export function applicationName(qj: QueryJob): string {
  return `skyport-qj-${qj.metadata.uid ?? ''}`.slice(0, 63);
}

function owner(qj: QueryJob) {
  return {
    apiVersion: qj.apiVersion,
    kind: qj.kind,
    metadata: {
      name: qj.metadata.name ?? '',
      uid: qj.metadata.uid ?? '',
      ...(qj.metadata.namespace === undefined ? {} : { namespace: qj.metadata.namespace }),
    },
  };
}

/** The query runner's job spec (services/query-runner/src/spec.ts), passed as SKYPORT_JOB_SPEC. */
export function runnerSpec(qj: QueryJob, catalog: Catalog, plan: RunPlan): Record<string, unknown> {
  const db = catalog.spec.database;
  const out = qj.spec.output;
  return {
    query: plan.sql,
    catalog: {
      name: catalog.metadata.name ?? '',
      ...(catalog.spec.release === undefined ? {} : { release: catalog.spec.release }),
    },
    connection: {
      host: db.host,
      port: db.port,
      database: db.database,
      passwordFile: `${CREDENTIALS_MOUNT}/password`,
      applicationName: applicationName(qj),
    },
    output: {
      dir: resultDir(qj),
      stem: 'result',
      format: out.format,
      compression: out.compression,
      ...(out.splitMaxBytes === undefined ? {} : { splitMaxBytes: parseQuantity(out.splitMaxBytes) }),
      ...(s3Output(qj, catalog) === undefined ? {} : { s3: s3Output(qj, catalog) }),
    },
    maxRecords: plan.maxRecords,
    executionDurationSeconds: plan.executionDurationSeconds,
    // The runner patches this QueryJob's status.progress with its ServiceAccount (buildRunnerIdentity).
    progress: { namespace: qj.metadata.namespace ?? 'default', name: qj.metadata.name ?? '' },
  };
}

/**
 * The runner pod's identity: a ServiceAccount bound to a Role that allows `get` and `patch` of `queryjobs/status`
 * for this QueryJob's name only — the runner writes its live progress there and can touch nothing else (not
 * another job's status, not the spec). Owned by the QueryJob, so they go with it.
 */
export function buildRunnerIdentity(qj: QueryJob): KubeObject[] {
  const name = runnerIdentityName(qj);
  const meta = () => childMeta(owner(qj), COMPONENT.runner, { name });
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(), automountServiceAccountToken: false },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(),
      rules: [
        {
          apiGroups: ['skyport.io'],
          resources: ['queryjobs/status'],
          resourceNames: [qj.metadata.name ?? ''],
          verbs: ['get', 'patch'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: qj.metadata.namespace ?? 'default' }],
    },
  ];
}

/** Pod Security "restricted": non-root, no privilege escalation, ALL capabilities dropped, RuntimeDefault seccomp. */
const POD_SECURITY = {
  runAsNonRoot: true,
  runAsUser: RUNNER_UID,
  runAsGroup: RUNNER_UID,
  fsGroup: RUNNER_UID,
  seccompProfile: { type: 'RuntimeDefault' },
};
const CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

/**
 * The results volume: the Catalog's claim, or with S3 a scratch emptyDir the finished files are published from, as
 * large as twice maxResultBytes (a gzip result is briefly on disk twice: raw and compressed).
 */
function resultsVolume(catalog: Catalog) {
  const claimName = catalog.spec.results.claimName;
  if (claimName !== undefined) return { name: 'results', persistentVolumeClaim: { claimName } };
  const bytes = 2 * parseQuantity(catalog.spec.limits.maxResultBytes);
  return { name: 'results', emptyDir: { sizeLimit: String(bytes) } };
}

/**
 * The batch/v1 Job running one attempt of the query (and one retry). backoffLimit 1 with a podFailurePolicy:
 * exit 1 or 2 (fatal, invalid spec) fails the Job at once, exit 75 (transient) is retried once, an evicted or
 * preempted pod (DisruptionTarget) does not count. activeDeadlineSeconds = executionDuration + 60 s.
 */
export function buildRunnerJob(
  qj: QueryJob,
  catalog: Catalog,
  plan: RunPlan,
  settings: RunnerSettings,
): KubeObject {
  const cred = catalog.spec.database.credentials;
  const labels = childLabels(owner(qj), COMPONENT.runner);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: childMeta(owner(qj), COMPONENT.runner, { name: runnerJobName(qj) }),
    spec: {
      backoffLimit: 1,
      activeDeadlineSeconds: plan.executionDurationSeconds + DEADLINE_GRACE_SECONDS,
      podFailurePolicy: {
        rules: [
          {
            action: 'FailJob',
            onExitCodes: {
              containerName: RUNNER_CONTAINER,
              operator: 'In',
              values: [RUNNER_EXIT.fatal, RUNNER_EXIT.spec],
            },
          },
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
        ],
      },
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          // The token lets the runner patch its QueryJob's status.progress, and nothing else (buildRunnerIdentity).
          serviceAccountName: runnerIdentityName(qj),
          automountServiceAccountToken: true,
          enableServiceLinks: false,
          securityContext: POD_SECURITY,
          containers: [
            {
              name: RUNNER_CONTAINER,
              image: settings.image,
              imagePullPolicy: settings.pullPolicy,
              env: [
                { name: 'SKYPORT_JOB_SPEC', value: JSON.stringify(runnerSpec(qj, catalog, plan)) },
                { name: 'SKYPORT_TERMINATION_LOG', value: '/dev/termination-log' },
                {
                  name: 'PGUSER',
                  valueFrom: { secretKeyRef: { name: cred.secretName, key: cred.usernameKey } },
                },
                ...s3Env(catalog),
              ],
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
              resources: {
                requests: { cpu: '500m', memory: '256Mi' },
                limits: { cpu: '1', memory: '512Mi' },
              },
              securityContext: CONTAINER_SECURITY,
              volumeMounts: [
                { name: 'results', mountPath: RESULTS_MOUNT },
                { name: 'credentials', mountPath: CREDENTIALS_MOUNT, readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            resultsVolume(catalog),
            {
              name: 'credentials',
              secret: {
                secretName: cred.secretName,
                items: [{ key: cred.passwordKey, path: 'password' }],
                defaultMode: 0o440,
              },
            },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
          ],
        },
      },
    },
  };
}

/**
 * The Job deleting the job's results at destruction: busybox `rm` of its directory on the claim (runner image), or
 * the runner's `--delete` of its key prefix in the bucket.
 */
export function buildCleanupJob(qj: QueryJob, catalog: Catalog, settings: RunnerSettings): KubeObject {
  const s3 = catalog.spec.results.s3 !== undefined;
  // --delete reads output.s3 from a job spec like the runner's; its query is never run, so a stand-in will do.
  const spec = runnerSpec(qj, catalog, { sql: 'SELECT 1', executionDurationSeconds: 60, maxRecords: 0 });
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: childMeta(owner(qj), COMPONENT.cleanup, { name: cleanupJobName(qj) }),
    spec: {
      backoffLimit: 3,
      activeDeadlineSeconds: 600,
      template: {
        metadata: { labels: childLabels(owner(qj), COMPONENT.cleanup) },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: POD_SECURITY,
          containers: [
            {
              name: 'cleanup',
              image: settings.image,
              imagePullPolicy: settings.pullPolicy,
              ...(s3
                ? {
                    command: ['node', 'dist/src/main.js', '--delete'],
                    env: [{ name: 'SKYPORT_JOB_SPEC', value: JSON.stringify(spec) }, ...s3Env(catalog)],
                  }
                : { command: ['rm', '-rf', '--', resultDir(qj)] }),
              resources: {
                requests: { cpu: '50m', memory: '32Mi' },
                limits: { cpu: '500m', memory: s3 ? '128Mi' : '64Mi' },
              },
              securityContext: CONTAINER_SECURITY,
              ...(s3 ? {} : { volumeMounts: [{ name: 'results', mountPath: RESULTS_MOUNT }] }),
            },
          ],
          ...(s3 ? {} : { volumes: [resultsVolume(catalog)] }),
        },
      },
    },
  };
}
