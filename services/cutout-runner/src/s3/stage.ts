// A shard's tiles from a bucket: each file a group of cutouts needs is downloaded once into the scratch emptyDir
// (streamed to disk, its size and — for a single-part object — its ETag, the body's MD5, checked; a mismatch is
// retried), and deleted as soon as no cutout of the current tile needs it. A file missing from the bucket or still
// failing after the bounded retries is remembered with its reason: the cutouts needing it say so in the manifest.

import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { S3Error, type S3Client } from '@skyport/s3';
import { keyOf, type TileBucket } from './bucket.js';
import { RetryableError, withRetries, type RetryOptions } from './retry.js';

/** What staging cost (the shard's summary reports it). */
export interface StageStats {
  downloads: number;
  bytes: number;
  ms: number;
  retries: number;
  failed: number;
  /** Most bytes the scratch held at once. */
  peakScratchBytes: number;
}

/** Downloads a shard's tile files into `dir` and removes them when the tiles at hand no longer need them. */
export class TileStager {
  /** Files that could not be had, with the reason (kept for the whole shard: not tried again). */
  readonly missing = new Map<string, string>();
  readonly stats: StageStats = { downloads: 0, bytes: 0, ms: 0, retries: 0, failed: 0, peakScratchBytes: 0 };
  private readonly held = new Map<string, number>();

  constructor(
    private readonly client: S3Client,
    private readonly bucket: TileBucket,
    readonly dir: string,
    private readonly retry: RetryOptions = {},
  ) {
    mkdirSync(dir, { recursive: true });
    // A killed earlier attempt's files (the emptyDir outlives a container restart): start from an empty scratch.
    for (const e of readdirSync(dir)) rmSync(join(dir, e), { recursive: true, force: true });
  }

  /**
   * Makes exactly `paths` present in the scratch: deletes the others first (the scratch holds one group's files),
   * then downloads those not yet there. `sizes` (from the index) are checked when known.
   */
  async stage(paths: ReadonlySet<string>, sizes: ReadonlyMap<string, number>): Promise<void> {
    for (const p of [...this.held.keys()])
      if (!paths.has(p)) {
        rmSync(join(this.dir, p), { force: true });
        this.held.delete(p);
      }
    for (const p of [...paths].sort()) {
      if (this.held.has(p) || this.missing.has(p)) continue;
      const t0 = performance.now();
      try {
        const n = await withRetries(() => this.download(p, sizes.get(p)), {
          ...this.retry,
          onRetry: (e, i) => {
            this.stats.retries++;
            this.retry.onRetry?.(e, i);
          },
        });
        this.held.set(p, n);
        this.stats.downloads++;
        this.stats.bytes += n;
        const total = [...this.held.values()].reduce((a, b) => a + b, 0);
        this.stats.peakScratchBytes = Math.max(this.stats.peakScratchBytes, total);
      } catch (e) {
        this.stats.failed++;
        this.missing.set(p, this.reason(p, e));
      } finally {
        this.stats.ms += performance.now() - t0;
      }
    }
  }

  /** Deletes every file still held (the shard's end). */
  clear(): void {
    for (const p of this.held.keys()) rmSync(join(this.dir, p), { force: true });
    this.held.clear();
  }

  private reason(p: string, e: unknown): string {
    const where = `s3://${this.bucket.bucket}/${keyOf(this.bucket, p)}`;
    if (e instanceof S3Error && (e.status === 404 || e.code === 'NoSuchKey'))
      return `tile file missing from the bucket: ${where}`;
    return `tile file could not be downloaded: ${where}: ${e instanceof Error ? e.message : String(e)}`;
  }

  /** One attempt: the object streamed to a temporary file, checked, then renamed into place. */
  private async download(p: string, size: number | undefined): Promise<number> {
    const tmp = join(this.dir, `.part-${p}`);
    const res = await this.client.get(keyOf(this.bucket, p));
    const etag = (res.headers.get('etag') ?? '').replaceAll('"', '');
    const md5 = createHash('md5');
    let n = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        md5.update(chunk);
        n += chunk.length;
        done(null, chunk);
      },
    });
    try {
      if (res.body === null) throw new RetryableError(`${p}: empty response body`);
      await pipeline(
        Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
        count,
        createWriteStream(tmp),
      );
    } catch (e) {
      rmSync(tmp, { force: true });
      // A connection cut mid-body is as transient as a 503.
      if (e instanceof RetryableError || e instanceof S3Error) throw e;
      throw new RetryableError(`${p}: download interrupted: ${e instanceof Error ? e.message : String(e)}`);
    }
    const bad =
      size !== undefined && n !== size
        ? `${n} bytes, the index says ${size}`
        : /^[0-9a-f]{32}$/.test(etag) && md5.digest('hex') !== etag
          ? `MD5 differs from the ETag ${etag}`
          : undefined;
    if (bad !== undefined) {
      rmSync(tmp, { force: true });
      throw new RetryableError(`${p}: ${bad}`);
    }
    renameSync(tmp, join(this.dir, p));
    return n;
  }

  /** Whether `p` is in the scratch now. */
  has(p: string): boolean {
    return this.held.has(p) && existsSync(join(this.dir, p));
  }
}
