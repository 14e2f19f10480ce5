// Request bodies as text: Content-Encoding (gzip, deflate, br) and the declared charset decoded, and lines split in
// linear time under a length cap, so one long line costs O(its length) and never more than the cap in memory; a
// refused body is drained for a while so the client can read the error (lingering close).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { HttpError } from './errors.js';

/** Charsets text bodies may declare (`charset=` of Content-Type); utf-8 when none is given. */
export type Charset = 'utf-8' | 'latin1';

/** Longest accepted input line (CSV row or NDJSON object), in bytes before decoding the charset. */
export const MAX_LINE_BYTES = 1 << 20;

/** Content-Encoding values this service decodes, with the zlib stream for each. */
const DECODERS = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
} as const;

/** Charset labels accepted, by their lowercase name. US-ASCII is a subset of both. */
const CHARSETS: Record<string, Charset> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'us-ascii': 'utf-8',
  ascii: 'utf-8',
  latin1: 'latin1',
  'iso-8859-1': 'latin1',
  iso8859_1: 'latin1',
  'iso_8859-1': 'latin1',
  'iso8859-1': 'latin1',
  l1: 'latin1',
};

/** The charset a Content-Type declares, or a 415 naming an unsupported one. */
export function charsetOf(contentType: string | undefined): Charset {
  const params = (contentType ?? '').split(';').slice(1);
  for (const p of params) {
    const [k, v] = p.split('=', 2).map((s) => s.trim());
    if (k?.toLowerCase() !== 'charset' || v === undefined) continue;
    const name = v.replace(/^"(.*)"$/, '$1').toLowerCase();
    const cs = CHARSETS[name];
    if (cs === undefined)
      throw new HttpError(
        415,
        'UnsupportedCharset',
        `Content-Type charset ${JSON.stringify(name)} is not supported (utf-8, us-ascii, latin1/iso-8859-1)`,
        { field: 'Content-Type', charset: name },
      );
    return cs;
  }
  return 'utf-8';
}

/**
 * The request body with its Content-Encoding undone (codings are listed in the order they were applied, so they
 * are removed last first); a 415 names a coding this service does not decode. A corrupt compressed body fails
 * the iteration with a 400 `InvalidContentEncoding` naming the coding.
 */
