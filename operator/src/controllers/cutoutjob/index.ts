// The CutoutJob controller module: positions planned and sharded by tile into one Indexed Job, the shards' manifests
// merged by a merge Job, status counts and progress, ABORT, destruction. Registered in ../registry.ts.
import type { KubeObject } from '../../api/object.js';
import type { CutoutJob, CutoutJobStatus } from '../../api/v1alpha1/index.js';
import { API_VERSION, CUTOUTJOB, cutoutJobDefinition, IMAGECOLLECTION } from '../../api/v1alpha1/index.js';
import { LABELS, managedSelector } from '../../meta/index.js';
import {
  defineController,
  generationOrMetadataChanged,
  keyFromLabel,
  metadataOnly,
  StatusWriter,
  type ControllerOptions,
  type ObjectKey,
} from '../../runtime/index.js';
import { podsByOwner, runnerImageSetting } from '../imagecollection/index.js';
import { reconcileCutout, recordError } from './reconcile.js';
import { rbac } from './rbac.js';
import { runnerPodForCache } from './runner-pod.js';
import { sameCutoutStatus } from './status.js';
import { CutoutStorage } from './storage.js';

/** CutoutJobs by `<namespace>/<imageCollection>` (a collection's change wakes its jobs). */
const byCollection = {
  collection: (o: KubeObject): readonly string[] => {
    const j = o as CutoutJob;
    return [`${j.metadata.namespace ?? ''}/${j.spec.imageCollection}`];
  },
};

function annotationsFor(job: CutoutJob, prefixes: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    Object.entries(job.metadata.annotations ?? {}).filter(([k]) => prefixes.some((p) => k.startsWith(p))),
  );
}

/** CutoutJob: bulk FITS and colour cutouts at a list of positions. */
export const cutoutJob = defineController({
  name: 'cutoutjob',
  description: 'CutoutJobs: bulk cutouts as one Indexed Job sharded by tile, merged into one manifest.',
  crds: [cutoutJobDefinition],
  rbac,
  settings: {
    runnerImage: runnerImageSetting('SKYPORT_CUTOUT_RUNNER_IMAGE'),
    podAnnotationPrefixes: {
      type: 'list',
      env: 'SKYPORT_CUTOUT_POD_ANNOTATION_PREFIXES',
      default: [],
      reservedPrefix: 'skyport.io/',
      description: 'CutoutJob annotation prefixes copied onto its runner pods (mesh or scrape annotations).',
    },
  },
  controller: ({ kube, settings }): ControllerOptions<CutoutJob> => {
    const storage = new CutoutStorage(kube);
    const status = new StatusWriter<CutoutJobStatus>({ kube, same: sameCutoutStatus });
    const deps = {
      storage,
      status,
      now: () => new Date(),
      build: (job: CutoutJob) => ({
        image: settings.runnerImage,
        podAnnotations: annotationsFor(job, settings.podAnnotationPrefixes),
      }),
    };
    const managed = { labelSelector: managedSelector(CUTOUTJOB.kind) };
    return {
      name: 'cutoutjob',
      for: { apiVersion: API_VERSION, kind: CUTOUTJOB.kind, indexers: byCollection },
      owns: [
        { apiVersion: 'batch/v1', kind: 'Job', ...managed },
        // Only the plan's annotations are read back; the positions themselves stay out of the cache.
        { apiVersion: 'v1', kind: 'ConfigMap', ...managed, transform: metadataOnly },
      ],
      watches: [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          ...managed,
          transform: runnerPodForCache,
          indexers: podsByOwner,
          map: (o) => {
            const key = keyFromLabel(o, LABELS.instance);
            return key === undefined ? [] : [key];
          },
        },
        {
          apiVersion: API_VERSION,
          kind: IMAGECOLLECTION.kind,
          map: (o, cache): ObjectKey[] =>
            cache
              .indexed<CutoutJob>(
                CUTOUTJOB.kind,
                'collection',
                `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`,
              )
              .map((j) => ({ namespace: j.metadata.namespace ?? '', name: j.metadata.name ?? '' })),
        },
        // A job that ends frees a slot of its owner's concurrency limit: wake the owner's queued jobs.
        {
          apiVersion: API_VERSION,
          kind: CUTOUTJOB.kind,
          indexers: byCollection,
          map: (o, cache): ObjectKey[] => {
            const j = o as CutoutJob;
            if (j.status?.phase === 'EXECUTING') return [];
            return cache
              .indexed<CutoutJob>(
                CUTOUTJOB.kind,
                'collection',
                `${j.metadata.namespace ?? ''}/${j.spec.imageCollection}`,
              )
              .filter((p) => p.status?.phase === 'QUEUED' && p.spec.owner === j.spec.owner)
              .map((p) => ({ namespace: p.metadata.namespace ?? '', name: p.metadata.name ?? '' }));
          },
        },
      ],
      updatePredicate: generationOrMetadataChanged,
      reconcile: (ctx) => reconcileCutout(ctx, deps),
      onTerminal: async (ctx, err) => {
        if (ctx.object !== undefined) await recordError(deps, ctx.object, err);
      },
    };
  },
});
