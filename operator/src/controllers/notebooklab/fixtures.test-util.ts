// Shared fixtures for the NotebookLab unit tests: a defaulted profile and lab, as the apiserver would store them.
import type { V1Pod } from '../../kube/index.js';
import type { NotebookLab, NotebookProfile } from '../../api/v1alpha1/index.js';

/** A profile with every default filled in, two aliases and two sizes. */
export function profileFixture(over: Partial<NotebookProfile['spec']> = {}): NotebookProfile {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'NotebookProfile',
    metadata: { name: 'des-jupyterlab', uid: 'p-uid', generation: 1 },
    spec: {
      displayName: 'DES JupyterLab',
      images: {
        aliases: [
          { name: 'recommended', image: 'registry.example.org/des/lab:2026.07' },
          { name: 'weekly', image: 'registry.example.org/des/lab:w_2026_46' },
        ],
        defaultAlias: 'recommended',
        allowCustomImage: false,
        pullPolicy: 'IfNotPresent',
      },
      sizes: [
        { name: 'small', requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } },
        { name: 'medium', requests: { cpu: '2', memory: '8Gi' }, limits: { cpu: '4', memory: '8Gi' } },
      ],
      defaultSize: 'small',
      home: { size: '10Gi', mountPath: '/home/jovyan', retainPolicy: 'Retain', storageClassName: 'standard' },
      culling: { enabled: true, idleTimeout: '24h', maxLifetime: '168h', warnBefore: '30m' },
      quota: { maxLabs: 2 },
      security: { runAsUser: 1000, runAsGroup: 100, fsGroup: 100, readOnlyRootFilesystem: true },
      network: { enabled: true, ingressNamespaces: ['skyport-proxy', 'portal'] },
      ...over,
    },
  };
}

/** A lab of alice using {@link profileFixture}. */
export function labFixture(
  over: Partial<NotebookLab['spec']> = {},
  meta: Partial<NotebookLab['metadata']> = {},
): NotebookLab {
  return {
    apiVersion: 'skyport.io/v1alpha1',
    kind: 'NotebookLab',
    metadata: {
      name: 'alice-default',
      namespace: 'nb-alice',
      uid: '6f1c2b9e-0000-4000-8000-000000000001',
      generation: 1,
      creationTimestamp: '2026-11-21T10:00:00Z',
      ...meta,
    },
    spec: { owner: 'alice', profile: 'des-jupyterlab', state: 'Running', ...over },
  };
}

/** Spec and status of a Running lab Pod whose `lab` container (the recommended image) is ready, at the given times. */
export function runningLabPod(at: {
  scheduled: string;
  started: string;
  ready: string;
}): Pick<V1Pod, 'spec' | 'status'> {
  const image = 'registry.example.org/des/lab:2026.07';
  return {
    spec: { containers: [{ name: 'lab', image }] },
    status: {
      phase: 'Running',
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: at.scheduled },
        { type: 'Ready', status: 'True', lastTransitionTime: at.ready },
      ],
      containerStatuses: [
        {
          name: 'lab',
          image,
          imageID: '',
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: at.started } },
        },
      ],
    },
  };
}
