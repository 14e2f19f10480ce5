// The NotebookLab storage layer (nublado's second layer): every Kubernetes write of a lab's reconcile, one narrow
// function each. reconcile.ts orders them; the reads of ownership are in claims.ts; status goes through the
// runtime's StatusWriter.
import type { NotebookLab } from '../../api/v1alpha1/index.js';
import { API_VERSION, NOTEBOOKLAB } from '../../api/v1alpha1/index.js';
import { TransientError } from '../../errors.js';
import type { Kube, KubeObject } from '../../kube/index.js';
import { applyIfChanged, type Expectations } from '../../runtime/index.js';
import { HOME_FINALIZER } from './build.js';

type Lab = NotebookLab;

/** Whether a write of this reconcile was skipped because the watch has not shown our last one yet. */
export interface WriteRun {
  awaitingCache: boolean;
}

/** The kube calls of one lab's children, with the write expectations that keep them from being re-sent. */
export class LabStorage {
  constructor(
    private readonly kube: Kube,
    /** Children this process wrote that the cache has not shown yet (Pods are created once, never updated). */
    readonly expected: Expectations,
  ) {}

  /** Puts the home finalizer on before any child exists; undefined when the lab is gone. */
  async addFinalizer(lab: Lab): Promise<Lab | undefined> {
    // The apiserver returns the lab as stored (validated by the CRD schema).
    return this.kube.addFinalizer(lab, HOME_FINALIZER);
  }

  /** Releases the lab for deletion once its Pod and (per policy) its home are gone. */
  async removeFinalizer(lab: Lab): Promise<void> {
    await this.kube.removeFinalizer(lab, HOME_FINALIZER);
  }

  /**
   * Server-side applies a hashed child (home PVC, Service, NetworkPolicy) unless the cache or our last write already
   * has this version; true when it wrote.
   */
  applyChild(
    uid: string,
    desired: KubeObject,
    current: KubeObject | undefined,
    run: WriteRun,
  ): Promise<boolean> {
    return applyIfChanged(this.kube, this.expected, uid, desired, current, run);
  }

  /** Creates the token Secret; never applied over, so a racing second writer fails and re-reads the stored token. */
  async createToken(secret: KubeObject): Promise<void> {
    await this.kube.create(secret);
  }

  /** Deletes the lab's NetworkPolicy (its profile turned network policies off). */
  async deleteNetworkPolicy(namespace: string, name: string): Promise<void> {
    await this.kube.delete({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespace, name });
  }

  /**
   * Creates the lab Pod unless it exists or was just created. Created, never applied: a lab Pod is never updated (a
   * changed spec replaces it), so a plain create does what an apply would for about 40 % less apiserver CPU.
   * AlreadyExists means our cache lags a Pod that is there: the watch will show it. Returns what it did.
   */
  async createPod(
    uid: string,
    pod: KubeObject,
    current: KubeObject | undefined,
    run: WriteRun,
  ): Promise<'created' | 'exists' | 'skipped'> {
    if (!this.expected.needsWrite(uid, 'Pod', pod, current, run)) return 'skipped';
    let outcome: 'created' | 'exists' = 'created';
    try {
      await this.kube.create(pod);
    } catch (err) {
      if (!(err instanceof TransientError && err.code === 'Conflict')) throw err;
      outcome = 'exists';
    }
    this.expected.wrote(uid, 'Pod', pod);
    return outcome;
  }

  /** Deletes a lab Pod (UID precondition), unless it is already going. */
  async deletePod(
    lab: Lab,
    pod: { metadata?: { name?: string; uid?: string; deletionTimestamp?: unknown } },
  ): Promise<void> {
    if (pod.metadata?.deletionTimestamp !== undefined) return;
    const ref = {
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: lab.metadata.namespace ?? 'default',
      name: pod.metadata?.name ?? '',
    };
    await this.kube.delete(ref, pod.metadata?.uid === undefined ? {} : { uid: pod.metadata.uid });
  }

  /** Sets the lab's `spec.state: Stopped` (a cull: the lab stays stopped and its owner sees why). */
  async markStopped(lab: Lab): Promise<void> {
    const ref = {
      apiVersion: API_VERSION,
      kind: NOTEBOOKLAB.kind,
      namespace: lab.metadata.namespace ?? 'default',
      name: lab.metadata.name ?? '',
    };
    await this.kube.mergePatch(ref, { spec: { state: 'Stopped' } });
  }
}
