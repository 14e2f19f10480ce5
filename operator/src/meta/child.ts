// One metadata helper for every child object: owner reference plus the shared label set (CONTRIBUTING.md §4).
import { LABELS, MANAGER, PART_OF } from './labels.js';
import { labelValue } from './naming.js';

/** The identity of an owning custom resource that `childMeta` needs. */
export interface OwnerLike {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid: string };
}

/** An ownerReference (the `V1OwnerReference` shape, plain data). */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

/**
 * Metadata for a child object, ready to use as a desired object's `metadata`. A type alias (not an
 * interface) so it is assignable to index-signature shapes such as the kube layer's `KubeObject`.
 */
export type ChildMeta = {
  name?: string;
  namespace?: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
};

/** Options for {@link childMeta}. */
export interface ChildMetaOptions {
  /** Child name (use `childName(owner, component)`); omitted when the caller sets it. */
  name?: string;
  /** Extra labels merged after the standard ones; they may not override standard keys. */
  extraLabels?: Readonly<Record<string, string>>;
  annotations?: Readonly<Record<string, string>>;
  /**
   * Set `false` to leave out the ownerReference (e.g. a home PVC retained after the lab is deleted);
   * the labels still record the owner.
   */
  owned?: boolean;
}

/** The controller ownerReference for `owner` (controller=true, blockOwnerDeletion=true). */
export function controllerRef(owner: OwnerLike): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The standard label set for a child of `owner` with role `component`. */
export function childLabels(owner: OwnerLike, component: string): Record<string, string> {
  const kind = owner.kind.toLowerCase();
  return {
    [LABELS.name]: kind,
    [LABELS.instance]: labelValue(owner.metadata.name),
    [LABELS.component]: labelValue(component),
    [LABELS.managedBy]: MANAGER,
    [LABELS.partOf]: PART_OF,
    [LABELS.ownerKind]: kind,
    [LABELS.ownerName]: labelValue(owner.metadata.name),
    [LABELS.ownerUid]: owner.metadata.uid,
  };
}

/**
 * Metadata for a child of `owner`: same namespace, the controller ownerReference (so the garbage collector
 * deletes it with the owner) and the `app.kubernetes.io/*` + `skyport.io/*` labels.
 *
 * @throws Error when `extraLabels` tries to override a standard label (selectors would silently break).
 */
export function childMeta(owner: OwnerLike, component: string, options: ChildMetaOptions = {}): ChildMeta {
  const labels = childLabels(owner, component);
  for (const [k, v] of Object.entries(options.extraLabels ?? {})) {
    if (k in labels && labels[k] !== v) {
      throw new Error(
        `childMeta: extra label ${k}=${v} would override the standard value ${labels[k] ?? ''}`,
      );
    }
    labels[k] = v;
  }
  const meta: ChildMeta = { labels };
  if (options.name !== undefined) meta.name = options.name;
  if (owner.metadata.namespace !== undefined) meta.namespace = owner.metadata.namespace;
  if (options.annotations !== undefined) meta.annotations = { ...options.annotations };
  if (options.owned !== false) meta.ownerReferences = [controllerRef(owner)];
  return meta;
}

/** The controller ownerReference of an object, if any. */
export function controllerOf(obj: {
  metadata?: {
    ownerReferences?: readonly {
      controller?: boolean;
      kind: string;
      name: string;
      uid: string;
      apiVersion: string;
    }[];
  };
}): { apiVersion: string; kind: string; name: string; uid: string } | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}
