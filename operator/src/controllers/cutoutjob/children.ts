// A CutoutJob's children as the reconcile finds them in the informer cache: a child by component, the pods of a
// child Job, and the ID lookup QueryJobs (ADR 0015) in order. Reads only: nothing here calls the apiserver.
import type { KubeObject } from '../../api/object.js';
import type { CutoutJob, QueryJob } from '../../api/v1alpha1/index.js';
import { QUERYJOB } from '../../api/v1alpha1/index.js';
import { childName } from '../../meta/index.js';
import type { ReconcileContext } from '../../runtime/index.js';
import { COMPONENT, IDS_LOOKUPS_ANNOTATION, idsLookupName } from './build.js';

type Ctx = ReconcileContext<CutoutJob>;

/** The job's owned child of `kind` named for `component`. */
export function child(ctx: Ctx, kind: string, job: CutoutJob, component: string): KubeObject | undefined {
  const name = childName(job.metadata.name ?? '', component);
  return ctx.owned<KubeObject>(kind).find((o) => o.metadata?.name === name);
}

/** The pods of the child Job named for `component`. */
export function podsOf(ctx: Ctx, job: CutoutJob, component: string): KubeObject[] {
  const name = childName(job.metadata.name ?? '', component);
  return ctx
    .indexed<KubeObject>('Pod', 'ownerUid', job.metadata.uid ?? '')
    .filter(
      (p) =>
        p.metadata?.labels?.['batch.kubernetes.io/job-name'] === name ||
        p.metadata?.labels?.['job-name'] === name,
    );
}

/** How many ID lookup QueryJobs a job has (its `<name>-ids` snapshot says; 0 before it exists). */
export function lookupCount(ctx: Ctx, job: CutoutJob): number {
  const snapshot = child(ctx, 'ConfigMap', job, COMPONENT.ids);
  const n = Number(snapshot?.metadata?.annotations?.[IDS_LOOKUPS_ANNOTATION] ?? 1);
  return snapshot === undefined ? 0 : Number.isInteger(n) && n > 0 ? n : 1;
}

/** The job's ID lookup QueryJobs, in order (undefined for one not in the cache). */
export function lookups(ctx: Ctx, job: CutoutJob): (QueryJob | undefined)[] {
  const ns = job.metadata.namespace ?? '';
  return Array.from({ length: lookupCount(ctx, job) }, (_, k) =>
    ctx.get<QueryJob>(QUERYJOB.kind, { namespace: ns, name: idsLookupName(job, k) }),
  );
}
