// Pure: how a runner pod reaches a collection's tiles — a PersistentVolumeClaim mounted read-only, or an
// S3-compatible bucket (docs/adr/0016-s3-tile-source.md): its location in the runner's spec, the key pair only by
// secretKeyRef, a scratch emptyDir for the tiles a shard downloads, and the tile index on the results claim.
import type { ImageCollection } from '../../api/v1alpha1/index.js';
import type { RunnerVolume } from './runner-pod.js';

/** Where the tiles volume (a claim source) is mounted. */
export const TILES = '/tiles';
/** Where the results claim is mounted. */
export const RESULTS = '/results';
/** Where a shard's scratch emptyDir is mounted (a bucket source). */
export const SCRATCH = '/scratch';
/** The index file next to the tiles (a claim source). */
export const INDEX_FILE = 'tiles.json';
/** The index file on the results claim, relative to its path (a bucket source: the bucket is only read). */
export const S3_INDEX_FILE = 'index/tiles.json';
/**
 * Tiles a shard's scratch holds at once: the files of the positions' tile and of its eight neighbours, the most a
 * group of cutouts smaller than a tile can touch (the runner keeps only the current tile's group on disk).
 */
export const SCRATCH_TILES = 9;
/** The scratch limit before an index reported its largest tile (an index of an older runner). */
export const SCRATCH_FALLBACK_BYTES = 8 * 1024 ** 3;

/** The bucket's location as the runner's spec takes it (never the key pair). */
export interface RunnerS3 {
  readonly endpoint: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
}

/** The bucket of an S3 source, or undefined for a claim. */
export function s3Source(c: ImageCollection): RunnerS3 | undefined {
  const s3 = c.spec.source.s3;
  if (s3 === undefined) return undefined;
  return {
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    prefix: s3.prefix,
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
  };
}

/** AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the source's Secret, by reference (none for a claim). */
export function s3Env(c: ImageCollection): Record<string, unknown>[] {
  const ref = c.spec.source.s3?.credentialsSecretRef;
  if (ref === undefined) return [];
  return [
    { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: ref.name, key: ref.accessKeyIdKey } } },
    {
      name: 'AWS_SECRET_ACCESS_KEY',
      valueFrom: { secretKeyRef: { name: ref.name, key: ref.secretAccessKeyKey } },
    },
  ];
}

/** The tiles volume of a claim source (none for a bucket). */
export function tilesVolume(c: ImageCollection): RunnerVolume[] {
  const src = c.spec.source.persistentVolumeClaim;
  if (src === undefined) return [];
  return [
    {
      name: 'tiles',
      mountPath: TILES,
      readOnly: true,
      subPath: src.path,
      source: { persistentVolumeClaim: { claimName: src.claimName, readOnly: true } },
    },
  ];
}

/** A shard's scratch (a bucket source) in MiB: {@link SCRATCH_TILES} times the largest tile's files. */
export function scratchMiB(c: ImageCollection): number {
  const largest = c.status?.largestTileBytes;
  const bytes = largest === undefined || largest <= 0 ? SCRATCH_FALLBACK_BYTES : SCRATCH_TILES * largest;
  return Math.ceil(bytes / 1024 ** 2);
}

/** A shard's scratch emptyDir (a bucket source), sized by {@link scratchMiB}. */
export function scratchVolume(c: ImageCollection): RunnerVolume[] {
  if (c.spec.source.s3 === undefined) return [];
  const sizeLimit = `${scratchMiB(c)}Mi`;
  return [{ name: 'scratch', mountPath: SCRATCH, readOnly: false, source: { emptyDir: { sizeLimit } } }];
}

/** The index file as runner pods see it: next to the tiles, or on the results claim for a bucket. */
export function indexFile(c: ImageCollection): string {
  if (c.spec.source.s3 !== undefined) return `${RESULTS}/${c.status?.indexPath ?? S3_INDEX_FILE}`;
  return `${TILES}/${c.status?.indexPath ?? INDEX_FILE}`;
}
