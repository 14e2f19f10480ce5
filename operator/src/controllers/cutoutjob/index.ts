// The CutoutJob controller module: positions planned (by the operator, or by a plan Job for a QueryJob's result)
// and sharded by tile into one Indexed Job, the shards' manifests merged by a merge Job, status counts and progress,
// ABORT, destruction. Registered in ../registry.ts.
import type { KubeObject } from '../../api/object.js';
import type { Catalog, CutoutJob, CutoutJobStatus, QueryJob } from '../../api/v1alpha1/index.js';
import {
  API_VERSION,
  CATALOG,
  CUTOUTJOB,
  cutoutJobDefinition,
  IMAGECOLLECTION,
  QUERYJOB,
} from '../../api/v1alpha1/index.js';
import { LABELS, managedSelector } from '../../meta/index.js';
import {
  defineController,
  generationOrMetadataChanged,
  keyFromLabel,
  metadataOnly,
  Notifier,
  notifyPolicy,
  notifySettings,
  StatusWriter,
  type CacheReader,
  type ControllerOptions,
  type ObjectKey,
} from '../../runtime/index.js';
import { podsByOwner, runnerImageSetting } from '../imagecollection/index.js';
import { reconcileCutout, recordError } from './reconcile.js';
import { rbac } from './rbac.js';
import { runnerPodForCache } from './runner-pod.js';
import { sameCutoutStatus } from './status.js';
import { CutoutStorage } from './storage.js';

/**
 * CutoutJobs by `<namespace>/<imageCollection>` (a collection's change wakes its jobs) and by
 * `<namespace>/<queryJob>` (a QueryJob's change wakes the jobs fed by it).
 */
const cutoutIndexers = {
  collection: (o: KubeObject): readonly string[] => {
    const j = o as CutoutJob;
    return [`${j.metadata.namespace ?? ''}/${j.spec.imageCollection}`];
  },
  queryJob: (o: KubeObject): readonly string[] => {
    const q = (o as CutoutJob).spec.positions.fromQueryJob;
    return q === undefined ? [] : [`${o.metadata?.namespace ?? ''}/${q.name}`];
  },
};

/** What the cache keeps of a QueryJob: its catalog, phase, error and result files (not its query or SQL). */
function queryJobForCache(o: KubeObject): KubeObject {
  const q = o as QueryJob;
  const { managedFields: _m, annotations: _a, ...meta } = q.metadata;
  const st = q.status;
  return {
    apiVersion: q.apiVersion,
    kind: q.kind,
    metadata: meta,
    spec: { catalogRef: q.spec.catalogRef },
    status: {
      ...(st?.phase !== undefined && { phase: st.phase }),
      ...(st?.rows !== undefined && { rows: st.rows }),
      ...(st?.error !== undefined && { error: st.error }),
      ...(st?.results !== undefined && { results: st.results }),
    },
  };
}

/** What the cache keeps of a Catalog: its results claim. */
function catalogForCache(o: KubeObject): KubeObject {
  const c = o as Catalog;
  const { managedFields: _m, annotations: _a, ...meta } = c.metadata;
  return { apiVersion: c.apiVersion, kind: c.kind, metadata: meta, spec: { results: c.spec.results } };
}

/** The CutoutJobs a QueryJob feeds: by `fromQueryJob`, and the one that owns it (its ID lookup). */
function jobsFedBy(q: KubeObject, cache: CacheReader): ObjectKey[] {
  const ns = q.metadata?.namespace ?? '';
  const owner = (q.metadata?.ownerReferences ?? [])
    .filter((r) => r.kind === CUTOUTJOB.kind && r.controller === true)
    .map((r) => ({ namespace: ns, name: r.name }));
  return [
    ...cache.indexed<CutoutJob>(CUTOUTJOB.kind, 'queryJob', `${ns}/${q.metadata?.name ?? ''}`).map(keyOfJob),
    ...owner,
  ];
}

const keyOfJob = (j: CutoutJob): ObjectKey => ({
  namespace: j.metadata.namespace ?? '',
  name: j.metadata.name ?? '',
});

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
    ...notifySettings('SKYPORT_CUTOUTJOB'),
  },
  controller: ({ kube, events, settings }): ControllerOptions<CutoutJob> => {
    const storage = new CutoutStorage(kube);
    const status = new StatusWriter<CutoutJobStatus>({ kube, same: sameCutoutStatus });
    const deps = {
      storage,
      status,
      now: () => new Date(),
      notifier: new Notifier({ kube, events, policy: notifyPolicy(settings) }),
      build: (job: CutoutJob) => ({
        image: settings.runnerImage,
        podAnnotations: annotationsFor(job, settings.podAnnotationPrefixes),
      }),
    };
    const managed = { labelSelector: managedSelector(CUTOUTJOB.kind) };
    return {
      name: 'cutoutjob',
      for: { apiVersion: API_VERSION, kind: CUTOUTJOB.kind, indexers: cutoutIndexers },
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
              .map(keyOfJob),
        },
        // positions.fromQueryJob, and a job's own ID lookup: the QueryJob finishing (or failing) wakes the jobs it feeds.
        {
          apiVersion: API_VERSION,
          kind: QUERYJOB.kind,
          transform: queryJobForCache,
          indexers: { catalog: (o) => [(o as QueryJob).spec.catalogRef.name] },
          map: (o, cache): ObjectKey[] => jobsFedBy(o, cache),
        },
        // A QueryJob's Catalog (cluster-scoped) names the claim its result is on: a Catalog (re)created wakes the
        // jobs fed by its QueryJobs.
        {
          apiVersion: API_VERSION,
          kind: CATALOG.kind,
          clusterScoped: true,
          transform: catalogForCache,
          map: (o, cache): ObjectKey[] =>
            cache
              .indexed<QueryJob>(QUERYJOB.kind, 'catalog', o.metadata?.name ?? '')
              .flatMap((q) => jobsFedBy(q, cache)),
        },
        // A job that ends frees a slot of its owner's concurrency limit: wake the owner's queued jobs.
        {
          apiVersion: API_VERSION,
          kind: CUTOUTJOB.kind,
          indexers: cutoutIndexers,
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
              .map(keyOfJob);
          },
        },
      ],
      updatePredicate: generationOrMetadataChanged,
      reconcile: (ctx) => reconcileCutout(ctx, deps),
      onTerminal: async (ctx, err) =>
        ctx.object === undefined ? undefined : recordError(deps, ctx.object, err),
    };
  },
});
