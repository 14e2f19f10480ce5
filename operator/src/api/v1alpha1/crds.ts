// The CustomResourceDefinitions of skyport.io/v1alpha1, assembled from the typed schemas (generator input).
import { toCrdSchema } from '../schema.js';
import type { AnyField, JSONSchemaProps } from '../schema.js';
import { DNS1123_LABEL_PATTERN } from './common.js';
import { ANOMALYSERVICE_NAME_MAX, anomalyServiceSpec, anomalyServiceStatus } from './anomalyservice.js';
import {
  ANOMALYSERVICE,
  CATEGORIES,
  crdName,
  CUTOUTJOB,
  GROUP,
  IMAGECOLLECTION,
  NOTEBOOKLAB,
  NOTEBOOKPROFILE,
  VERSION,
} from './group.js';
import { CUTOUTJOB_NAME_MAX, cutoutJobSpec, cutoutJobStatus } from './cutoutjob.js';
import { imageCollectionSpec, imageCollectionStatus } from './imagecollection.js';
import type { KindNames } from './group.js';
import { NOTEBOOKLAB_NAME_MAX, notebookLabSpec, notebookLabStatus } from './notebooklab.js';
import { notebookProfileSpec, notebookProfileStatus } from './notebookprofile.js';
import { CATALOG, catalogSpec, catalogStatus } from './catalog.js';
import { QUERYJOB, QUERYJOB_NAME_MAX, queryJobSpec, queryJobStatus } from './queryjob.js';

/** A column of `kubectl get`. */
export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly jsonPath: string;
  readonly description: string;
  /** 1 = shown only with `-o wide`. */
  readonly priority?: number;
}

/** Everything the generator needs to write one CRD. */
export interface KindDefinition {
  readonly names: KindNames;
  /** API group and version when not skyport.io/v1alpha1 (a test operator's own kinds). */
  readonly group?: string;
  readonly version?: string;
  /** Root schema of the object: apiVersion, kind, metadata (name limits only), spec and status. */
  readonly schema: JSONSchemaProps;
  readonly printerColumns: readonly PrinterColumn[];
  /** The scale subresource (`kubectl scale`, HorizontalPodAutoscaler), when the kind has one. */
  readonly scale?: ScaleSubresource;
}

/** apiextensions.k8s.io/v1 CustomResourceSubresourceScale: JSON paths of the replicas and the Pod selector. */
export interface ScaleSubresource {
  readonly specReplicasPath: string;
  readonly statusReplicasPath: string;
  readonly labelSelectorPath?: string;
}

function rootSchema(
  description: string,
  spec: AnyField,
  status: AnyField,
  nameRule?: { maxLength: number; pattern: string },
): JSONSchemaProps {
  // The apiserver allows only name/generateName constraints under metadata; it fills in the rest itself.
  const metadata: JSONSchemaProps = { type: 'object' };
  if (nameRule !== undefined) metadata.properties = { name: { type: 'string', ...nameRule } };
  return {
    type: 'object',
    description,
    properties: {
      apiVersion: {
        type: 'string',
        description: `APIVersion of this object: ${GROUP}/${VERSION}.`,
      },
      kind: { type: 'string', description: 'Kind of this object.' },
      metadata,
      spec: spec.schema,
      status: status.schema,
    },
    required: ['spec'],
  };
}

/** NotebookLab's CRD input. */
export const notebookLabDefinition: KindDefinition = {
  names: NOTEBOOKLAB,
  schema: rootSchema(
    "NotebookLab is one user's JupyterLab with a persistent home volume. Set spec.state to Stopped to stop it " +
      "and keep the home; delete it to remove it (the home is kept or deleted per the profile's retainPolicy).",
    notebookLabSpec,
    notebookLabStatus,
    { maxLength: NOTEBOOKLAB_NAME_MAX, pattern: DNS1123_LABEL_PATTERN },
  ),
  printerColumns: [
    { name: 'Owner', type: 'string', jsonPath: '.spec.owner', description: 'Owner of the lab' },
    {
      name: 'Profile',
      type: 'string',
      jsonPath: '.spec.profile',
      description: 'NotebookProfile the lab uses',
    },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Lifecycle phase' },
    { name: 'URL', type: 'string', jsonPath: '.status.url', description: 'URL of the running lab' },
    {
      name: 'Age',
      type: 'date',
      jsonPath: '.metadata.creationTimestamp',
      description: 'Time since creation',
    },
    { name: 'State', type: 'string', jsonPath: '.spec.state', description: 'Desired state', priority: 1 },
    { name: 'Size', type: 'string', jsonPath: '.status.size', description: 'Size in use', priority: 1 },
    {
      name: 'Ready',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Ready")].status',
      description: 'Whether the lab server answers',
      priority: 1,
    },
    {
      name: 'Reason',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Degraded")].reason',
      description: 'Why the lab is degraded',
      priority: 1,
    },
  ],
};

