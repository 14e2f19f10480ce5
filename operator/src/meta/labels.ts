// Label keys, values and selectors shared by every child object and every informer (CONTRIBUTING.md §4).

/** The field manager and `app.kubernetes.io/managed-by` value for everything the operator writes. */
export const MANAGER = 'skyport-operator';
/** `app.kubernetes.io/part-of` value for every child. */
export const PART_OF = 'skyport';

/** Well-known label keys. */
export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
  partOf: 'app.kubernetes.io/part-of',
  /** Kind of the owning custom resource, lower case (`notebooklab`). */
  ownerKind: 'skyport.io/owner-kind',
  /** Name of the owning custom resource (hash-truncated to a valid label value). */
  ownerName: 'skyport.io/owner-name',
  /** UID of the owning custom resource: the exact, rename-proof selector. */
  ownerUid: 'skyport.io/owner-uid',
} as const;

/** Selector for every object this operator manages; informers on children use it to scope their cache. */
export const MANAGED_SELECTOR = `${LABELS.managedBy}=${MANAGER}`;

/** Turns a label map into a `labelSelector` string (`a=b,c=d`), keys sorted for determinism. */
export function selectorString(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k] ?? ''}`)
    .join(',');
}

/** Selector for the children of one owner, by UID. */
export function ownerSelector(ownerUid: string): string {
  return `${LABELS.ownerUid}=${ownerUid}`;
}

/**
 * Selector for the children one controller manages: ours (`managed-by`) and of its kind (`app.kubernetes.io/name`,
 * which `childLabels` sets to the owner's lower-case kind). Child informers use it, so each controller caches
 * only its own children.
 */
export function managedSelector(ownerKind: string): string {
  return `${MANAGED_SELECTOR},${LABELS.name}=${ownerKind.toLowerCase()}`;
}
