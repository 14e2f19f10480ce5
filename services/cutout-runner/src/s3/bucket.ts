// A collection's bucket as the runner reaches it: the location from the spec, the key pair from the environment
// (the pod reads it from the Secret by secretKeyRef), and one client (@skyport/s3, docs/adr/0016-s3-tile-source.md).

import { S3Client } from '@skyport/s3';

/** Where the tiles are: the spec's `s3` (never the keys). */
export interface TileBucket {
  readonly endpoint: string;
  readonly bucket: string;
  /** Key prefix of the files (no trailing slash; '' for the bucket root). */
  readonly prefix: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
}

/** Reads and checks a bucket location (from a spec or the `index-s3` argument), naming the field at fault. */
export function parseBucket(v: unknown, field = 's3'): TileBucket {
  if (typeof v !== 'object' || v === null) throw new TypeError(`${field}: expected an object`);
  const o = v as Record<string, unknown>;
  const text = (k: string, fallback?: string): string => {
    const x = o[k] ?? fallback;
    if (typeof x !== 'string') throw new TypeError(`${field}.${k}: expected a string`);
    return x;
  };
  const prefix = text('prefix', '');
  if (prefix.startsWith('/') || prefix.split('/').some((s) => s === '..' || s === '.'))
    throw new TypeError(`${field}.prefix: '${prefix}' must be relative, without '.' or '..' segments`);
  const fps = o['forcePathStyle'] ?? false;
  if (typeof fps !== 'boolean') throw new TypeError(`${field}.forcePathStyle: expected true or false`);
  return {
    endpoint: text('endpoint'),
    bucket: text('bucket'),
    prefix: prefix.replace(/\/+$/, ''),
    region: text('region', 'us-east-1'),
    forcePathStyle: fps,
  };
}

/** The object key of a file of the collection. */
export function keyOf(b: TileBucket, path: string): string {
  return b.prefix === '' ? path : `${b.prefix}/${path}`;
}

/** A client of the bucket with the key pair from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. */
export function bucketClient(b: TileBucket, env: NodeJS.ProcessEnv = process.env): S3Client {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'] ?? '';
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'] ?? '';
  if (accessKeyId === '' || secretAccessKey === '')
    throw new TypeError('env: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set for a bucket source');
  return new S3Client({ ...b, credentials: { accessKeyId, secretAccessKey } });
}
