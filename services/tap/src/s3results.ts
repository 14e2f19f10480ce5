// Result URLs when the Catalog keeps results in an S3-compatible bucket (docs/adr/0013-s3-results.md): the
// result's owner is redirected to a SigV4 presigned GET of the object the query runner published, valid for the
// same short lifetime as this service's own signed URLs; the bucket serves the bytes. The key layout is the
// operator's (controllers/queryjob/build.ts s3Prefix): `<prefix>/<namespace>/<queryjob>/<uid>/<file>`.

import { S3Client } from '@skyport/s3';
import type { Job } from './jobs.js';

/** TAP_RESULTS_S3_*: where the Catalog's results are. */
export interface S3ResultsConfig {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
  /** The Catalog's key prefix (no leading or trailing slash; empty for the bucket root). */
  readonly prefix: string;
}

/** Presigned URLs of a catalog's results. */
export class S3Results {
  private readonly client: S3Client;

  constructor(
    private readonly cfg: S3ResultsConfig,
    credentials: { accessKeyId: string; secretAccessKey: string },
    private readonly lifetimeSeconds: number,
    now: () => number = Date.now,
  ) {
    this.client = new S3Client({ ...cfg, credentials, now: () => new Date(now()) });
  }

  /** The object key of a job's result file; undefined for a job with no QueryJob identity (the memory store). */
  key(job: Pick<Job, 'objectDir'>, file: string): string | undefined {
    if (job.objectDir === undefined) return undefined;
    return `${this.cfg.prefix === '' ? '' : this.cfg.prefix + '/'}${job.objectDir}/${file}`;
  }

  /** A presigned GET of the result, downloaded as `file`; undefined when the job has no object key. */
  url(job: Pick<Job, 'objectDir'>, file: string): string | undefined {
    const key = this.key(job, file);
    return key === undefined ? undefined : this.client.presignGet(key, this.lifetimeSeconds, file);
  }
}