export function decodedBody(req: Readable & { headers: Record<string, unknown> }): AsyncIterable<Uint8Array> {
  const raw = req.headers['content-encoding'];
  const codings = (typeof raw === 'string' ? raw : '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  // A parser that stops early (a refused body) must leave the request readable: the error handler drains the rest
  // so the client can finish sending and read the error (see app.ts).
  if (codings.length === 0) return req.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>;
  const streams = codings.reverse().map((c) => {
    if (!Object.hasOwn(DECODERS, c))
      throw new HttpError(
        415,
        'UnsupportedContentEncoding',
        `Content-Encoding ${JSON.stringify(c)} is not supported (gzip, deflate, br, identity)`,
        { field: 'Content-Encoding', encoding: c },
      );
    return { coding: c, stream: DECODERS[c as keyof typeof DECODERS]() };
  });
  let out: Readable = req;
  const failed: { coding?: string } = {};
  for (const { coding, stream } of streams) {
    // pipeline destroys every stage on an error; which decoder failed is kept for the client's message.
    stream.once('error', () => (failed.coding ??= coding));
    out = pipeline(out, stream, () => undefined);
  }
  return iterate(out, failed);
}

/** Iterates the decoded body; a decoder's failure becomes a 400 naming the coding. */
async function* iterate(s: Readable, failed: { coding?: string }): AsyncGenerator<Uint8Array> {
  try {
    for await (const b of s.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>) yield b;
  } catch (err) {
    if (err instanceof HttpError || failed.coding === undefined) throw err;
    throw new HttpError(
      400,
      'InvalidContentEncoding',
      `body is not valid ${failed.coding}: ${err instanceof Error ? err.message : String(err)}`,
      { field: 'Content-Encoding', encoding: failed.coding },
    );
  }
}

export function lineTooLong(line: number, limit: number): HttpError {
  return new HttpError(413, 'LineTooLong', `line ${line} is longer than the limit of ${limit} bytes`, {
    line,
    limit,
  });
}

/**
 * Splits bytes into lines (a trailing CR is dropped). Each byte is looked at a constant number of times: a partial
 * line is kept as a list of pieces and joined once when its newline arrives, and a line longer than `maxLineBytes`
 * fails as soon as that many bytes of it have arrived (or, inside one buffer, before it is decoded).
 */
export class LineSplitter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Lines handed out so far (the next line's number is `lines + 1`). */
  lines = 0;

  constructor(
    readonly charset: Charset = 'utf-8',
    readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  /** The complete lines `buf` finishes, decoded. */
  push(buf: Uint8Array): string[] {
    const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    const first = b.indexOf(10);
    if (first < 0) {
      this.hold(b);
      return [];
    }
    if (this.pendingBytes + first > this.maxLineBytes) throw lineTooLong(this.lines + 1, this.maxLineBytes);
    const out: string[] = [];
    if (this.pendingBytes > 0) {
      this.pending.push(b.subarray(0, first));
      out.push(this.decode(Buffer.concat(this.pending)));
      this.pending = [];
      this.pendingBytes = 0;
    } else out.push(this.decode(b.subarray(0, first)));
    this.lines++;
    const last = b.lastIndexOf(10);
    if (last > first) {
      // The lines between the first and the last newline are decoded and split at once (a newline byte is never
      // part of a UTF-8 or latin1 character); only a region longer than the cap can hold a line over it.
      const region = b.subarray(first + 1, last);
      if (region.length > this.maxLineBytes) this.checkRegion(region);
      for (const line of region.toString(this.encoding).split('\n'))
        out.push(line.endsWith('\r') ? line.slice(0, -1) : line);
      this.lines = this.lines + out.length - 1;
    }
    this.hold(b.subarray(last + 1));
    return out;
  }

  /** Throws for the first line of `region` (complete lines, after line `this.lines`) longer than the cap. */
  private checkRegion(region: Buffer): void {
    let start = 0;
    for (let n = this.lines + 1; start <= region.length; n++) {
      let nl = region.indexOf(10, start);
      if (nl < 0) nl = region.length;
      if (nl - start > this.maxLineBytes) throw lineTooLong(n, this.maxLineBytes);
      start = nl + 1;
    }
  }

  /** Keeps the start of an unfinished line (a copy: the caller may reuse its buffer). */
  private hold(b: Buffer): void {
    if (b.length === 0) return;
    this.pendingBytes += b.length;
    if (this.pendingBytes > this.maxLineBytes) throw lineTooLong(this.lines + 1, this.maxLineBytes);
    this.pending.push(Buffer.from(b));
  }

  /** The last line, when the body does not end with a newline. */
  end(): string | null {
    if (this.pendingBytes === 0) return null;
    const s = this.decode(Buffer.concat(this.pending));
    this.pending = [];
    this.pendingBytes = 0;
    this.lines++;
    return s;
  }

  private get encoding(): 'latin1' | 'utf8' {
    return this.charset === 'latin1' ? 'latin1' : 'utf8';
  }

  private decode(b: Buffer): string {
    const n = b.length > 0 && b[b.length - 1] === 13 ? b.length - 1 : b.length;
    return b.toString(this.encoding, 0, n);
  }
}

/** How long a refused request's remaining body is read and discarded before its connection is closed. */
const LINGER_MS = 2000;

/**
 * The client may still be sending a refused body. Closing at once makes many clients (fetch among them) fail on a
 * reset connection without reading the error, so the rest is read and discarded for up to {@link LINGER_MS}
 * after the response (a lingering close, as nginx does). A body that ends in time leaves a clean keep-alive
 * connection; one still arriving then has its connection closed. (Not `Connection: close`: node would close the
 * socket as soon as the response is written.)
 */
export function lingerThenClose(req: IncomingMessage, res: ServerResponse): void {
  res.once('finish', () => {
    if (req.complete) return;
    const socket = req.socket;
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    // A parser may have left the body piped into a decoder.
    req.unpipe();
    req.resume();
  });
}
