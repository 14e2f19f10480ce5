// A small typed S3 client over fetch and sigv4.ts: the calls result storage needs (PUT, multipart upload in
// bounded memory, ranged GET, HEAD, DELETE, list, presigned GET) against AWS S3 or any S3-compatible server
// (path-style addressing for those without per-bucket host names). docs/adr/0013-s3-results.md.

import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { EMPTY_SHA256, presignQuery, signHeaders, uriEncode, type Credentials } from './sigv4.js';

/** Where a bucket is and how to reach it. */
export interface S3Location {
  /** `https://s3.eu-west-1.amazonaws.com`, `http://127.0.0.1:7070`, … (no path). */
  readonly endpoint: string;
  readonly bucket: string;
  /** SigV4 region (`us-east-1` for most S3-compatible servers). */
  readonly region: string;
  /** `<endpoint>/<bucket>/<key>` instead of `<bucket>.<endpoint host>/<key>`. */
  readonly forcePathStyle: boolean;
}

export interface S3ClientOptions extends S3Location {
  readonly credentials: Credentials;
  /** The clock signatures use (tests pass a fake one). */
  readonly now?: () => Date;
  /** Per-request timeout (ms): 60,000 by default. */
  readonly timeoutMs?: number;
}

/** An object as HEAD or a listing describes it. */
export interface S3Object {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
}

/** Smallest multipart part S3 accepts (all but the last). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** Most parts one multipart upload may have. */
export const MAX_PARTS = 10_000;

/** An S3 error response (or a failed exchange), with S3's code when it sent one. */
export class S3Error extends Error {
  override readonly name = 'S3Error';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
  /** 5xx, 429, throttling and network failures: worth another attempt. */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429 || this.code === 'SlowDown';
  }
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function unxml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_m, e: string) =>
    e.startsWith('#x')
      ? String.fromCodePoint(parseInt(e.slice(2), 16))
      : e.startsWith('#')
        ? String.fromCodePoint(Number(e.slice(1)))
        : (XML_ENTITIES[e] ?? ''),
  );
}
/** Text of every `<tag>…</tag>` in `xml` (S3's responses are flat enough for this). */
function tags(xml: string, tag: string): string[] {
  const re = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g');
  return [...xml.matchAll(re)].map((m) => unxml(m[1] ?? ''));
}
const tag = (xml: string, t: string): string | undefined => tags(xml, t)[0];

interface Request {
  readonly method: 'GET' | 'PUT' | 'POST' | 'HEAD' | 'DELETE';
  /** Object key; undefined for the bucket itself. */
  readonly key?: string;
  readonly query?: readonly (readonly [string, string])[];
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  /** Statuses that are not errors (default: 2xx). */
  readonly ok?: readonly number[];
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** The S3 calls result storage makes. One instance per bucket. */
export class S3Client {
  private readonly base: URL;
  private readonly now: () => Date;

  constructor(private readonly o: S3ClientOptions) {
    const u = new URL(o.endpoint);
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new RangeError(`endpoint: must be http(s), got ${o.endpoint}`);
    if (u.pathname !== '/' || u.search !== '')
      throw new RangeError(`endpoint: must have no path or query, got ${o.endpoint}`);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(o.bucket))
      throw new RangeError(`bucket: '${o.bucket}' is not a valid bucket name`);
    this.base = u;
    this.now = o.now ?? ((): Date => new Date());
  }

  get bucket(): string {
    return this.o.bucket;
  }

  /** Host and encoded path of `key` (or the bucket). */
  private target(key: string | undefined): { host: string; path: string; origin: string } {
    const k = key === undefined ? '' : uriEncode(key, true);
    if (this.o.forcePathStyle)
      return { host: this.base.host, path: `/${this.o.bucket}/${k}`, origin: this.base.origin };
    const host = `${this.o.bucket}.${this.base.host}`;
    return { host, path: `/${k}`, origin: `${this.base.protocol}//${host}` };
  }

  private async send(r: Request): Promise<globalThis.Response> {
    const t = this.target(r.key);
    const body = r.body ?? Buffer.alloc(0);
    const headers = signHeaders({
      method: r.method,
      host: t.host,
      path: t.path,
      query: r.query ?? [],
      headers: { ...r.headers, ...(r.body === undefined ? {} : { 'content-length': String(body.length) }) },
      payloadSha256: r.body === undefined ? EMPTY_SHA256 : sha256(body),
      region: this.o.region,
      credentials: this.o.credentials,
      now: this.now(),
    });
    const qs = (r.query ?? []).map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&');
    const url = `${t.origin}${t.path}${qs === '' ? '' : '?' + qs}`;
    // fetch sets content-length itself and refuses it among the headers.
    const { 'content-length': _cl, ...send } = headers;
    let res: globalThis.Response;
    try {
      res = await fetch(url, {
        method: r.method,
        headers: send,
        ...(r.body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 60_000),
      });
    } catch (err) {
      throw new S3Error(0, 'NetworkError', `${r.method} ${url}: ${(err as Error).message}`);
    }
    if (res.ok || (r.ok ?? []).includes(res.status)) return res;
    const text = r.method === 'HEAD' ? '' : await res.text().catch(() => '');
    const code = tag(text, 'Code') ?? `HTTP${res.status}`;
    const msg = tag(text, 'Message') ?? res.statusText;
    throw new S3Error(res.status, code, `${r.method} s3://${this.o.bucket}/${r.key ?? ''}: ${code}: ${msg}`);
  }

