// The Job every cutout-runner step runs in (the collection's indexing, a CutoutJob's shards, merge and clean-up):
// one container of the cutout-runner image under the restricted Pod Security Standard, whose last word — the
// termination message (/dev/termination-log) — is how a step reports back to the operator.
import type { KubeObject } from '../../api/object.js';
import { restrictedPodSecurity, type ChildMeta } from '../../meta/index.js';

/** The user the cutout-runner image runs as (images/cutout-runner/Dockerfile). */
export const RUNNER_UID = 65532;
/** Where the container writes its report for the operator (the kubelet keeps ≤ 4096 bytes). */
export const TERMINATION_LOG = '/dev/termination-log';

/** A volume of a runner pod, mounted at `mountPath`. */
export interface RunnerVolume {
  /** The pod volume's name; mounts sharing a name share the volume (the first one's source). */
  readonly name: string;
  readonly mountPath: string;
  readonly readOnly: boolean;
  readonly subPath?: string;
  readonly source:
    | { persistentVolumeClaim: { claimName: string; readOnly?: boolean } }
    | { configMap: { name: string } }
    | { emptyDir: { sizeLimit: string } };
}

/** Options of {@link runnerJob}. */
export interface RunnerJobOptions {
  readonly meta: ChildMeta & { name: string };
  readonly image: string;
  readonly args: readonly string[];
  readonly volumes: readonly RunnerVolume[];
  /** Extra Job spec fields (completions, completionMode, activeDeadlineSeconds, suspend, …). */
  readonly job?: Record<string, unknown>;
  /** Annotations of the pods (only those an admin allowed by prefix). */
  readonly podAnnotations?: Readonly<Record<string, string>>;
  /** Pod failures before the Job fails (default 2); null leaves it unset (an Indexed Job's per-index limit rules). */
  readonly backoffLimit?: number | null;
  /** Environment of the container (a bucket's key pair, only by secretKeyRef). */
  readonly env?: readonly Record<string, unknown>[];
}

/** A batch/v1 Job running the cutout runner once (or once per index), restricted Pod Security, never restarted in place. */
export function runnerJob(o: RunnerJobOptions): KubeObject {
  const podMeta: Record<string, unknown> = { labels: { ...o.meta.labels } };
  if (o.podAnnotations !== undefined && Object.keys(o.podAnnotations).length > 0)
    podMeta.annotations = { ...o.podAnnotations };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: o.meta,
    spec: {
      ...(o.backoffLimit !== null && { backoffLimit: o.backoffLimit ?? 2 }),
      ...o.job,
      template: {
        metadata: podMeta,
        spec: {
          restartPolicy: 'Never',
          // The runner works synchronously as node, which as PID 1 would ignore SIGTERM (no handler can run): with
          // the sandbox as PID 1, a deleted pod (ABORT suspends the shards' Job) stops at once, not after the grace
          // period (e2e/real/cutoutjob.real.test.ts).
          shareProcessNamespace: true,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: restrictedPodSecurity(RUNNER_UID),
          containers: [
            {
              name: 'runner',
              image: o.image,
              imagePullPolicy: 'IfNotPresent',
              args: [...o.args],
              ...(o.env !== undefined && o.env.length > 0 && { env: [...o.env] }),
              terminationMessagePath: TERMINATION_LOG,
              terminationMessagePolicy: 'File',
              resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '2Gi' } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: o.volumes.map((v) => ({
                name: v.name,
                mountPath: v.mountPath,
                readOnly: v.readOnly,
                ...(v.subPath !== undefined && v.subPath !== '' ? { subPath: v.subPath } : {}),
              })),
            },
          ],
          // One pod volume per name: several mounts of one volume (subPaths of a claim) share it.
          volumes: o.volumes
            .filter((v, i) => o.volumes.findIndex((w) => w.name === v.name) === i)
            .map((v) => ({ name: v.name, ...v.source })),
        },
      },
    },
  };
}

/** The parts of a batch/v1 Job's status reconcile reads. */
export interface JobStatusView {
  readonly active?: number;
  readonly succeeded?: number;
  readonly failed?: number;
  readonly completedIndexes?: string;
  readonly failedIndexes?: string;
  readonly conditions?: readonly { type: string; status: string; reason?: string; message?: string }[];
}

/** How a Job ended, if it has: Complete, or Failed with the controller's reason (DeadlineExceeded, …). */
export function jobOutcome(
  job: KubeObject | undefined,
): { done: false } | { done: true; ok: boolean; reason: string; message: string } {
  const status = (job?.['status'] ?? {}) as JobStatusView;
  for (const c of status.conditions ?? []) {
    if (c.status !== 'True') continue;
    if (c.type === 'Complete') return { done: true, ok: true, reason: 'Complete', message: c.message ?? '' };
    if (c.type === 'Failed')
      return { done: true, ok: false, reason: c.reason ?? 'Failed', message: c.message ?? '' };
  }
  return { done: false };
}

/** Indexes listed in a Job's `completedIndexes`/`failedIndexes` ("0-2,4"). */
export function parseIndexes(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? '').split(',')) {
    if (part.trim() === '') continue;
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || !Number.isInteger(a)) continue;
    const end = b !== undefined && Number.isInteger(b) ? b : a;
    for (let i = a; i <= end; i++) out.push(i);
  }
  return out;
}

/**
 * The termination message of a Job's succeeded pod (the runner's report) — or of a failed one, `phase: 'Failed'`
 * (the runner's error report) — if the kubelet recorded one.
 */
export function terminationMessage(
  pods: readonly KubeObject[],
  phase: 'Succeeded' | 'Failed' = 'Succeeded',
): string | undefined {
  for (const p of pods) {
    const status = p['status'] as
      | {
          phase?: string;
          containerStatuses?: { state?: { terminated?: { exitCode?: number; message?: string } } }[];
        }
      | undefined;
    if (status?.phase !== phase) continue;
    const msg = status.containerStatuses?.[0]?.state?.terminated?.message;
    if (msg !== undefined && msg.trim() !== '') return msg;
  }
  return undefined;
}

/** What the cache keeps of a runner pod: its labels and the runner's termination. */
export function runnerPodForCache(obj: KubeObject): KubeObject {
  const status = obj['status'] as
    { phase?: string; containerStatuses?: { state?: { terminated?: unknown } }[] } | undefined;
  const { managedFields: _m, annotations: _a, ...meta } = obj.metadata ?? {};
  return {
    ...(obj.apiVersion !== undefined && { apiVersion: obj.apiVersion }),
    ...(obj.kind !== undefined && { kind: obj.kind }),
    metadata: meta,
    status: {
      phase: status?.phase,
      containerStatuses: (status?.containerStatuses ?? []).map((c) => ({
        state: { terminated: c.state?.terminated },
      })),
    },
  };
}
