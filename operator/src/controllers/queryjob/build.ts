// Pure builders of a QueryJob's children (CONTRIBUTING.md §1): the batch/v1 Job running the query runner and the
// Job that deletes the results at destruction. No I/O, no clock.
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

/** The cleanup Job's name: `<queryjob>-cleanup`. */
export function cleanupJobName(qj: QueryJob): string {
  return childName(qj.metadata.name ?? '', 'cleanup');
}

/** The job's directory on the results claim: name and UID, so a re-created namesake never shares it. */
export function resultDir(qj: QueryJob): string {
  return `${RESULTS_MOUNT}/${qj.metadata.name ?? ''}-${qj.metadata.uid ?? ''}`;
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
    },
    maxRecords: plan.maxRecords,
    executionDurationSeconds: plan.executionDurationSeconds,
  };
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

function resultsVolume(catalog: Catalog) {
  return { name: 'results', persistentVolumeClaim: { claimName: catalog.spec.results.claimName } };
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
          automountServiceAccountToken: false,
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

/** The Job deleting the job's result directory at destruction (busybox `rm` of the runner image). */
export function buildCleanupJob(qj: QueryJob, catalog: Catalog, settings: RunnerSettings): KubeObject {
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
              command: ['rm', '-rf', '--', resultDir(qj)],
              resources: {
                requests: { cpu: '50m', memory: '32Mi' },
                limits: { cpu: '500m', memory: '64Mi' },
              },
              securityContext: CONTAINER_SECURITY,
              volumeMounts: [{ name: 'results', mountPath: RESULTS_MOUNT }],
            },
          ],
          volumes: [resultsVolume(catalog)],
        },
      },
    },
  };
}
