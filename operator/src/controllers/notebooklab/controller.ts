// The NotebookLab controller's wiring: what it watches, how events map to lab keys, which updates it ignores.
// The steps of one reconcile are in reconcile.ts.
import { API_VERSION, NOTEBOOKLAB, NOTEBOOKPROFILE, type NotebookLab } from '../../api/v1alpha1/index.js';
import { LABELS, managedSelector } from '../../meta/index.js';
import {
  generationChanged,
  generationOrMetadataChanged,
  keyFromLabel,
  metadataOnly,
} from '../../runtime/index.js';
import type { ControllerOptions } from '../../runtime/index.js';
import { COMPONENT } from './build.js';
import { podForCache, pvcForCache, secretForCache, storageClassForCache } from './cache.js';
import { labIndexers, labsUsingProfile, quotaPeersOf } from './indexes.js';
import { LabReconciler, type NotebookLabDeps } from './reconcile.js';

/**
 * Builds the NotebookLab controller's options for `manager.add(...)`. Watches labs, their owned children
 * (Pods, Services, Secrets, NetworkPolicies), home PVCs (by label: they carry no ownerReference), profiles (a
 * change re-reconciles the labs using it) and lab deletions (which can admit an owner's refused lab).
 */
export function notebookLabController(deps: NotebookLabDeps): ControllerOptions<NotebookLab> {
  const r = new LabReconciler(deps);
  // The children's informers cache only this controller's children (`app.kubernetes.io/name=notebooklab`).
  const managed = { labelSelector: managedSelector('notebooklab') };
  return {
    name: 'notebooklab',
    for: {
      apiVersion: API_VERSION,
      kind: NOTEBOOKLAB.kind,
      indexers: labIndexers,
    },
    // The cache keeps only what reconcile reads of each child (cache.ts).
    owns: [
      { apiVersion: 'v1', kind: 'Pod', ...managed, transform: podForCache },
      { apiVersion: 'v1', kind: 'Service', ...managed, transform: metadataOnly },
      { apiVersion: 'v1', kind: 'Secret', ...managed, transform: secretForCache },
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', ...managed, transform: metadataOnly },
    ],
    watches: [
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        ...managed,
        transform: pvcForCache,
        // The home PVC is a child (without an ownerReference, so that it can outlive the lab).
        priority: 'urgent',
        map: (o) => {
          const l = o.metadata?.labels ?? {};
          if (l[LABELS.component] !== COMPONENT.home) return [];
          const key = keyFromLabel(o, LABELS.instance);
          return key === undefined ? [] : [key];
        },
      },
      // Read for the home claim's binding mode (see home.ts); a change needs no reconcile.
      {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        clusterScoped: true,
        transform: storageClassForCache,
        map: () => [],
      },
      {
        apiVersion: API_VERSION,
        kind: NOTEBOOKPROFILE.kind,
        clusterScoped: true,
        map: labsUsingProfile,
        // A profile's status (its Ready condition, written by the notebookprofile controller) changes no lab.
        updatePredicate: generationChanged,
      },
      // A lab being deleted (or whose spec turns invalid or is fixed) moves quota: re-reconcile its owner's other
      // labs of the same profile.
      { apiVersion: API_VERSION, kind: NOTEBOOKLAB.kind, map: quotaPeersOf },
    ],
    // Our own status and finalizer writes come back as updates; they need no reconcile.
    updatePredicate: generationOrMetadataChanged,
    // A finished activity check reconciles its lab with the result (the check itself runs off the queue).
    sources: [(enqueue) => r.activity.subscribe((key) => enqueue(key))],
    reconcile: (ctx) => r.reconcile(ctx),
    onTerminal: (ctx, err) => r.recordTerminal(ctx, err),
  };
}
