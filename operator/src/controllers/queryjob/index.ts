// The QueryJob controller module: serves the Catalog and QueryJob CRDs and runs each QueryJob's query as a
// batch/v1 Job of the query runner (reconcile.ts). Registered in ../registry.ts.
import {
  API_VERSION,
  CATALOG,
  catalogDefinition,
  QUERYJOB,
  queryJobDefinition,
} from '../../api/v1alpha1/index.js';
import type { QueryJob } from '../../api/v1alpha1/index.js';
import { LABELS, managedSelector } from '../../meta/index.js';
import {
  defineController,
  generationChanged,
  generationOrMetadataChanged,
  keyFromLabel,
  keyOf,
  Notifier,
  notifyPolicy,
  notifySettings,
} from '../../runtime/index.js';
import type { ControllerOptions } from '../../runtime/index.js';
import type { KubeObject } from '../../kube/index.js';
import { pgCanceller, pgQuoter } from './database.js';
import { rbac } from './rbac.js';
import { QueryJobReconciler } from './reconcile.js';

/** The QueryJob controller's settings; `controllers.queryjob.<key>` in the chart. */
export const queryJobSettings = {
  runnerImage: {
    type: 'string',
    env: 'SKYPORT_QUERY_RUNNER_IMAGE',
    default: 'localhost/skyport/query-runner:dev',
    description:
      'Image of the query runner (images/query-runner) that runs each QueryJob and deletes its results.',
  },
  ...notifySettings('SKYPORT_QUERYJOB'),
} as const;

const isQueryJob = (o: KubeObject): o is QueryJob => o.kind === QUERYJOB.kind;

/** QueryJob: catalog SQL validated and quoted at submit, run as a batch/v1 Job of the query runner. */
export const queryJob = defineController({
  name: 'queryjob',
  description: 'QueryJobs: catalog queries run as Jobs of the query runner, against admin-defined Catalogs.',
  crds: [catalogDefinition, queryJobDefinition],
  rbac,
  settings: queryJobSettings,
  controller: ({ kube, events, settings }): ControllerOptions<QueryJob> => {
    const r = new QueryJobReconciler({
      kube,
      runner: { image: settings.runnerImage, pullPolicy: 'IfNotPresent' },
      quoter: pgQuoter,
      canceller: pgCanceller,
      notifier: new Notifier({ kube, events, policy: notifyPolicy(settings) }),
    });
    const managed = { labelSelector: managedSelector(QUERYJOB.kind) };
    return {
      name: 'queryjob',
      for: {
        apiVersion: API_VERSION,
        kind: QUERYJOB.kind,
        indexers: {
          owner: (o) => (isQueryJob(o) ? [o.spec.owner] : []),
          catalog: (o) => (isQueryJob(o) ? [o.spec.catalogRef.name] : []),
        },
      },
      owns: [{ apiVersion: 'batch/v1', kind: 'Job', ...managed }],
      watches: [
        // The runner's pods (owned by the Job): their phase and termination message.
        {
          apiVersion: 'v1',
          kind: 'Pod',
          ...managed,
          priority: 'urgent',
          map: (o) => {
            const key = keyFromLabel(o, LABELS.instance);
            return key === undefined ? [] : [key];
          },
        },
        {
          apiVersion: API_VERSION,
          kind: CATALOG.kind,
          clusterScoped: true,
          updatePredicate: generationChanged,
          map: (c, cache) =>
            cache.indexed<QueryJob>(QUERYJOB.kind, 'catalog', c.metadata?.name ?? '').map(keyOf),
        },
        // A job that ends or starts frees or takes one of its owner's slots: wake the owner's QUEUED jobs.
        {
          apiVersion: API_VERSION,
          kind: QUERYJOB.kind,
          map: (o, cache) =>
            isQueryJob(o)
              ? cache
                  .indexed<QueryJob>(QUERYJOB.kind, 'owner', o.spec.owner)
                  .filter((p) => p.status?.phase === 'QUEUED' && p.status.jobName === undefined)
                  .map(keyOf)
              : [],
        },
      ],
      // Our own status writes come back as updates; they need no reconcile. A quick job's phase is written by the
      // TAP service: EXECUTING starts the operator's watch of its time, an end phase its notification.
      updatePredicate: (o, old) =>
        generationOrMetadataChanged(o, old) ||
        (isQueryJob(o) &&
          o.spec.mode === 'quick' &&
          o.status?.phase !== (old as Partial<QueryJob>).status?.phase),
      reconcile: (ctx) => r.reconcile(ctx),
    };
  },
});