  /** Creates the bucket (test set-up; an admin creates production buckets). An existing one of ours is fine. */
  async createBucket(): Promise<void> {
    try {
      await this.send({ method: 'PUT' });
    } catch (err) {
      if (!(err instanceof S3Error && err.code === 'BucketAlreadyOwnedByYou')) throw err;
    }
  }

  /** Stores `body` as `key` in one request (up to 5 GiB; the result writer uses {@link upload}). */
  async put(key: string, body: Buffer, contentType = 'application/octet-stream'): Promise<string> {
    const res = await this.send({ method: 'PUT', key, body, headers: { 'content-type': contentType } });
    await res.arrayBuffer();
    return res.headers.get('etag') ?? '';
  }

  /**
   * Stores a stream as `key`: one PUT when it fits in one part, else a multipart upload holding one part
   * (`partBytes`, ≥ 5 MiB) in memory at a time, two while deciding. The object appears only when the upload completes; any
   * failure aborts the multipart upload, so no part of it stays.
   */
  async upload(
    key: string,
    source: AsyncIterable<Buffer | Uint8Array> | Readable,
    opts: { contentType?: string; partBytes?: number } = {},
  ): Promise<{ bytes: number; etag: string }> {
    const partBytes = opts.partBytes ?? 8 * 1024 * 1024;
    if (!(Number.isSafeInteger(partBytes) && partBytes >= MIN_PART_BYTES))
      throw new RangeError(`partBytes: must be at least ${MIN_PART_BYTES}, got ${partBytes}`);
    const contentType = opts.contentType ?? 'application/octet-stream';
    const parts = chunks(source as AsyncIterable<Uint8Array>, partBytes);
    const first = await parts.next();
    const firstPart = first.done === true ? Buffer.alloc(0) : first.value;
    const second = first.done === true ? first : await parts.next();
    if (second.done === true) {
      return { bytes: firstPart.length, etag: await this.put(key, firstPart, contentType) };
    }
    const uploadId = await this.createMultipart(key, contentType);
    try {
      const etags: string[] = [];
      let bytes = 0;
      const send = async (b: Buffer): Promise<void> => {
        if (etags.length >= MAX_PARTS) throw new RangeError(`upload: more than ${MAX_PARTS} parts`);
        etags.push(await this.uploadPart(key, uploadId, etags.length + 1, b));
        bytes += b.length;
      };
      await send(firstPart);
      await send(second.value);
      for await (const b of { [Symbol.asyncIterator]: () => parts }) await send(b);
      const etag = await this.completeMultipart(key, uploadId, etags);
      return { bytes, etag };
    } catch (err) {
      await this.abortMultipart(key, uploadId).catch(() => undefined);
      throw err;
    }
  }

  private async createMultipart(key: string, contentType: string): Promise<string> {
    const res = await this.send({
      method: 'POST',
      key,
      query: [['uploads', '']],
      headers: { 'content-type': contentType },
    });
    const id = tag(await res.text(), 'UploadId');
    if (id === undefined) throw new S3Error(res.status, 'NoUploadId', `POST ${key}?uploads: no UploadId`);
    return id;
  }

  private async uploadPart(key: string, uploadId: string, n: number, body: Buffer): Promise<string> {
    const res = await this.send({
      method: 'PUT',
      key,
      query: [
        ['partNumber', String(n)],
        ['uploadId', uploadId],
      ],
      body,
    });
    await res.arrayBuffer();
    const etag = res.headers.get('etag');
    if (etag === null) throw new S3Error(res.status, 'NoETag', `part ${n} of ${key}: no ETag`);
    return etag;
  }

  private async completeMultipart(key: string, uploadId: string, etags: readonly string[]): Promise<string> {
    const xml =
      '<CompleteMultipartUpload>' +
      etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('') +
      '</CompleteMultipartUpload>';
    const res = await this.send({
      method: 'POST',
      key,
      query: [['uploadId', uploadId]],
      body: Buffer.from(xml),
      headers: { 'content-type': 'application/xml' },
    });
    // S3 may answer 200 with an <Error> body when completion fails late.
    const text = await res.text();
    const code = tag(text, 'Code');
    if (code !== undefined && text.includes('<Error>'))
      throw new S3Error(res.status, code, `complete ${key}: ${code}: ${tag(text, 'Message') ?? ''}`);
    return tag(text, 'ETag') ?? '';
  }

