// The CutoutJob storage layer: every Kubernetes write of a cutout job's reconcile, one narrow function each
// (status goes through the runtime's StatusWriter). Children are created once and never updated: a running
// Indexed Job and the positions it reads must not change under it.
import type { KubeObject } from '../../api/object.js';
import { API_VERSION, CUTOUTJOB, QUERYJOB, type CutoutJob } from '../../api/v1alpha1/index.js';
import { TransientError } from '../../errors.js';
import type { Kube } from '../../kube/index.js';
import { Expectations } from '../../runtime/index.js';
import { RESULTS_FINALIZER } from './build.js';

/** The writes of the CutoutJob controller. */
export class CutoutStorage {
  /** ConfigMaps and Jobs this process created that the cache has not shown yet. */
  readonly expected = new Expectations({ createOnly: ['ConfigMap', 'Job', 'QueryJob'] });

  constructor(private readonly kube: Kube) {}

  /**
   * Creates a child unless the cache has it or we just created it; AlreadyExists (a restarted operator, a lagging
   * cache) counts as done. Keyed by name, so one job's several Jobs are tracked apart. True when it wrote.
   */
  async createOnce(uid: string, obj: KubeObject, current: KubeObject | undefined): Promise<boolean> {
    const key = `${obj.kind ?? ''}/${obj.metadata?.name ?? ''}`;
    if (!this.expected.needsWrite(uid, key, obj, current, { awaitingCache: false })) return false;
    try {
      await this.kube.create(obj);
    } catch (e) {
      if (!(e instanceof TransientError && e.code === 'Conflict')) throw e;
    }
    this.expected.wrote(uid, key, obj);
    return true;
  }

  /** Suspends the shards' Job: the Job controller deletes its running pods (ABORT). */
  async suspend(namespace: string, name: string): Promise<void> {
    await this.kube.mergePatch(
      { apiVersion: 'batch/v1', kind: 'Job', namespace, name },
      { spec: { suspend: true } },
    );
  }

  /** Aborts the QueryJob looking a job's IDs up (its spec.phase ABORT; the query controller stops it). */
  async abortQuery(namespace: string, name: string): Promise<void> {
    await this.kube.mergePatch(
      { apiVersion: API_VERSION, kind: QUERYJOB.kind, namespace, name },
      { spec: { phase: 'ABORT' } },
    );
  }

  async addFinalizer(job: CutoutJob): Promise<CutoutJob | undefined> {
    return this.kube.addFinalizer(job, RESULTS_FINALIZER);
  }

  async removeFinalizer(job: CutoutJob): Promise<void> {
    await this.kube.removeFinalizer(job, RESULTS_FINALIZER);
  }

  /** Deletes the CutoutJob (its destruction time passed); the finalizer deletes its files first. */
  async deleteJob(job: CutoutJob): Promise<void> {
    await this.kube.delete(
      {
        apiVersion: API_VERSION,
        kind: CUTOUTJOB.kind,
        namespace: job.metadata.namespace ?? '',
        name: job.metadata.name ?? '',
      },
      job.metadata.uid === undefined ? {} : { uid: job.metadata.uid },
    );
  }

  /** Reads the positions ConfigMap a job names (not cached: a user's, read once per plan). */
  async configMap(namespace: string, name: string): Promise<KubeObject | undefined> {
    return this.kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name });
  }
}
