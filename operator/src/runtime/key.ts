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
export function keyOf(obj: { metadata?: { name?: string; namespace?: string } }): ObjectKey {
  const name = obj.metadata?.name ?? '';
  const ns = obj.metadata?.namespace;
  return ns === undefined || ns === '' ? { name } : { namespace: ns, name };
}