/** NotebookProfile's CRD input. */
export const notebookProfileDefinition: KindDefinition = {
  names: NOTEBOOKPROFILE,
  schema: rootSchema(
    "NotebookProfile is an administrator's menu for NotebookLabs: the images and sizes users may choose and the " +
      'home-volume, culling, quota, security and network policies their labs obey.',
    notebookProfileSpec,
    notebookProfileStatus,
  ),
  printerColumns: [
    {
      name: 'Display-Name',
      type: 'string',
      jsonPath: '.spec.displayName',
      description: 'Name shown to users',
    },
    {
      name: 'Default-Size',
      type: 'string',
      jsonPath: '.spec.defaultSize',
      description: 'Size used by default',
    },
    {
      name: 'Custom-Images',
      type: 'boolean',
      jsonPath: '.spec.images.allowCustomImage',
      description: 'Whether labs may run any image',
    },
    {
      name: 'Age',
      type: 'date',
      jsonPath: '.metadata.creationTimestamp',
      description: 'Time since creation',
    },
  ],
};

/** AnomalyService's CRD input: the scale subresource scales the workers. */
export const anomalyServiceDefinition: KindDefinition = {
  names: ANOMALYSERVICE,
  schema: rootSchema(
    'AnomalyService runs the Extended Isolation Forest service: an HTTP API, a worker pool and a Redis broker. ' +
      '`kubectl scale anomalyservice/x --replicas=N` (or a HorizontalPodAutoscaler) sets its workers; ' +
      'spec.autoscaling scales them by queue depth.',
    anomalyServiceSpec,
    anomalyServiceStatus,
    { maxLength: ANOMALYSERVICE_NAME_MAX, pattern: DNS1123_LABEL_PATTERN },
  ),
  scale: {
    specReplicasPath: '.spec.workers.replicas',
    statusReplicasPath: '.status.workerReplicas',
    labelSelectorPath: '.status.workerSelector',
  },
  printerColumns: [
    {
      name: 'Ready',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Ready")].status',
      description: 'Whether API, workers and Redis are ready',
    },
    { name: 'Workers', type: 'integer', jsonPath: '.status.readyWorkers', description: 'Ready workers' },
    { name: 'Queue', type: 'integer', jsonPath: '.status.queueDepth', description: 'Tasks waiting' },
    { name: 'URL', type: 'string', jsonPath: '.status.url', description: 'In-cluster URL of the API' },
    {
      name: 'Age',
      type: 'date',
      jsonPath: '.metadata.creationTimestamp',
      description: 'Time since creation',
    },
    {
      name: 'Reason',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Degraded")].reason',
      description: 'Why the service is degraded',
      priority: 1,
    },
  ],
};

const age: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since creation',
};

/** Catalog's CRD input. */
export const catalogDefinition: KindDefinition = {
  names: CATALOG,
  schema: rootSchema(
    "Catalog is an administrator's PostgreSQL catalog for QueryJobs: the server and read-only role, the limits " +
      'every query obeys, where results are written and how long they are kept.',
    catalogSpec,
    catalogStatus,
  ),
  printerColumns: [
    { name: 'Host', type: 'string', jsonPath: '.spec.database.host', description: 'PostgreSQL host' },
    { name: 'Database', type: 'string', jsonPath: '.spec.database.database', description: 'Database name' },
    { name: 'Release', type: 'string', jsonPath: '.spec.release', description: 'Data release' },
    {
      name: 'Age',
      type: 'date',
      jsonPath: '.metadata.creationTimestamp',
      description: 'Time since creation',
    },
  ],
};

/** QueryJob's CRD input. */
export const queryJobDefinition: KindDefinition = {
  names: QUERYJOB,
  schema: rootSchema(
    'QueryJob is one catalog query (UWS job): validated and quoted at submit, run by the query runner as a ' +
      'batch/v1 Job when spec.phase is RUN, its result files listed in status until destruction.',
    queryJobSpec,
    queryJobStatus,
    { maxLength: QUERYJOB_NAME_MAX, pattern: DNS1123_LABEL_PATTERN },
  ),
  printerColumns: [
    { name: 'Owner', type: 'string', jsonPath: '.spec.owner', description: 'Owner of the job' },
    { name: 'Catalog', type: 'string', jsonPath: '.spec.catalogRef.name', description: 'Catalog queried' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'UWS execution phase' },
    { name: 'Rows', type: 'integer', jsonPath: '.status.rows', description: 'Rows in the result' },
    {
      name: 'Age',
      type: 'date',
      jsonPath: '.metadata.creationTimestamp',
      description: 'Time since creation',
    },
    {
      name: 'Format',
      type: 'string',
      jsonPath: '.spec.output.format',
      description: 'Result format',
      priority: 1,
    },
    {
      name: 'Est-Rows',
      type: 'integer',
      jsonPath: '.status.quote.estimatedRows',
      description: "The planner's row estimate",
      priority: 1,
    },
    { name: 'Error', type: 'string', jsonPath: '.status.error.code', description: 'Error code', priority: 1 },
  ],
};

