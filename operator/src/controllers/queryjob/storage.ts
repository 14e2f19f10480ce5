// The QueryJob storage layer: every Kubernetes call of a QueryJob's reconcile, one narrow function each
// (CONTRIBUTING.md §2); reconcile.ts orders them, status goes through the runtime's StatusWriter.
import type { Catalog } from '../../api/v1alpha1/index.js';
import { TransientError } from '../../errors.js';
import type { Kube, KubeObject } from '../../kube/index.js';
import type { Expectations } from '../../runtime/index.js';
import type { Credentials } from './database.js';

/** Whether a write of this reconcile was skipped because the watch has not shown our last one yet. */
export interface WriteRun {
  awaitingCache: boolean;
}

/** The two Jobs of a QueryJob, as expectation slots (both create-only). */
export const JOB_SLOTS = ['RunnerJob', 'CleanupJob'] as const;
/** One of {@link JOB_SLOTS}. */
export type JobSlot = (typeof JOB_SLOTS)[number];

/** The kube calls of one QueryJob's children. */
export class QueryJobStorage {
  constructor(
    private readonly kube: Kube,
    /** Jobs this process created that the cache has not shown yet: never created twice. */
    readonly expected: Expectations,
  ) {}

  /**
   * Creates a Job (runner or cleanup) unless the cache or our last write has it. Created, never applied: a Job's
   * pod template is immutable. AlreadyExists (a restarted operator whose cache lags) is not an error: the Job is
   * there, and the watch will show it.
   */
  async createJob(
    uid: string,
    slot: JobSlot,
    job: KubeObject,
    current: KubeObject | undefined,
    run: WriteRun,
  ): Promise<boolean> {
    if (!this.expected.needsWrite(uid, slot, job, current, run)) return false;
    try {
      await this.kube.create(job);
    } catch (err) {
      if (!(err instanceof TransientError && err.code === 'Conflict')) throw err;
    }
    this.expected.wrote(uid, slot, job);
    return true;
  }

  /**
   * Applies the runner's ServiceAccount, Role and RoleBinding (server-side apply: the same objects again are a
   * no-op), before its Job is created.
   */
  async applyRunnerIdentity(objects: readonly KubeObject[]): Promise<void> {
    for (const o of objects) await this.kube.apply(o);
  }

  /** Deletes a Job and (background propagation) its pods: the runner gets SIGTERM and cancels its query. */
  async deleteJob(job: KubeObject): Promise<void> {
    if (job.metadata?.deletionTimestamp !== undefined) return;
    await this.kube.delete(
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        namespace: job.metadata?.namespace ?? 'default',
        name: job.metadata?.name ?? '',
      },
      {
        propagationPolicy: 'Background',
        ...(job.metadata?.uid === undefined ? {} : { uid: job.metadata.uid }),
      },
    );
  }

  /** The read-only role from the catalog's Secret in `namespace`; TransientError when it is missing (retried). */
  async credentials(catalog: Catalog, namespace: string): Promise<Credentials> {
    const c = catalog.spec.database.credentials;
    const secret = await this.kube.get<KubeObject & { data?: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace,
      name: c.secretName,
    });
    const read = (key: string): string | undefined => {
      const v = secret?.data?.[key];
      return v === undefined
        ? undefined
        : Buffer.from(v, 'base64')
            .toString('utf8')
            .replace(/[\r\n]+$/, '');
    };
    const user = read(c.usernameKey);
    const password = read(c.passwordKey);
    if (user === undefined || password === undefined) {
      throw new TransientError(
        'CredentialsNotFound',
        `Secret ${namespace}/${c.secretName} with keys ${c.usernameKey} and ${c.passwordKey} (catalog ` +
          `${catalog.metadata.name ?? ''}'s read-only role) is missing`,
      );
    }
    return { user, password };
  }
}
