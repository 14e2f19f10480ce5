// Which existing objects a lab may write, adopt or delete: only its own children. controller-runtime's
// controllerutil refuses to take an object another controller owns; we also refuse objects nobody owns, since a
// Service, Secret or PVC made by someone else under a lab's child name would otherwise be silently rewritten (a
// Service's selector, a home handed to another user, a token an attacker knows). Pure: reconcile does the reads.
import { GROUP, type NotebookLab } from '../../api/v1alpha1/index.js';
import type { KubeObject } from '../../kube/index.js';
import { LABELS, MANAGER, controllerOf } from '../../meta/index.js';
import { COMPONENT, OWNER_LABEL, PROFILE_ANNOTATION } from './build.js';

/** The condition reason (and Warning Event reason) for a child name held by an object that is not the lab's. */
export const NAME_CONFLICT = 'NameConflict';

/** The kinds of a lab's children. */
export type ChildKind = 'PersistentVolumeClaim' | 'Secret' | 'Service' | 'NetworkPolicy' | 'Pod';

/** Whose an existing object under a child's name is. */
export type Ownership =
  /** Nothing there: the lab may create it. */
  | { readonly state: 'absent' }
  /** The lab's own child (or its retained home): the lab may write it. */
  | { readonly state: 'ours' }
  /**
   * A child of an earlier lab of the same name, which is gone (two objects of one kind cannot share a name): the
   * garbage collector deletes it; the lab may too, then create its own. `terminating` while already being deleted.
   */
  | { readonly state: 'stale'; readonly uid: string; readonly terminating: boolean }
  /** Someone else's: never written, adopted or deleted. `why` ends a sentence naming the object. */
  | { readonly state: 'foreign'; readonly why: string };

const managed = (o: KubeObject): boolean => o.metadata?.labels?.[LABELS.managedBy] === MANAGER;

function isLabRef(ref: { apiVersion: string; kind: string }): boolean {
  return ref.kind === 'NotebookLab' && ref.apiVersion.startsWith(`${GROUP}/`);
}

/**
 * The home PVC has no ownerReference (it may outlive the lab), so its labels say whose it is: the lab's own while
 * `skyport.io/owner-uid` is this lab; a home retained from an earlier lab of the same name goes back only to the
 * same owner and, when the claim records it, the same profile (homes are sized, classed and counted per profile).
 */
function homeOwnership(pvc: KubeObject, lab: NotebookLab): Ownership {
  const labels = pvc.metadata?.labels ?? {};
  if (!managed(pvc) || labels[LABELS.name] !== 'notebooklab' || labels[LABELS.component] !== COMPONENT.home)
    return { state: 'foreign', why: 'was not created by skyport as a lab home' };
  const ctl = controllerOf(pvc);
  if (ctl !== undefined) return { state: 'foreign', why: `is controlled by ${ctl.kind} ${ctl.name}` };
  if (labels[LABELS.ownerUid] === lab.metadata.uid) return { state: 'ours' };
  const profile = pvc.metadata?.annotations?.[PROFILE_ANNOTATION];
  if (labels[OWNER_LABEL] !== lab.spec.owner)
    return { state: 'foreign', why: "is another owner's retained home" };
  if (profile !== undefined && profile !== lab.spec.profile)
    return { state: 'foreign', why: `is a retained home of profile ${profile}, not ${lab.spec.profile}` };
  return { state: 'ours' };
}

/** Whose `obj`, found under the name of the lab's child of kind `kind`, is. */
export function ownershipOf(kind: ChildKind, obj: KubeObject | undefined, lab: NotebookLab): Ownership {
  if (obj === undefined) return { state: 'absent' };
  if (kind === 'PersistentVolumeClaim') return homeOwnership(obj, lab);
  const ctl = controllerOf(obj);
  if (!managed(obj)) return { state: 'foreign', why: 'was not created by skyport' };
  if (ctl === undefined) return { state: 'foreign', why: 'has no controller' };
  if (isLabRef(ctl) && ctl.uid === lab.metadata.uid) return { state: 'ours' };
  if (isLabRef(ctl) && ctl.name === lab.metadata.name)
    return {
      state: 'stale',
      uid: obj.metadata?.uid ?? '',
      terminating: obj.metadata?.deletionTimestamp !== undefined,
    };
  return { state: 'foreign', why: `is controlled by ${ctl.kind} ${ctl.name}` };
}

/** The `Degraded` reason and message for a child name held by someone else's object. */
export function nameConflict(
  kind: ChildKind,
  name: string,
  why: string,
): { reason: typeof NAME_CONFLICT; message: string } {
  return {
    reason: NAME_CONFLICT,
    message:
      `${kind} ${name} already exists and ${why}; the lab does not touch it. ` +
      `Hint: give the lab another name, or ask whoever made ${name} to remove it (the lab then starts on its own)`,
  };
}

/** Shortest and longest wait before a lab in a name conflict looks again. */
export const CONFLICT_RECHECK_MS = { min: 5_000, max: 300_000 } as const;

/**
 * How long until a lab in a name conflict looks again: as long as the conflict has lasted so far (its `Degraded`
 * condition's transition time; checks back off geometrically), between {@link CONFLICT_RECHECK_MS} min and max.
 * Foreign objects are not watched (the child informers only see our labels): this is how the lab recovers once the
 * object goes.
 */
export function conflictRecheckMs(
  conditions: readonly { type: string; reason: string; lastTransitionTime?: string }[] | undefined,
  now: Date,
): number {
  const c = conditions?.find((x) => x.type === 'Degraded' && x.reason === NAME_CONFLICT);
  const lasted = c?.lastTransitionTime === undefined ? 0 : now.getTime() - Date.parse(c.lastTransitionTime);
  return Math.min(Math.max(lasted, CONFLICT_RECHECK_MS.min), CONFLICT_RECHECK_MS.max);
}
