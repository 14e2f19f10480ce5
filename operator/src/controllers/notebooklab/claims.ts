// Before a lab writes any child: what already holds each child name, and whether it is the lab's (ownership.ts).
// The child informers only cache objects with our managed-by label, so a name missing from the cache is read live
// once before the lab's first write of it (a 404 costs the apiserver less than a write) — the only way to see an
// object someone else made. Children of an earlier lab of the same name are deleted for the garbage collector.
import type { NotebookLab } from '../../api/v1alpha1/index.js';
import type { KubeObject, ObjectRef } from '../../kube/index.js';
import { LABELS } from '../../meta/index.js';
import type { CacheReader, ReconcileContext } from '../../runtime/index.js';
import { labNames } from './build.js';
import { nameConflict, ownershipOf } from './ownership.js';
import type { ChildKind } from './ownership.js';

/** The reads and the one delete the check needs (the kube layer's `Kube`). */
export interface ClaimClient {
  get<T extends KubeObject>(ref: ObjectRef): Promise<T | undefined>;
  delete(ref: ObjectRef, opts?: { uid?: string }): Promise<boolean>;
}

/** What the check found. */
export interface ClaimCheck {
  /** A child name held by someone else's object: the lab writes nothing and reports this. */
  conflict?: { reason: string; message: string };
  /** Leftovers of an earlier lab of the same name are going away: look again after this many ms. */
  waitMs?: number;
  /** The token Secret when it is the lab's own (cached or read live); its token is the lab's. */
  secret?: KubeObject;
}

/** How soon to look again while a leftover of an earlier namesake is deleted. */
export const LEFTOVER_WAIT_MS = 1_000;

const API: Record<ChildKind, string> = {
  PersistentVolumeClaim: 'v1',
  Secret: 'v1',
  Service: 'v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  Pod: 'v1',
};

/** The child names a lab is about to write, in the order they are written (home first). */
function claimedRefs(
  lab: NotebookLab,
  wants: { networkPolicy: boolean; pod: boolean },
): (ObjectRef & { kind: ChildKind; namespace: string })[] {
  const ns = lab.metadata.namespace ?? 'default';
  const names = labNames(lab.metadata.name ?? '');
  const children: [ChildKind, string][] = [
    ['PersistentVolumeClaim', names.home],
    ['Secret', names.token],
    ['Service', names.service],
  ];
  if (wants.networkPolicy) children.push(['NetworkPolicy', names.networkPolicy]);
  if (wants.pod) children.push(['Pod', names.pod]);
  return children.map(([kind, name]) => ({ apiVersion: API[kind], kind, namespace: ns, name }));
}

const refKey = (ref: ObjectRef): string => `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;

/**
 * Starts now the live reads {@link checkClaims} will make for `lab` (each child name the cache does not hold) and
 * returns a client that answers them from these reads, other calls going to `kube`. A lab's first reconcile sends
 * them together with its finalizer write instead of after it: they write nothing, so the rule "the finalizer
 * before any child" holds, and the home claim goes out one round trip sooner.
 */
export function prefetchClaims(
  kube: ClaimClient,
  cache: Pick<ReconcileContext<KubeObject>, 'get'>,
  lab: NotebookLab,
  wants: { networkPolicy: boolean; pod: boolean },
): ClaimClient {
  const reads = new Map<string, Promise<KubeObject | undefined>>();
  for (const ref of claimedRefs(lab, wants)) {
    if (cache.get<KubeObject>(ref.kind, { namespace: ref.namespace, name: ref.name }) !== undefined) continue;
    const read = kube.get<KubeObject>(ref);
    // A read nobody awaits (the reconcile ended before its check) must not become an unhandled rejection.
    read.catch(() => undefined);
    reads.set(refKey(ref), read);
  }
  return {
    get: <T extends KubeObject>(ref: ObjectRef): Promise<T | undefined> =>
      (reads.get(refKey(ref)) as Promise<T | undefined> | undefined) ?? kube.get<T>(ref),
    delete: (ref, opts) => kube.delete(ref, opts),
  };
}

/**
 * Checks every child name the lab is about to write (`wants`: the NetworkPolicy and Pod only when the lab has
 * them). `wroteRecently(kind)` says this process wrote that child moments ago and the cache has not caught up: no
 * live read then. Conflicts are reported in the order the children are written (home first).
 */
export async function checkClaims(
  kube: ClaimClient,
  cache: Pick<ReconcileContext<KubeObject>, 'get' | 'log'>,
  lab: NotebookLab,
  wants: { networkPolicy: boolean; pod: boolean },
  wroteRecently: (kind: ChildKind) => boolean,
): Promise<ClaimCheck> {
  const found = await Promise.all(
    claimedRefs(lab, wants).map(async (ref) => {
      const { kind, namespace: ns, name } = ref;
      const cached = cache.get<KubeObject>(kind, { namespace: ns, name });
      const obj = cached ?? (wroteRecently(kind) ? undefined : await kube.get<KubeObject>(ref));
      return { kind, ref, obj, owner: ownershipOf(kind, obj, lab) };
    }),
  );
  const out: ClaimCheck = {};
  for (const { kind, ref, obj, owner } of found) {
    if (owner.state === 'foreign') return { conflict: nameConflict(kind, ref.name, owner.why) };
    if (owner.state === 'stale') {
      // The earlier lab is gone (it had this very name): its children are garbage; never delete a newer namesake.
      if (!owner.terminating && (await kube.delete(ref, { uid: owner.uid })))
        cache.log.info({ kind, object: ref.name }, 'Deleted a leftover of an earlier lab of the same name');
      out.waitMs = LEFTOVER_WAIT_MS;
    }
    if (owner.state === 'ours' && kind === 'Secret' && obj !== undefined) out.secret = obj;
  }
  return out;
}

/**
 * Deletes the lab's own child of `kind` (found in the cache, else read live), that very object (a UID
 * precondition); `false` when there is none or the object under its name is someone else's. A home claim counts
 * only once this lab has adopted it (its `skyport.io/owner-uid` is this lab): deleting a lab never deletes a
 * retained home it did not take over.
 */
export async function deleteOwnChild(
  kube: ClaimClient,
  cache: CacheReader,
  lab: NotebookLab,
  kind: 'PersistentVolumeClaim' | 'Pod',
): Promise<boolean> {
  const names = labNames(lab.metadata.name ?? '');
  const ref = {
    apiVersion: API[kind],
    kind,
    namespace: lab.metadata.namespace ?? 'default',
    name: kind === 'Pod' ? names.pod : names.home,
  };
  const obj = cache.get<KubeObject>(kind, ref) ?? (await kube.get<KubeObject>(ref));
  const uid = obj?.metadata?.uid;
  if (uid === undefined || ownershipOf(kind, obj, lab).state !== 'ours') return false;
  if (kind === 'PersistentVolumeClaim' && obj?.metadata?.labels?.[LABELS.ownerUid] !== lab.metadata.uid)
    return false;
  return kube.delete(ref, { uid });
}

/** The lab's home claim from the cache, if it is the lab's own: another owner's retained home is never its home. */
export function ownHome(cache: CacheReader, lab: NotebookLab): KubeObject | undefined {
  const name = labNames(lab.metadata.name ?? '').home;
  const pvc = cache.get<KubeObject>('PersistentVolumeClaim', {
    namespace: lab.metadata.namespace ?? 'default',
    name,
  });
  return ownershipOf('PersistentVolumeClaim', pvc, lab).state === 'ours' ? pvc : undefined;
}
