// A shard's tiles from a bucket: each file a group of cutouts needs is downloaded once into the scratch emptyDir
// (streamed to disk, its size and — for a single-part object — its ETag, the body's MD5, checked; a mismatch is
// retried), and deleted once no later group of cutouts needs it — or earlier when the scratch budget is short. A file missing from the bucket or still
// failing after the bounded retries is remembered with its reason: the cutouts needing it say so in the manifest.

import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { S3Client } from '@skyport/s3';
import { keyOf, type TileBucket } from './bucket.js';
import { RetryableError, s3ErrorOf, withRetries, type RetryOptions } from './retry.js';

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
    /** Bytes the scratch may hold for files kept for a later group (the current group's are always fetched). */
    private readonly budgetBytes = Infinity,
  ) {
    mkdirSync(dir, { recursive: true });
    // A killed earlier attempt's files (the emptyDir outlives a container restart): start from an empty scratch.
    for (const e of readdirSync(dir)) rmSync(join(dir, e), { recursive: true, force: true });
  }

  /**
   * Makes `paths` present in the scratch. Files held but not needed now are deleted when no later group needs them
   * (`nextUse`: the group index of each file's next use); the others stay while the budget allows, those needed
   * furthest ahead going first (Belady's rule), so a neighbour tile shared by two groups is fetched once when the
   * scratch has room. `sizes` (from the index) are checked when known.
   */
  async stage(
    paths: ReadonlySet<string>,
    sizes: ReadonlyMap<string, number>,
    nextUse: ReadonlyMap<string, number> = new Map(),
  ): Promise<void> {
    const drop = (p: string): void => {
      rmSync(join(this.dir, p), { force: true });
      this.held.delete(p);
    };
    for (const p of [...this.held.keys()]) if (!paths.has(p) && !nextUse.has(p)) drop(p);
    const fetch = [...paths].filter((p) => !this.held.has(p) && !this.missing.has(p)).sort();
    const incoming = fetch.reduce((n, p) => n + (sizes.get(p) ?? 0), 0);
    const spare = [...this.held.keys()]
      .filter((p) => !paths.has(p))
      .sort((a, b) => (nextUse.get(b) ?? 0) - (nextUse.get(a) ?? 0));
    for (const p of spare) {
      if (this.heldBytes() + incoming <= this.budgetBytes) break;
      drop(p);
    }
    for (const p of fetch) {
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
        this.stats.peakScratchBytes = Math.max(this.stats.peakScratchBytes, this.heldBytes());
      } catch (e) {
        this.stats.failed++;
        this.missing.set(p, this.reason(p, e));
      } finally {
        this.stats.ms += performance.now() - t0;
      }
    }
  }

  private heldBytes(): number {
    let n = 0;
    for (const v of this.held.values()) n += v;
    return n;
  }

  /** Deletes every file still held (the shard's end). */
  clear(): void {
    for (const p of this.held.keys()) rmSync(join(this.dir, p), { force: true });
    this.held.clear();
  }

  private reason(p: string, e: unknown): string {
    const where = `s3://${this.bucket.bucket}/${keyOf(this.bucket, p)}`;
    const s3e = s3ErrorOf(e);
    if (s3e !== undefined && (s3e.status === 404 || s3e.code === 'NoSuchKey'))
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
      if (e instanceof RetryableError || s3ErrorOf(e) !== undefined) throw e;
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
}