  /** Drops an unfinished multipart upload and its parts. */
  async abortMultipart(key: string, uploadId: string): Promise<void> {
    const res = await this.send({
      method: 'DELETE',
      key,
      query: [['uploadId', uploadId]],
      ok: [404],
    });
    await res.arrayBuffer();
  }

  /** Unfinished multipart uploads under `prefix` (key and upload id). */
  async listMultipart(prefix: string): Promise<{ key: string; uploadId: string }[]> {
    const res = await this.send({
      method: 'GET',
      query: [
        ['prefix', prefix],
        ['uploads', ''],
      ],
    });
    const xml = await res.text();
    return tags(xml, 'Upload').map((u) => ({ key: tag(u, 'Key') ?? '', uploadId: tag(u, 'UploadId') ?? '' }));
  }

  /**
   * The object's body as a stream; `range` is inclusive `[first, last]` byte offsets (a 206 answer), or
   * `[first]` for the rest from `first`.
   */
  async get(key: string, range?: readonly [number, number?]): Promise<globalThis.Response> {
    const r =
      range === undefined ? {} : { range: `bytes=${range[0]}-${range[1] === undefined ? '' : range[1]}` };
    return this.send({ method: 'GET', key, headers: r });
  }

  /** The object's bytes (small objects: manifests, tests). */
  async getBytes(key: string, range?: readonly [number, number?]): Promise<Buffer> {
    return Buffer.from(await (await this.get(key, range)).arrayBuffer());
  }

  /** Size and ETag, or undefined when there is no such object. */
  async head(key: string): Promise<S3Object | undefined> {
    const res = await this.send({ method: 'HEAD', key, ok: [404] });
    if (res.status === 404) return undefined;
    return {
      key,
      size: Number(res.headers.get('content-length') ?? '0'),
      etag: res.headers.get('etag') ?? '',
    };
  }

  /** Deletes `key`; a missing key is not an error (S3 answers 204 either way). */
  async delete(key: string): Promise<void> {
    const res = await this.send({ method: 'DELETE', key, ok: [404] });
    await res.arrayBuffer();
  }

  /** Every object under `prefix` (ListObjectsV2, all pages), in key order. */
  async *list(prefix: string): AsyncGenerator<S3Object> {
    let token: string | undefined;
    do {
      const res = await this.send({
        method: 'GET',
        query: [
          ['list-type', '2'],
          ['prefix', prefix],
          ...(token === undefined ? [] : [['continuation-token', token] as const]),
        ],
      });
      const xml = await res.text();
      for (const c of tags(xml, 'Contents'))
        yield { key: tag(c, 'Key') ?? '', size: Number(tag(c, 'Size') ?? '0'), etag: tag(c, 'ETag') ?? '' };
      token = tag(xml, 'IsTruncated') === 'true' ? tag(xml, 'NextContinuationToken') : undefined;
    } while (token !== undefined);
  }

  /** Deletes every object and unfinished upload under `prefix`; returns how many objects went. */
  async deletePrefix(prefix: string): Promise<number> {
    if (prefix === '' || !prefix.endsWith('/'))
      throw new RangeError(`deletePrefix: '${prefix}' must be a non-empty folder prefix ending in /`);
    let n = 0;
    for (const u of await this.listMultipart(prefix)) await this.abortMultipart(u.key, u.uploadId);
    // Collected first: deleting while paging would move the continuation token's ground.
    const keys: string[] = [];
    for await (const o of this.list(prefix)) keys.push(o.key);
    for (const k of keys) {
      await this.delete(k);
      n++;
    }
    return n;
  }

  /** A URL anyone can GET `key` with until `expiresSeconds` from now (SigV4 query authentication). */
  presignGet(key: string, expiresSeconds: number, filename?: string): string {
    const t = this.target(key);
    const query: (readonly [string, string])[] =
      filename === undefined ? [] : [['response-content-disposition', `attachment; filename="${filename}"`]];
    const qs = presignQuery(
      {
        method: 'GET',
        host: t.host,
        path: t.path,
        query,
        region: this.o.region,
        credentials: this.o.credentials,
        now: this.now(),
      },
      expiresSeconds,
    );
    return `${t.origin}${t.path}?${qs}`;
  }
}

/** Re-chunks a byte stream into buffers of exactly `size` bytes (the last one shorter). */
async function* chunks(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let buf = Buffer.allocUnsafe(size);
  let used = 0;
  for await (const c of source) {
    let off = 0;
    while (off < c.length) {
      const n = Math.min(size - used, c.length - off);
      buf.set(c.subarray(off, off + n), used);
      used += n;
      off += n;
      if (used === size) {
        yield buf;
        buf = Buffer.allocUnsafe(size);
        used = 0;
      }
    }
  }
  if (used > 0) yield buf.subarray(0, used);
}
