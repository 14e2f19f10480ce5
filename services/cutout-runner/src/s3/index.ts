// The indexing Job over a bucket: lists the prefix, reads each FITS file's headers by ranged GETs (fits/scan.ts:
// a header's blocks, then the next header at the offset its predecessor's data size gives — never a whole tile)
// and indexes the HDUs with the same code as a directory's (indexScanned), so the two give the same tiles.json.

import type { S3Client } from '@skyport/s3';
import { scanHdus } from '../fits/scan.js';
import { indexScanned, isTileFile, type ScannedFile, type TileIndex } from '../survey/tile-index.js';
import type { TileBucket } from './bucket.js';
import { withRetries, type RetryOptions } from './retry.js';

/** What indexing a bucket cost: objects listed and indexed, ranged GETs and their bytes, retries. */
export interface BucketIndexStats {
  readonly files: number;
  readonly gets: number;
  readonly bytesRead: number;
  readonly bytesListed: number;
  readonly retries: number;
}

/** Indexes every `*.fits` / `*.fits.fz` object directly under the bucket's prefix. */
export async function buildBucketIndex(
  client: S3Client,
  b: TileBucket,
  retry: RetryOptions = {},
): Promise<{ index: TileIndex; stats: BucketIndexStats }> {
  let retries = 0;
  const opts: RetryOptions = {
    ...retry,
    onRetry: (e, n) => {
      retries++;
      retry.onRetry?.(e, n);
    },
  };
  const base = b.prefix === '' ? '' : `${b.prefix}/`;
  const objects = await withRetries(async () => {
    const out: { path: string; key: string; size: number }[] = [];
    for await (const o of client.list(base)) {
      const path = o.key.slice(base.length);
      if (isTileFile(path)) out.push({ path, key: o.key, size: o.size });
    }
    return out;
  }, opts);
  objects.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  let gets = 0;
  let bytesRead = 0;
  const scanned: ScannedFile[] = [];
  for (const o of objects) {
    try {
      const scan = await scanHdus(
        (offset, length) => withRetries(() => client.getBytes(o.key, [offset, offset + length - 1]), opts),
        o.size,
        o.path,
      );
      gets += scan.reads;
      bytesRead += scan.bytesRead;
      scanned.push({ path: o.path, bytes: o.size, hdus: scan.hdus });
    } catch (e) {
      scanned.push({ path: o.path, bytes: o.size, error: e instanceof Error ? e.message : String(e) });
    }
  }
  const stats = {
    files: objects.length,
    gets,
    bytesRead,
    bytesListed: objects.reduce((n, o) => n + o.size, 0),
    retries,
  };
  return { index: indexScanned(scanned), stats };
}
