// The ImageCollection controller module: an indexing Job per source (the cutout runner's `index` mode), its report
// (the pod's termination message) into status: tiles, bands, coverage, footprints; and, with spec.results.serve, the
// results server (the runner's `serve`: Deployment, Service, ServiceAccount, Role, RoleBinding) and status.results.
// Registered in ../registry.ts.
import type { KubeObject } from '../../api/object.js';
import type { ImageCollection, ImageCollectionStatus } from '../../api/v1alpha1/index.js';
import { API_VERSION, IMAGECOLLECTION, imageCollectionDefinition } from '../../api/v1alpha1/index.js';
import { TransientError } from '../../errors.js';
import { LABELS, managedSelector } from '../../meta/index.js';
import {
  defineController,
  Expectations,
  generationOrMetadataChanged,
  keyFromLabel,
  StatusWriter,
  type ControllerOptions,
} from '../../runtime/index.js';
import { runnerPodForCache } from '../cutoutjob/runner-pod.js';
import { indexJob, indexJobName } from './build.js';
import { rbac } from './rbac.js';
import { reconcileResultsServer, resultsStatus } from './results.js';
import { collectionStatus, sameCollectionStatus } from './status.js';

/** The cutout runner image setting (each controller has its own variable; the default is the same). */
export const runnerImageSetting = <E extends string>(env: E) =>
  ({
    type: 'string',
    env,
    default: 'localhost/skyport/cutout-runner:dev',
    pattern: { regex: '^[a-z0-9]', hint: 'must be an image reference' },
    description: 'Image of the cutout runner (indexing, shard, merge and clean-up Jobs).',
  }) as const;

/** Pods indexed by the UID of the skyport object they work for (their `skyport.io/owner-uid` label). */
export const podsByOwner = {
  ownerUid: (o: KubeObject): readonly string[] => {
    const uid = o.metadata?.labels?.[LABELS.ownerUid];
    return uid === undefined ? [] : [uid];
  },
};

/** ImageCollection: a survey's tiles, indexed from their headers by a Job. */
export const imageCollection = defineController({
  name: 'imagecollection',
  description:
    'ImageCollections: survey tiles indexed by an indexing Job, for CutoutJobs; a results server of their files.',
  crds: [imageCollectionDefinition],
  rbac,
  settings: { runnerImage: runnerImageSetting('SKYPORT_INDEX_RUNNER_IMAGE') },
  controller: ({ kube, settings }): ControllerOptions<ImageCollection> => {
    const status = new StatusWriter<ImageCollectionStatus>({ kube, same: sameCollectionStatus });
    const expected = new Expectations({ createOnly: ['Job'] });
    const managed = { labelSelector: managedSelector(IMAGECOLLECTION.kind) };
    return {
      name: 'imagecollection',
      for: { apiVersion: API_VERSION, kind: IMAGECOLLECTION.kind },
      owns: [
        { apiVersion: 'batch/v1', kind: 'Job', ...managed },
        { apiVersion: 'apps/v1', kind: 'Deployment', ...managed },
        { apiVersion: 'v1', kind: 'Service', ...managed },
        { apiVersion: 'v1', kind: 'ServiceAccount', ...managed },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', ...managed },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', ...managed },
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
      ],
      updatePredicate: generationOrMetadataChanged,
      reconcile: async (ctx) => {
        if (ctx.object === undefined) return;
        const c = status.fresh(ctx.object);
        const uid = c.metadata.uid ?? '';
        if (c.metadata.deletionTimestamp !== undefined) {
          status.forget(uid);
          expected.forget(uid);
          return;
        }
        const name = indexJobName(c);
        const jobs = ctx.owned<KubeObject>('Job');
        let job = jobs.find((j) => j.metadata?.name === name);
        if (job === undefined) {
          const desired = indexJob(c, settings.runnerImage);
          const run = { awaitingCache: false };
          if (expected.needsWrite(uid, 'Job', desired, undefined, run)) {
            try {
              await kube.create(desired);
            } catch (e) {
              if (!(e instanceof TransientError && e.code === 'Conflict')) throw e;
            }
            expected.wrote(uid, 'Job', desired);
          }
        }
        // Jobs of an earlier source: their index is replaced.
        for (const old of jobs.filter(
          (j) => j.metadata?.name !== name && j.metadata?.deletionTimestamp === undefined,
        ))
          await kube.delete(
            {
              apiVersion: 'batch/v1',
              kind: 'Job',
              namespace: c.metadata.namespace ?? '',
              name: old.metadata?.name ?? '',
            },
            { propagationPolicy: 'Background' },
          );
        job = jobs.find((j) => j.metadata?.name === name);
        const pods = ctx
          .indexed<KubeObject>('Pod', 'ownerUid', uid)
          .filter(
            (p) =>
              p.metadata?.labels?.['job-name'] === name ||
              p.metadata?.labels?.['batch.kubernetes.io/job-name'] === name,
          );
        const deployment = await reconcileResultsServer(ctx, kube, c, settings.runnerImage);
        const results = resultsStatus(c, deployment);
        await status.write(c, {
          ...collectionStatus(c, name, job, pods, new Date()),
          ...(results !== undefined && { results }),
        });
      },
    };
  },
});