/** ImageCollection's CRD input. */
export const imageCollectionDefinition: KindDefinition = {
  names: IMAGECOLLECTION,
  schema: rootSchema(
    "ImageCollection is a survey's coadd tiles on a volume, indexed from their headers by an indexing Job, with the " +
      'limits CutoutJobs on it obey and the volume they write to.',
    imageCollectionSpec,
    imageCollectionStatus,
  ),
  printerColumns: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Indexing, Ready or Failed' },
    { name: 'Tiles', type: 'integer', jsonPath: '.status.tiles', description: 'Tiles indexed' },
    { name: 'Bands', type: 'string', jsonPath: '.status.bands', description: 'Bands found' },
    age,
    { name: 'Release', type: 'string', jsonPath: '.spec.release', description: 'Data release', priority: 1 },
  ],
};

/** CutoutJob's CRD input. */
export const cutoutJobDefinition: KindDefinition = {
  names: CUTOUTJOB,
  schema: rootSchema(
    "CutoutJob is a scientist's bulk cutouts: FITS per band and colour PNGs at each position of a DES-style CSV, " +
      'from an ImageCollection, run as one Indexed Job sharded by tile, with a manifest of one row per position.',
    cutoutJobSpec,
    cutoutJobStatus,
    { maxLength: CUTOUTJOB_NAME_MAX, pattern: DNS1123_LABEL_PATTERN },
  ),
  printerColumns: [
    { name: 'Owner', type: 'string', jsonPath: '.spec.owner', description: 'Owner of the job' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'UWS phase' },
    { name: 'Positions', type: 'integer', jsonPath: '.status.counts.positions', description: 'Input rows' },
    { name: 'Done', type: 'integer', jsonPath: '.status.counts.done', description: 'Rows finished' },
    { name: 'Progress', type: 'integer', jsonPath: '.status.progress.percent', description: 'Percent done' },
    age,
    {
      name: 'Collection',
      type: 'string',
      jsonPath: '.spec.imageCollection',
      description: 'ImageCollection',
      priority: 1,
    },
    { name: 'Shards', type: 'integer', jsonPath: '.status.shards', description: 'Shards', priority: 1 },
    {
      name: 'Failed',
      type: 'integer',
      jsonPath: '.status.counts.failed',
      description: 'Rows failed',
      priority: 1,
    },
    {
      name: 'Unmatched',
      type: 'integer',
      jsonPath: '.status.counts.unmatched',
      description: 'Rows outside the tiles',
      priority: 1,
    },
  ],
};

/** Every kind, in the order the generator writes them. */
export const definitions: readonly KindDefinition[] = [
  notebookLabDefinition,
  notebookProfileDefinition,
  anomalyServiceDefinition,
  catalogDefinition,
  queryJobDefinition,
  imageCollectionDefinition,
  cutoutJobDefinition,
];

/** `<plural>.<group>` of a definition: its CRD's object name. */
export function definitionName(def: KindDefinition): string {
  return def.group === undefined ? crdName(def.names) : `${def.names.plural}.${def.group}`;
}

/** The apiextensions.k8s.io/v1 CustomResourceDefinition object for one kind. */
export function crdManifest(def: KindDefinition): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: definitionName(def),
      labels: { 'app.kubernetes.io/part-of': 'skyport' },
    },
    spec: {
      group: def.group ?? GROUP,
      names: {
        kind: def.names.kind,
        listKind: def.names.listKind,
        plural: def.names.plural,
        singular: def.names.singular,
        shortNames: [...def.names.shortNames],
        // `kubectl get skyport` lists skyport's own kinds, not a test operator's.
        ...(def.group === undefined ? { categories: CATEGORIES } : {}),
      },
      scope: def.names.scope,
      versions: [
        {
          name: def.version ?? VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: toCrdSchema(def.schema) },
          subresources: { status: {}, ...(def.scale === undefined ? {} : { scale: { ...def.scale } }) },
          additionalPrinterColumns: def.printerColumns.map((c) => ({ ...c })),
        },
      ],
    },
  };
}
