// Secondary indexes of the NotebookLab cache and the keys they map to: lookups instead of scans of every lab.
import type { NotebookLab } from '../../api/v1alpha1/index.js';
import { NOTEBOOKLAB } from '../../api/v1alpha1/index.js';
import type { KubeObject } from '../../kube/index.js';
import { keyOf, type CacheReader, type ObjectKey } from '../../runtime/index.js';

/** Index of the lab cache by `owner|profile`, for the quota check. */
export const OWNER_PROFILE_INDEX = 'owner-profile';
/** Index of the lab cache by profile name: a profile change re-reconciles the labs that use it. */
export const PROFILE_INDEX = 'profile';

const ownerProfile = (owner: string, profile: string): string => `${owner}|${profile}`;

/** The {@link OWNER_PROFILE_INDEX} value of a lab. */
export function ownerProfileKey(lab: NotebookLab): string {
  return ownerProfile(lab.spec.owner, lab.spec.profile);
}

/** The indexers of the lab informer (objects as cached: checked, not trusted, since they are any JSON). */
export const labIndexers: Record<string, (o: KubeObject) => string[]> = {
  [OWNER_PROFILE_INDEX]: (o) => {
    const spec = (o as { spec?: { owner?: unknown; profile?: unknown } }).spec;
    return typeof spec?.owner === 'string' && typeof spec.profile === 'string'
      ? [ownerProfile(spec.owner, spec.profile)]
      : [];
  },
  [PROFILE_INDEX]: (o) => {
    const profile = (o as { spec?: { profile?: unknown } }).spec?.profile;
    return typeof profile === 'string' ? [profile] : [];
  },
};

/** The labs using a profile, for a re-reconcile when it changes. */
export function labsUsingProfile(profile: KubeObject, cache: CacheReader): ObjectKey[] {
  return cache.indexed<KubeObject>(NOTEBOOKLAB.kind, PROFILE_INDEX, profile.metadata?.name ?? '').map(keyOf);
}

/** Whether the lab's status says its spec is refused by its profile (it counts against quota only while holding). */
function invalidSpec(o: KubeObject): boolean {
  const conditions = (o as { status?: { conditions?: { type?: string; reason?: string }[] } }).status
    ?.conditions;
  return conditions?.some((c) => c.type === 'Degraded' && c.reason === 'InvalidSpec') === true;
}

/**
 * The owner's other labs of the same profile, for a re-reconcile, when the lab's change may move its quota: it is
 * being deleted (frees its slot), or its status says InvalidSpec — an event of such a lab is its status write when
 * it turns invalid (it may stop counting) or its spec change when it is fixed (it counts again).
 */
export function quotaPeersOf(o: KubeObject, cache: CacheReader): ObjectKey[] {
  if (o.metadata?.deletionTimestamp === undefined && !invalidSpec(o)) return [];
  const lab = o as NotebookLab;
  return cache
    .indexed<KubeObject>(NOTEBOOKLAB.kind, OWNER_PROFILE_INDEX, ownerProfileKey(lab))
    .filter((l) => l.metadata?.uid !== o.metadata?.uid)
    .map(keyOf);
}
