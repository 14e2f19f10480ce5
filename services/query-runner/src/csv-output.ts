// CSV/TSV result files from COPY's text (csv-copy.ts), without decoding a value: the bytes go to the file
// as they arrive, each record's line feed written as CR LF (RFC 4180; a line feed inside a quoted field
// stays as it is). Record boundaries (records.ts) give the row count, the maxRecords cut (the one record
// past maxRecords is the overflow flag and is not written) and the split points: with splitMaxBytes a part
// ends after the first record that brings it to splitMaxBytes, and the next part starts with the header
// line again — so the parts do not depend on how the stream was chunked. gzip, sha256 and the renaming
// into place are output.ts's, as for every format.

import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import {
  checkOutput,
  complete,
  partialPath,
  removePartials,
  type OutputOptions,
  type ResultSummary,
} from './files.js';
import { RecordScanner } from './records.js';

const CRLF = Buffer.from('\r\n');

/** Options of {@link writeCsvResult}: the output's, with the format csv or tsv, and maxRecords. */
export interface CsvOutputOptions extends OutputOptions {
  readonly format: 'csv' | 'tsv';
  /** The stream holds at most maxRecords + 1 records; one past maxRecords means OVERFLOW. */
  readonly maxRecords?: number;
}

interface Part {
  readonly n: number;
  readonly fh: FileHandle;
  readonly hash: Hash;
  bytes: number;
  rows: number;
}

/** Bytes gathered before a write: a few COPY chunks (64 KiB each) per write call. */
const WRITE_BYTES = 1 << 20;

/** The parts being written: bytes gathered per chunk, then written to the current part at once. */
class Parts {
  readonly done: { n: number; rows: number; sha256: string }[] = [];
  /** The header line (with its CR LF), repeated at the top of every part. */
  readonly header: Buffer[] = [];
  /** Bytes of the finished parts. */
  before = 0;
  /**
   * Bytes gathered for the current part, copied into one buffer reused for every write: no garbage per
   * chunk, so memory stays flat (external buffers are collected late).
   */
  private out = Buffer.allocUnsafeSlow(WRITE_BYTES * 2);
  private pending = 0;

  private constructor(
    private readonly opts: CsvOutputOptions,
    public part: Part,
  ) {}

  static async open(opts: CsvOutputOptions): Promise<Parts> {
    return new Parts(opts, await Parts.openPart(opts, 1));
  }

  private static async openPart(opts: CsvOutputOptions, n: number): Promise<Part> {
    const split = opts.splitMaxBytes !== undefined;
    const raw = partialPath(opts, split ? n : 0);
    return { n, fh: await open(raw, 'w'), hash: createHash('sha256'), bytes: 0, rows: 0 };
  }

  /** Bytes of the current part, written and gathered. */
  get bytes(): number {
    return this.part.bytes + this.pending;
  }

  add(b: Buffer): void {
    if (this.pending + b.length > this.out.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.out.length * 2, this.pending + b.length));
      this.out.copy(bigger, 0, 0, this.pending);
      this.out = bigger;
    }
    b.copy(this.out, this.pending);
    this.pending += b.length;
  }

  /** Writes what was gathered to the current part once there is enough of it (or `force`). */
  async flush(force = false): Promise<void> {
    if (this.pending === 0 || (!force && this.pending < WRITE_BYTES)) return;
    const b = this.out.subarray(0, this.pending);
    this.part.hash.update(b);
    await this.part.fh.write(b, 0, b.length, this.part.bytes);
    this.part.bytes += b.length;
    this.pending = 0;
  }

  /** Ends the current part. */
  async close(): Promise<void> {
    await this.flush(true);
    await this.part.fh.close();
    this.done.push({ n: this.part.n, rows: this.part.rows, sha256: this.part.hash.digest('hex') });
    this.before += this.part.bytes;
  }

  /** Ends the current part and starts the next with the header line. */
  async next(): Promise<void> {
    await this.close();
    this.part = await Parts.openPart(this.opts, this.part.n + 1);
    for (const h of this.header) this.add(h);
  }
}

/** Where the stream is: header, rows counted, the maxRecords cut, the split. */
class Records {
  headerDone = false;
  rows = 0;
  overflow = false;
  /** Set when the current part is full: the next record starts a new one. */
  private full = false;
  /** Whether the last chunk ended inside a record. */
  tail = false;

  constructor(
    private readonly p: Parts,
    private readonly max: number,
    private readonly limit: number,
  ) {}

  /** Takes one chunk whose record ends (offsets of their line feeds) are `ends`. */
  async take(chunk: Buffer, ends: readonly number[]): Promise<void> {
    const p = this.p;
    let start = 0;
    for (const lf of ends) {
      if (!this.headerDone) {
        p.header.push(Buffer.from(chunk.subarray(start, lf)), CRLF);
        for (const h of p.header) p.add(h);
        this.headerDone = true;
      } else if (this.rows === this.max) {
        this.overflow = true; // the record past maxRecords: not written
        return;
      } else {
        if (this.full) await p.next();
        p.add(chunk.subarray(start, lf));
        p.add(CRLF);
        this.rows++;
        p.part.rows++;
        this.full = p.bytes >= this.limit;
      }
      start = lf + 1;
    }
    this.tail = start < chunk.length;
    if (!this.tail) return;
    if (!this.headerDone) p.header.push(Buffer.from(chunk.subarray(start)));
    else if (this.rows === this.max)
      this.overflow = true; // the record past maxRecords begins
    else {
      if (this.full) await p.next(); // a record starts here: it belongs to the next part
      this.full = false;
      p.add(chunk.subarray(start));
    }
  }
}

/**
 * Writes COPY's CSV/TSV text (`chunks`, header line first) as the result files and renames them into
 * place once complete; on an error the `.partial` files are removed and the error passes on. `check`
 * runs before each chunk is written (the run's stop: it throws).
 */
export async function writeCsvResult(
  chunks: AsyncIterable<Buffer> | Iterable<Buffer>,
  opts: CsvOutputOptions,
  check: () => void = () => undefined,
): Promise<{ summary: ResultSummary; overflow: boolean }> {
  checkOutput(opts);
  const scanner = new RecordScanner();
  let parts: Parts | undefined;
  let closed = false;
  try {
    const p = (parts = await Parts.open(opts));
    const r = new Records(p, opts.maxRecords ?? Infinity, opts.splitMaxBytes ?? Infinity);
    const ends: number[] = [];
    for await (const chunk of chunks) {
      check();
      ends.length = 0;
      scanner.scan(chunk, ends);
      await r.take(chunk, ends);
      await p.flush();
      opts.onProgress?.({ rows: r.rows, bytes: p.before + p.bytes });
      if (r.overflow) break;
    }
    if (!r.overflow && (scanner.inQuotes || r.tail || !r.headerDone)) {
      throw new Error('CSV COPY: the stream ended inside a record');
    }
    closed = true;
    await p.close();
    const split = opts.splitMaxBytes !== undefined;
    return { summary: await complete(p.done, split, mediaType(opts), opts), overflow: r.overflow };
  } catch (err) {
    if (!closed) await parts?.part.fh.close().catch(() => undefined);
    await removePartials(opts.dir, opts.stem).catch(() => undefined);
    throw err;
  }
}

function mediaType(opts: CsvOutputOptions): string {
  return opts.format === 'csv' ? 'text/csv; header=present' : 'text/tab-separated-values';
}
