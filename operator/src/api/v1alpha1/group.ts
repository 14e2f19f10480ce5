// API group, version and resource names for skyport.io/v1alpha1: the one place these strings live.

/** The API group of every skyport custom resource. */
export const GROUP = 'skyport.io';
/** The served and stored version. */
export const VERSION = 'v1alpha1';
/** `apiVersion` as written in manifests. */
export const API_VERSION = `${GROUP}/${VERSION}` as const;
/** `kubectl get <category>` lists every skyport resource. */
export const CATEGORIES = ['skyport', 'astro'];

/** Names of one kind, as they appear in the CRD's `spec.names` and in REST paths. */
export interface KindNames {
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly scope: 'Namespaced' | 'Cluster';
}

/** NotebookLab: a user's JupyterLab with a persistent home (namespaced). */
export const NOTEBOOKLAB = {
  kind: 'NotebookLab',
  listKind: 'NotebookLabList',
  plural: 'notebooklabs',
  singular: 'notebooklab',
  shortNames: ['nblab', 'lab'],
  scope: 'Namespaced',
} as const satisfies KindNames;

/** NotebookProfile: an admin's menu of images, sizes and policies for labs (cluster-scoped). */
export const NOTEBOOKPROFILE = {
  kind: 'NotebookProfile',
  listKind: 'NotebookProfileList',
  plural: 'notebookprofiles',
  singular: 'notebookprofile',
  shortNames: ['nbprofile', 'nbp'],
  scope: 'Cluster',
} as const satisfies KindNames;

/** AnomalyService: one deployment of the anomaly service (API, workers, Redis), scalable (namespaced). */
export const ANOMALYSERVICE = {
  kind: 'AnomalyService',
  listKind: 'AnomalyServiceList',
  plural: 'anomalyservices',
  singular: 'anomalyservice',
  shortNames: ['anomaly', 'eif'],
  scope: 'Namespaced',
} as const satisfies KindNames;

/** `<plural>.<group>`, the CRD's object name. */
export function crdName(names: KindNames): string {
  return `${names.plural}.${GROUP}`;
}

/** ImageCollection: a survey's coadd tiles, their index and limits (namespaced; admin-managed). */
export const IMAGECOLLECTION = {
  kind: 'ImageCollection',
  listKind: 'ImageCollectionList',
  plural: 'imagecollections',
  singular: 'imagecollection',
  shortNames: ['imgcol'],
  scope: 'Namespaced',
} as const satisfies KindNames;

/** CutoutJob: a scientist's bulk FITS/PNG cutouts at a list of positions (namespaced). */
export const CUTOUTJOB = {
  kind: 'CutoutJob',
  listKind: 'CutoutJobList',
  plural: 'cutoutjobs',
  singular: 'cutoutjob',
  shortNames: ['cutout', 'cj'],
  scope: 'Namespaced',
} as const satisfies KindNames;
