// The AnomalyService storage layer (nublado's second layer): every Kubernetes call of its reconcile, one narrow
// function each; reconcile.ts orders them. Status goes through the runtime's StatusWriter.
import type { AnomalyService } from '../../api/v1alpha1/index.js';
import { API_VERSION, ANOMALYSERVICE } from '../../api/v1alpha1/index.js';
import { TransientError } from '../../errors.js';
import type { Kube, KubeObject } from '../../kube/index.js';
import type { Expectations } from '../../runtime/index.js';

/** Whether a write of this reconcile was skipped because the watch has not shown our last one yet. */
export interface WriteRun {
  awaitingCache: boolean;
}

/** The kube calls of one AnomalyService's reconcile. */
export class AnomalyStorage {
  constructor(
    private readonly kube: Kube,
    /** Children this process wrote that the cache has not shown yet, per `<Kind>/<name>` (a service has several). */
    readonly expected: Expectations,
  ) {}

  /**
   * Server-side applies a hashed child unless the cache or our last write already has this version; true when it
   * wrote. Expectations are keyed by kind and name: two Deployments of one owner are tracked apart.
   */
  async applyChild(
    uid: string,
    desired: KubeObject,
    current: KubeObject | undefined,
    run: WriteRun,
  ): Promise<boolean> {
    const key = `${desired.kind ?? ''}/${desired.metadata?.name ?? ''}`;
    if (!this.expected.needsWrite(uid, key, desired, current, run)) return false;
    await this.kube.apply(desired);
    this.expected.wrote(uid, key, desired);
    return true;
  }

  /**
   * Creates the generated tokens Secret; never applied over, so a token once handed out stays valid. AlreadyExists
   * (a racing writer, or a cache that lags) leaves the stored one.
   */
  async createTokens(secret: KubeObject): Promise<'created' | 'exists'> {
    try {
      await this.kube.create(secret);
      return 'created';
    } catch (err) {
      if (err instanceof TransientError && err.code === 'Conflict') return 'exists';
      throw err;
    }
  }

  /** Reads a Secret of the service's namespace (the user's tokens Secret, which the cache does not hold). */
  async readSecret(namespace: string, name: string): Promise<KubeObject | undefined> {
    return this.kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name });
  }

  /**
   * Sets spec.workers.replicas as the scale subresource would, guarded by the resourceVersion read: a `kubectl
   * scale` in between makes it a Conflict (retried on the new value) instead of being overwritten.
   */
  async setWorkerReplicas(svc: AnomalyService, replicas: number): Promise<void> {
    const ref = {
      apiVersion: API_VERSION,
      kind: ANOMALYSERVICE.kind,
      namespace: svc.metadata.namespace ?? 'default',
      name: svc.metadata.name ?? '',
    };
    await this.kube.mergePatch(ref, {
      metadata: { resourceVersion: svc.metadata.resourceVersion },
      spec: { workers: { replicas } },
    });
  }
}
