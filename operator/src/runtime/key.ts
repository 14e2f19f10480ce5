// The reconcile request: a key is only {namespace, name} (controller-runtime's reconcile.Request).

/** Identifies one object; `namespace` is undefined for cluster-scoped kinds. */
export interface ObjectKey {
  namespace?: string;
  name: string;
}

/** `namespace/name`, or `name` for cluster-scoped objects: the queue's string form of a key. */
export function keyString(key: ObjectKey): string {
  return key.namespace === undefined || key.namespace === '' ? key.name : `${key.namespace}/${key.name}`;
}

/** Inverse of {@link keyString}. */
export function parseKey(s: string): ObjectKey {
  const i = s.indexOf('/');
  return i < 0 ? { name: s } : { namespace: s.slice(0, i), name: s.slice(i + 1) };
}

/** The key of an object from its metadata. */
export function keyOf(obj: {
  metadata?: { name?: string | undefined; namespace?: string | undefined } | undefined;
}): ObjectKey {
  const name = obj.metadata?.name ?? '';
  const ns = obj.metadata?.namespace;
  return ns === undefined || ns === '' ? { name } : { namespace: ns, name };
}

/**
 * The primary named by a label of a watched object, in the object's namespace (e.g. a home PVC's
 * `app.kubernetes.io/instance`); undefined when the label is missing. For `WatchSpec.map`.
 */
export function keyFromLabel(
  obj: { metadata?: { namespace?: string; labels?: Record<string, string> } },
  label: string,
): ObjectKey | undefined {
  const name = obj.metadata?.labels?.[label];
  if (name === undefined || name === '') return undefined;
  const ns = obj.metadata?.namespace;
  return ns === undefined || ns === '' ? { name } : { namespace: ns, name };
}
