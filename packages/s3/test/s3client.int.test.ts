// The S3 client against a real S3-compatible server (versitygw): every call result storage makes, multipart
// uploads in parts, ranged reads, presigned URLs fetched with no credentials, and a failed upload leaving nothing.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_BYTES, S3Error } from '../src/client.js';
import { startS3, type S3Server } from './support/s3server.js';

let s3: S3Server;
beforeAll(async () => {
  s3 = await startS3();
}, 600_000);
afterAll(async () => {
  await s3?.stop();
});

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A stream of `total` deterministic bytes in odd-sized chunks (so parts never align with chunks). */
function source(total: number, seed = 7): { stream: Readable; bytes: Buffer } {
  const bytes = Buffer.alloc(total);
  let x = seed;
  for (let i = 0; i < total; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  function* gen(): Generator<Buffer> {
    for (let off = 0; off < total; off += 777_777) yield bytes.subarray(off, Math.min(total, off + 777_777));
  }
  return { stream: Readable.from(gen()), bytes };
}

describe('S3Client on versitygw', () => {
  it('PUT, HEAD, GET with Range, list and DELETE', async () => {
    const c = s3.client();
    const body = Buffer.from('0123456789abcdefghij');
    await c.put('t1/a b+é.txt', body, 'text/plain');
    await c.put('t1/z.txt', Buffer.from('z'));
    expect(await c.head('t1/a b+é.txt')).toMatchObject({ size: 20 });
    expect(await c.head('t1/missing')).toBeUndefined();
    expect((await c.getBytes('t1/a b+é.txt')).toString()).toBe(body.toString());
    const part = await c.get('t1/a b+é.txt', [5, 9]);
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).toString()).toBe('56789');
    expect((await c.getBytes('t1/a b+é.txt', [15])).toString()).toBe('fghij');
    const listed = [];
    for await (const o of c.list('t1/')) listed.push([o.key, o.size]);
    expect(listed).toEqual([
      ['t1/a b+é.txt', 20],
      ['t1/z.txt', 1],
    ]);
    await c.delete('t1/z.txt');
    await c.delete('t1/z.txt'); // a second delete is not an error
    expect(await c.head('t1/z.txt')).toBeUndefined();
  });

  it('uploads a stream larger than a part as a multipart upload with identical bytes', async () => {
    const c = s3.client();
    const { stream, bytes } = source(2 * MIN_PART_BYTES + 123_457);
    const r = await c.upload('t2/big.bin', stream, { partBytes: MIN_PART_BYTES });
    expect(r.bytes).toBe(bytes.length);
    // A multipart ETag is `<md5 of the part md5s>-<parts>`.
    expect(r.etag).toMatch(/-3"?$/);
    expect(sha(await c.getBytes('t2/big.bin'))).toBe(sha(bytes));
    const tail = await c.getBytes('t2/big.bin', [bytes.length - 10, bytes.length - 1]);
    expect(tail.equals(bytes.subarray(bytes.length - 10))).toBe(true);
  });

  it('uploads a small stream in one PUT, and an empty one as an empty object', async () => {
    const c = s3.client();
    const { stream, bytes } = source(1000);
    await c.upload('t3/small.bin', stream);
    expect((await c.getBytes('t3/small.bin')).equals(bytes)).toBe(true);
    await c.upload('t3/empty.bin', Readable.from([]));
    expect(await c.head('t3/empty.bin')).toMatchObject({ size: 0 });
  });

  it('a source failing mid-upload aborts the multipart upload: no object, no upload left', async () => {
    const c = s3.client();
    const { bytes } = source(3 * MIN_PART_BYTES);
    async function* failing(): AsyncGenerator<Buffer> {
      yield bytes.subarray(0, 2 * MIN_PART_BYTES + 10);
      await new Promise((r) => setImmediate(r));
      throw new Error('disk gone');
    }
    await expect(c.upload('t4/half.bin', failing(), { partBytes: MIN_PART_BYTES })).rejects.toThrow(
      'disk gone',
    );
    expect(await c.head('t4/half.bin')).toBeUndefined();
    expect(await c.listMultipart('t4/')).toEqual([]);
  });

  it('deletePrefix removes objects and unfinished uploads under the prefix only', async () => {
    const c = s3.client();
    await c.put('t5/job/a', Buffer.from('a'));
    await c.put('t5/job/b/c', Buffer.from('c'));
    await c.put('t5/jobber', Buffer.from('keep'));
    expect(await c.deletePrefix('t5/job/')).toBe(2);
    const left = [];
    for await (const o of c.list('t5/')) left.push(o.key);
    expect(left).toEqual(['t5/jobber']);
    await expect(c.deletePrefix('t5/job')).rejects.toThrow(/ending in \//);
  });

  it('a presigned GET works without credentials until it expires, and not for another key', async () => {
    const body = randomBytes(4096);
    await s3.client().put('t6/r.bin', body);
    let now = new Date();
    const c = s3.client({ now: () => now });
    const url = c.presignGet('t6/r.bin', 60, 'r.bin');
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-disposition')).toBe('attachment; filename="r.bin"');
    expect(Buffer.from(await ok.arrayBuffer()).equals(body)).toBe(true);
    // Signed 2 minutes ago for 60 s: the server refuses it.
    now = new Date(Date.now() - 120_000);
    expect((await fetch(c.presignGet('t6/r.bin', 60))).status).toBe(403);
    // Another key with the same signature.
    expect((await fetch(url.replace('t6/r.bin', 't6/other.bin'))).status).toBe(403);
  });

  it('wrong keys are refused with S3 error codes', async () => {
    const c = s3.client({ credentials: { ...s3.credentials, secretAccessKey: 'wrong' } });
    const err = await c.put('t7/x', Buffer.from('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3Error);
    expect((err as S3Error).status).toBe(403);
    expect((err as S3Error).code).toBe('SignatureDoesNotMatch');
    expect((err as S3Error).transient).toBe(false);
  });
});
