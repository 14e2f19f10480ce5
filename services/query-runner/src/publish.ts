// Results in an S3-compatible bucket (docs/adr/0013-s3-results.md): the files the writer finished on local scratch,
// each uploaded under the job's prefix (a multipart upload in bounded memory, aborted on failure, so a crash leaves
// no half object), the provenance manifest last, so a listed manifest means every result object is complete. A
// retry uploads the same bytes to the same keys. `--delete` removes the prefix at destruction.

import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import type { ResultFile } from './output.js';
import { S3Client, S3Error } from '@skyport/s3';
import type { Credentials } from '@skyport/s3/sigv4';
import { SpecError, type S3Output } from './spec.js';

/** The keys from the pod's environment (a Secret's keys by secretKeyRef). */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Credentials {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (
    accessKeyId === undefined ||
    accessKeyId === '' ||
    secretAccessKey === undefined ||
    secretAccessKey === ''
  )
    throw new SpecError(['env: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set for spec.output.s3']);
  return { accessKeyId, secretAccessKey };
}

export function s3Client(out: S3Output, credentials: Credentials): S3Client {
  return new S3Client({ ...out, credentials });
}

/**
 * Uploads `files` then `manifest` from `dir` to `<prefix><name>` and checks each object's size; resolves once all
 * are in the bucket.
 */
export async function publish(
  client: S3Client,
  prefix: string,
  dir: string,
  files: readonly ResultFile[],
  manifest: ResultFile,
): Promise<void> {
  for (const f of [...files, manifest]) {
    const key = prefix + f.name;
    const r = await client.upload(key, createReadStream(join(dir, f.name)), { contentType: f.mediaType });
    const head = await client.head(key);
    if (r.bytes !== f.bytes || head?.size !== f.bytes)
      throw new S3Error(
        0,
        'SizeMismatch',
        `s3://${client.bucket}/${key}: ${head?.size ?? 'no object'} bytes in the bucket, ${f.bytes} written`,
      );
  }
}
