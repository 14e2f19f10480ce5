// Valid example objects: the base of validator tests, e2e tests and docs. Each call returns a fresh copy.
import type { AnomalyServiceSpecInput } from './anomalyservice.js';
import type { CutoutJobSpecInput } from './cutoutjob.js';
import {
  ANOMALYSERVICE,
  API_VERSION,
  CUTOUTJOB,
  IMAGECOLLECTION,
  NOTEBOOKLAB,
  NOTEBOOKPROFILE,
} from './group.js';
import type { ImageCollectionSpecInput } from './imagecollection.js';
import type { NotebookLabSpecInput } from './notebooklab.js';
import type { NotebookProfileSpecInput } from './notebookprofile.js';

/** A manifest as a user writes it: defaulted fields may be left out. */
export interface Manifest<S> {
  apiVersion: typeof API_VERSION;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: S;
}

/** A NotebookProfile close to what a DES-like data centre would run. */
export function sampleProfile(name = 'des-jupyterlab'): Manifest<NotebookProfileSpecInput> {
  return {
    apiVersion: API_VERSION,
    kind: NOTEBOOKPROFILE.kind,
    metadata: { name },
    spec: {
      displayName: 'DES JupyterLab',
      images: {
        aliases: [
          { name: 'recommended', image: 'registry.example.org/des/lab:2026.07', description: 'Recommended' },
          { name: 'weekly', image: 'registry.example.org/des/lab:w_2026_30' },
        ],
        defaultAlias: 'recommended',
      },
      sizes: [
        { name: 'small', requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } },
        { name: 'medium', requests: { cpu: '2', memory: '8Gi' }, limits: { cpu: 4, memory: '8Gi' } },
      ],
      defaultSize: 'small',
      home: { size: '10Gi', retainPolicy: 'Retain' },
      culling: { idleTimeout: '24h', warnBefore: '30m' },
      quota: { maxLabs: 2 },
      network: { ingressNamespaces: ['skyport-proxy'] },
    },
  };
}

/** A NotebookLab for `owner` using the sample profile. */
export function sampleLab(
  name = 'default',
  namespace = 'nb-alice',
  owner = 'alice',
): Manifest<NotebookLabSpecInput> {
  return {
    apiVersion: API_VERSION,
    kind: NOTEBOOKLAB.kind,
    metadata: { name, namespace },
    spec: {
      owner,
      profile: 'des-jupyterlab',
      imageAlias: 'recommended',
      size: 'small',
      env: [
        { name: 'DES_RELEASE', value: 'dr2' },
        { name: 'TAP_TOKEN', valueFrom: { secretKeyRef: { name: 'tap', key: 'token' } } },
      ],
      volumes: [
        {
          name: 'dr2',
          mountPath: '/data/des/dr2',
          readOnly: true,
          persistentVolumeClaim: { claimName: 'des-dr2' },
        },
      ],
    },
  };
}

/** An AnomalyService with managed Redis and queue-depth autoscaling, as a Rubin-like telemetry team would run. */
export function sampleAnomalyService(
  name = 'efd-anomaly',
  namespace = 'telemetry',
): Manifest<AnomalyServiceSpecInput> {
  return {
    apiVersion: API_VERSION,
    kind: ANOMALYSERVICE.kind,
    metadata: { name, namespace },
    spec: {
      api: { replicas: 2 },
      workers: {
        replicas: 2,
        threads: 2,
        resources: { requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '2', memory: '4Gi' } },
      },
      redis: { managed: { size: '20Gi' } },
      autoscaling: { minReplicas: 1, maxReplicas: 8, targetQueueDepthPerWorker: 5 },
      limits: { maxUploadBytes: 1073741824, maxCols: 512 },
    },
  };
}

/** An ImageCollection of the sample survey on two claims of namespace `namespace`. */
export function sampleCollection(
  name = 'des-sample',
  namespace = 'des-cutouts',
): Manifest<ImageCollectionSpecInput> {
  return {
    apiVersion: API_VERSION,
    kind: IMAGECOLLECTION.kind,
    metadata: { name, namespace },
    spec: {
      description: 'Sample survey: 4 bands × 9 TAN tiles around RA 0, Dec −30',
      release: 'SAMPLE',
      source: { persistentVolumeClaim: { claimName: 'des-tiles', path: 'coadd' } },
      results: { persistentVolumeClaim: { claimName: 'des-cutouts' } },
      limits: { maxPositions: 10_000 },
    },
  };
}

/** A CutoutJob of three inline positions on the sample collection. */
export function sampleCutoutJob(
  name = 'lens-candidates',
  namespace = 'des-cutouts',
  owner = 'alice',
): Manifest<CutoutJobSpecInput> {
  return {
    apiVersion: API_VERSION,
    kind: CUTOUTJOB.kind,
    metadata: { name, namespace },
    spec: {
      owner,
      imageCollection: 'des-sample',
      positions: { inline: 'RA,DEC,ID\n0.01,-30.0,obj1\n359.99,-30.01,obj2\n0.02,-29.99,obj3\n' },
      size: { xsize: 1, unit: 'arcmin' },
      fits: { bands: ['g', 'r'], hdus: ['SCI', 'MSK'] },
      colour: [{ method: 'lupton', bands: ['i', 'r', 'g'] }],
      parallelism: { shards: 2 },
    },
  };
}
