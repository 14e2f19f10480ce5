// Pure per-owner quota: which of an owner's labs are admitted under the profile's maxLabs / maxTotalHomeSize, and
// the quota entries of a lab's peers from the controller's cache (map lookups, no I/O).
import type { NotebookLab, NotebookProfile } from '../../api/v1alpha1/index.js';
import { NOTEBOOKLAB } from '../../api/v1alpha1/index.js';
import { parseQuantity } from '../../api/units.js';
import type { KubeObject } from '../../kube/index.js';
import { LABELS, controllerOf } from '../../meta/index.js';
import type { CacheReader } from '../../runtime/index.js';
import { labNames, resolveWith } from './build.js';
import { OWNER_PROFILE_INDEX, ownerProfileKey } from './indexes.js';

/** One lab of an owner, as the quota sees it. */
export interface QuotaEntry {
  uid: string;
  namespace: string;
  name: string;
  /** RFC 3339 creation time; older labs are admitted first, so admission is stable across reconciles. */
  createdAt: string;
  /** Home size this lab claims, in bytes. */
  homeBytes: number;
  /** Labs being deleted do not count: deleting one lets the next one in. */
  deleting: boolean;
  /** Whether the lab has a Pod or home claim of its own: holders are admitted before labs that hold nothing. */
  holds?: boolean;
  /** Whether the lab's spec resolves under its profile, i.e. it may ever hold anything (false: InvalidSpec). */
  valid?: boolean;
}

/**
 * Whether a lab counts against its owner's quota: it holds or may hold resources. A lab being deleted does not; a
 * lab whose spec the profile refuses (InvalidSpec) counts only while it still holds a Pod or home claim.
 */
export function counts(l: QuotaEntry): boolean {
  return !l.deleting && (l.valid !== false || l.holds === true);
}

/** The quota of a profile, in plain numbers. */
export interface QuotaLimits {
  maxLabs: number;
  /** Bytes; unlimited when undefined. */
  maxTotalHomeBytes?: number;
}

/** The verdict for one lab. */
export type QuotaVerdict =
  | { admitted: true; used: number; max: number }
  | { admitted: false; reason: 'QuotaExceeded'; message: string; used: number; max: number };

function order(a: QuotaEntry, b: QuotaEntry): number {
  // A lab that holds a Pod or claim keeps its place: one that holds nothing (it was invalid, or is new) never
  // displaces it, however old, so fixing an old lab's spec cannot stop a running one.
  if ((a.holds === true) !== (b.holds === true)) return a.holds === true ? -1 : 1;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  const ka = `${a.namespace}/${a.name}`;
  const kb = `${b.namespace}/${b.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function fmtBytes(n: number): string {
  const gi = n / 2 ** 30;
  return Number.isInteger(gi) ? `${gi}Gi` : `${(n / 2 ** 20).toFixed(0)}Mi`;
}

/**
 * Decides whether `lab` is within its owner's quota. The owner's labs that {@link counts count} are admitted,
 * those holding a Pod or home claim first, then oldest first, while they fit, so the verdict for each lab is the
 * same whichever reconcile computes it, and deleting an admitted lab admits the oldest refused one.
 */
export function checkQuota(
  lab: QuotaEntry,
  ownerLabs: readonly QuotaEntry[],
  limits: QuotaLimits,
  owner: string,
  profile: string,
): QuotaVerdict {
  const live = ownerLabs.filter((l) => counts(l) && l.uid !== lab.uid);
  live.push(lab);
  live.sort(order);
  let count = 0;
  let bytes = 0;
  for (const l of live) {
    const fitsCount = count + 1 <= limits.maxLabs;
    const fitsBytes =
      limits.maxTotalHomeBytes === undefined || bytes + l.homeBytes <= limits.maxTotalHomeBytes;
    if (l.uid === lab.uid) {
      if (!fitsCount) {
        return {
          admitted: false,
          reason: 'QuotaExceeded',
          used: count,
          max: limits.maxLabs,
          message:
            `Owner ${owner} already has ${count} lab(s) with profile ${profile} (maxLabs ${limits.maxLabs}); ` +
            'delete one of them and this lab will start',
        };
      }
      if (!fitsBytes) {
        return {
          admitted: false,
          reason: 'QuotaExceeded',
          used: count,
          max: limits.maxLabs,
          message:
            `Owner ${owner} would hold ${fmtBytes(bytes + l.homeBytes)} of home storage with profile ${profile} ` +
            `(maxTotalHomeSize ${fmtBytes(limits.maxTotalHomeBytes ?? 0)}); delete a lab and this lab will start`,
        };
      }
      return { admitted: true, used: count + 1, max: limits.maxLabs };
    }
    if (fitsCount && fitsBytes) {
      count += 1;
      bytes += l.homeBytes;
    }
  }
  // Unreachable: `lab` is always in `live`.
  return { admitted: true, used: count, max: limits.maxLabs };
}

/** The quota entry of a lab as the cache shows it; `homeBytes` is the profile's home size. */
function entryOf(
  cache: CacheReader,
  l: NotebookLab,
  profile: NotebookProfile,
  homeBytes: number,
): QuotaEntry {
  const ns = l.metadata.namespace ?? 'default';
  const names = labNames(l.metadata.name ?? '');
  const uid = l.metadata.uid ?? '';
  const pvc = cache.get<KubeObject>('PersistentVolumeClaim', { namespace: ns, name: names.home });
  const pod = cache.get<KubeObject>('Pod', { namespace: ns, name: names.pod });
  return {
    uid,
    namespace: ns,
    name: l.metadata.name ?? '',
    createdAt: l.metadata.creationTimestamp ?? '',
    homeBytes,
    deleting: l.metadata.deletionTimestamp !== undefined,
    holds:
      pvc?.metadata?.labels?.[LABELS.ownerUid] === uid ||
      (pod !== undefined && controllerOf(pod)?.uid === uid),
    valid: !('invalid' in resolveWith(l, profile)),
  };
}

/** The quota verdict for `lab` (valid under `profile`) over its owner's labs of the same profile, from the cache. */
export function quotaOf(
  cache: CacheReader,
  lab: NotebookLab,
  profile: NotebookProfile,
  homeBytes: number,
): QuotaVerdict {
  const peers = cache.indexed<NotebookLab>(NOTEBOOKLAB.kind, OWNER_PROFILE_INDEX, ownerProfileKey(lab));
  const q = profile.spec.quota;
  const limits =
    q.maxTotalHomeSize === undefined
      ? { maxLabs: q.maxLabs }
      : { maxLabs: q.maxLabs, maxTotalHomeBytes: parseQuantity(q.maxTotalHomeSize) };
  return checkQuota(
    entryOf(cache, lab, profile, homeBytes),
    peers.map((p) => entryOf(cache, p, profile, homeBytes)),
    limits,
    lab.spec.owner,
    lab.spec.profile,
  );
}
