// TAP result links for a Catalog whose results are in a bucket, against a real S3-compatible server (versitygw):
// the object the query runner publishes for a QueryJob (key layout of the operator's s3Prefix) is reached by the
// presigned URL the TAP service hands out, without credentials, until the URL's short lifetime ends (fake clock).

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type S3Server } from '../../../packages/s3/test/support/s3server.js';
import { S3Results } from '../src/s3results.js';

let s3: S3Server;
beforeAll(async () => {
  s3 = await startS3('tap-results');
}, 600_000);
afterAll(async () => {
  await s3?.stop();
});

describe('S3Results', () => {
  const job = { objectDir: 'user-jsmith/gold-sample/0f3c1a2b-1111-2222-3333-444455556666' };
  const cfg = () => ({
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    region: s3.region,
    forcePathStyle: true,
    prefix: 'skyport-results',
  });

  it('keys results as <prefix>/<namespace>/<queryjob>/<uid>/<file>, the operator layout', () => {
    const r = new S3Results(cfg(), s3.credentials, 900);
    expect(r.key(job, 'result.csv')).toBe(
      'skyport-results/user-jsmith/gold-sample/0f3c1a2b-1111-2222-3333-444455556666/result.csv',
    );
    expect(new S3Results({ ...cfg(), prefix: '' }, s3.credentials, 900).key(job, 'r.fits')).toBe(
      'user-jsmith/gold-sample/0f3c1a2b-1111-2222-3333-444455556666/r.fits',
    );
    expect(r.url({}, 'result.csv')).toBeUndefined();
  });

  it('a presigned link serves the object with no credentials, then expires with the configured lifetime', async () => {
    let t = Date.now();
    const r = new S3Results(cfg(), s3.credentials, 900, () => t);
    const body = randomBytes(10_000);
    await s3.client().put(r.key(job, 'result.csv') ?? '', body, 'text/csv');
    const url = r.url(job, 'result.csv') ?? '';
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('900');
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-disposition')).toBe('attachment; filename="result.csv"');
    expect(Buffer.from(await ok.arrayBuffer()).equals(body)).toBe(true);
    // Minted 901 s ago: past its lifetime.
    t = Date.now() - 901_000;
    expect((await fetch(r.url(job, 'result.csv') ?? '')).status).toBe(403);
    // A link to another user's job is not derivable from this one: the key is in the signature.
    const other = url.replace('gold-sample', 'other-job');
    expect((await fetch(other)).status).toBe(403);
  });
});
