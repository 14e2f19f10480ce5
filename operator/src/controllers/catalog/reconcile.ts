// One Catalog's reconcile for its TAP service (docs/adr/0009-catalog-tap-service.md): apply the TAP children
// (tap.ts) in order — ServiceAccount, Role, RoleBinding before the Deployment that uses them, then the Service —,
// delete the ones no longer wanted (spec.tap removed, disabled or moved to another namespace), and write
// status.tap and the TapReady condition. Deleting the Catalog removes the children through their ownerReferences.
import type { Catalog, CatalogStatus } from '../../api/v1alpha1/index.js';
import type { Kube, KubeObject } from '../../kube/index.js';
import { setCondition } from '../../meta/index.js';
import {
  StatusWriter,
  syncServedChildren,
  type ReconcileContext,
  type ReconcileResult,
} from '../../runtime/index.js';
import { buildTap, tapUrl, type TapSettings } from './build.js';

export interface CatalogTapDeps {
  kube: Kube;
  settings: TapSettings;
  now?: () => number;
}

type Ctx = ReconcileContext<Catalog>;

function sameStatus(a: CatalogStatus | undefined, b: CatalogStatus): boolean {
  return JSON.stringify(a ?? {}) === JSON.stringify(b);
}

/** The status from the catalog and its Deployment as cached. */
export function catalogTapStatus(
  catalog: Catalog,
  deployment: KubeObject | undefined,
  now: Date,
): CatalogStatus {
  const prev = catalog.status ?? {};
  const generation = catalog.metadata.generation;
  const url = tapUrl(catalog);
  const t = catalog.spec.tap;
  const base: CatalogStatus = {
    ...(prev.conditions === undefined ? {} : { conditions: prev.conditions }),
    ...(generation === undefined ? {} : { observedGeneration: generation }),
  };
  if (url === undefined || t === undefined) {
    return {
      ...base,
      conditions: setCondition(
        prev.conditions,
        {
          type: 'TapReady',
          status: 'False',
          reason: 'TapDisabled',
          message: t === undefined ? 'spec.tap is unset: no TAP service' : 'spec.tap.enabled is false',
          ...(generation === undefined ? {} : { observedGeneration: generation }),
        },
        now,
      ),
    };
  }
  const st = (deployment?.['status'] ?? {}) as { readyReplicas?: number };
  const ready = st.readyReplicas ?? 0;
  const cond =
    ready > 0
      ? { status: 'True' as const, reason: 'Available', message: `${ready} of ${t.replicas} TAP Pods ready` }
      : t.replicas === 0
        ? { status: 'False' as const, reason: 'ScaledToZero', message: 'spec.tap.replicas is 0' }
        : {
            status: 'False' as const,
            reason: 'NoReadyPod',
            message: `no TAP Pod is ready yet (its /availability needs the catalog database)`,
          };
  return {
    ...base,
    conditions: setCondition(
      prev.conditions,
      { type: 'TapReady', ...cond, ...(generation === undefined ? {} : { observedGeneration: generation }) },
      now,
    ),
    tap: { url, namespace: t.namespace, replicas: t.replicas, readyReplicas: ready },
  };
}

/** Reconciles a Catalog's TAP service; one instance per controller. */
export class CatalogTapReconciler {
  private readonly status: StatusWriter<CatalogStatus>;
  private readonly now: () => number;

  constructor(private readonly deps: CatalogTapDeps) {
    this.now = deps.now ?? Date.now;
    this.status = new StatusWriter<CatalogStatus>({ kube: deps.kube, same: sameStatus });
  }

  async reconcile(ctx: Ctx): Promise<ReconcileResult | undefined> {
    const cached = ctx.object;
    // Deleted: the children go with it through their ownerReferences (the garbage collector).
    if (cached === undefined || cached.metadata.deletionTimestamp !== undefined) return undefined;
    const catalog = this.status.fresh(cached);
    const desired = buildTap(catalog, this.deps.settings);
    const deployment = await syncServedChildren(ctx, this.deps.kube, desired, 'TAP');
    const next = catalogTapStatus(catalog, deployment, new Date(this.now()));
    await this.status.write(catalog, next);
    return undefined;
  }
}
