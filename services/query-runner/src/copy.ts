// The reader's fast path: a query's columns from a Describe (Parse + Describe, nothing executed), and its
// rows from `COPY (<query>) TO STDOUT (FORMAT binary)` (allowed in a READ ONLY transaction), cut into
// batches of PostgreSQL's binary tuples as they came (formats/tuples.ts) — no text parsing, no per-row
// objects: the writers read the bytes (Parquet, FITS) or decode rows from them. The COPY's CopyData
// payloads go from the socket's chunks straight into the decoder's buffers (copy-out.ts: no Buffer per
// row), and the socket pauses while the decoder holds a batch's bytes bound, so memory holds what the
// consumer has not taken yet.

import type pg from 'pg';
import { BINARY_SIZES, TupleBatch, type PgType } from './formats/index.js';

/** A row description field, as pg reports it (pg.FieldDef's members the reader uses). */
export type Field = pg.FieldDef;

interface DescribeConnection {
  parse(q: { text: string; types?: number[] }): void;
  describe(msg: { type: 'S' | 'P'; name?: string }): void;
  sync(): void;
}

/**
 * Parses `sql` as the unnamed statement and describes it: the fields of its row description, or `null`
 * when it returns no rows (NoData: not a query). Nothing is executed. A pg "Submittable".
 */
export function describe(client: pg.Client, sql: string): Promise<Field[] | null> {
  return new Promise((resolve, reject) => {
    let fields: Field[] | null = null;
    const submittable = {
      submit(connection: DescribeConnection): void {
        connection.parse({ text: sql, types: [] });
        connection.describe({ type: 'S', name: '' });
        connection.sync();
      },
      handleRowDescription(msg: { fields: Field[] }): void {
        fields = msg.fields;
      },
      // After an error the client drops its active query: ReadyForQuery reaches this object only on success.
      handleError(err: Error): void {
        reject(err);
      },
      handleReadyForQuery(): void {
        resolve(fields);
      },
      // The client calls these for other messages of the protocol; a Describe gets none of them.
      handleDataRow(): void {},
      handleCommandComplete(): void {},
      handleEmptyQuery(): void {},
      handlePortalSuspended(): void {},
    };
    void client.query(submittable as unknown as pg.QueryConfig);
  });
}

/** The 11-byte signature every binary COPY stream starts with. */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** Header flag bit 16: each tuple carries an OID (never for `COPY (query)`; refused rather than misread). */
const HAS_OIDS = 1 << 16;

/**
 * A batch's bytes bound: a batch ends early, at a whole tuple, once it holds this many bytes (at least
 * one tuple), so rows of large text keep memory bounded whatever the row count.
 */
export const MAX_BATCH_BYTES = 1 << 20;

/** The smallest buffer the decoder gathers tuples in. */
const MIN_BUFFER = 1 << 16;

const EMPTY = Buffer.alloc(0);

/** A binary COPY stream that is not what PostgreSQL sends: cut short, or not matching the columns. */
export class BinaryCopyError extends Error {
  override readonly name = 'BinaryCopyError';
}

/**
 * Cuts a binary COPY stream, chunk by chunk (a tuple may span chunks), into TupleBatches of whole tuples,
 * checking each tuple's field count and each fixed-width field's size against the columns' types.
 *
 * Two buffers take turns (and two field arrays): a batch is handed out from one while the next gathers in
 * the other, so a stream of any length allocates no memory per batch — **a batch's bytes are valid until
 * the next batch is taken**, which suits a consumer that is done with a batch when it asks for the next.
 */
export class BinaryTupleDecoder {
  private readonly sizes: Int32Array;
  /** The bytes held: [start, end) of `buf`; tuples are whole up to `pos`. */
  private buf: Buffer = EMPTY;
  /** The other buffer: the last batch handed out. */
  private spare: Buffer = EMPTY;
  private start = 0;
  private pos = 0;
  private end = 0;
  /** Field offsets and sizes of the whole tuples in [start, pos) (TupleBatch's layout), and the other array. */
  private fields = new Int32Array(0);
  private spareFields = new Int32Array(0);
  private rows = 0;
  /** Tuples handed out in earlier batches (row numbers in errors are 1-based over the stream). */
  private handedOut = 0;
  private headerDone = false;
  /** Set once the trailer (field count -1) has been read. */
  done = false;

  constructor(
    private readonly types: readonly PgType[],
    private readonly maxBatchBytes = MAX_BATCH_BYTES,
  ) {
    this.sizes = Int32Array.from(types, (t) => BINARY_SIZES[t]);
  }

  /** Bytes held that no batch handed out yet: whole tuples not taken and the start of the next. */
  get held(): number {
    return this.end - this.start;
  }

  /** Appends `chunk[from, to)` of the stream (copied: the caller may reuse it). */
  push(chunk: Buffer, from = 0, to = chunk.length): void {
    const length = to - from;
    if (this.end + length > this.buf.length) {
      // Grown into a new buffer: `buf` holds no batch handed out (that one is `spare`).
      const held = this.end - this.start;
      const next = Buffer.allocUnsafe(Math.max(2 * (held + length), MIN_BUFFER));
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
      this.pos -= this.start;
      this.end = held;
      this.start = 0;
    }
    chunk.copy(this.buf, this.end, from, to);
    this.end += length;
  }

  /**
   * The next batch once it is complete: `limit` tuples, or fewer when the batch reached the bytes bound or
   * the stream its trailer (then possibly empty); undefined while more of the stream is needed.
   */
  take(limit: number): TupleBatch | undefined {
    if (!this.headerDone && !this.header()) return undefined;
    const n = this.types.length;
    // Room for the whole batch up front (up to 65,536 rows; tuple() grows it beyond).
    const want = 2 * n * Math.min(limit, 65_536);
    if (this.rows === 0 && this.fields.length < want) this.fields = new Int32Array(want);
    while (this.rows < limit && !this.done && this.pos - this.start < this.maxBatchBytes) {
      if (!this.tuple()) break;
    }
    const full = this.rows >= limit || (this.rows > 0 && this.pos - this.start >= this.maxBatchBytes);
    if (!full && !this.done) return undefined;
    const batch = new TupleBatch(
      this.types,
      this.buf.subarray(this.start, this.pos),
      this.fields.subarray(0, 2 * n * this.rows),
      this.rows,
    );
    this.handedOut += this.rows;
    this.rows = 0;
    // The rest (part of the next tuple) moves to the other buffer, which the next batch gathers in.
    const rest = this.end - this.pos;
    let next = this.spare;
    if (next.length < rest) next = Buffer.allocUnsafe(Math.max(2 * rest, this.buf.length, MIN_BUFFER));
    this.buf.copy(next, 0, this.pos, this.end);
    this.spare = this.buf;
    this.buf = next;
    this.start = this.pos = 0;
    this.end = rest;
    [this.fields, this.spareFields] = [this.spareFields, this.fields];
    return batch;
  }

  /** Checks the stream ended where it may: after its trailer. Call it at the end of the stream. */
  finish(): void {
    if (this.done) return;
    const row = this.handedOut + this.rows + 1;
    if (!this.headerDone)
      throw new BinaryCopyError(`binary COPY: the stream ended inside its header (${this.end} bytes)`);
    if (this.end > this.pos)
      throw new BinaryCopyError(
        `binary COPY: the stream ended inside row ${row} (${this.end - this.pos} bytes of it)`,
      );
    throw new BinaryCopyError(`binary COPY: the stream ended after row ${row - 1} without its trailer`);
  }

  /** Reads the header when it is all here: signature, flags, extension. */
  private header(): boolean {
    const b = this.buf;
    const at = this.start;
    if (this.end - at < 19) return false;
    if (!b.subarray(at, at + 11).equals(SIGNATURE))
      throw new BinaryCopyError('binary COPY: the stream does not start with the PGCOPY signature');
    if ((b.readUInt32BE(at + 11) & HAS_OIDS) !== 0)
      throw new BinaryCopyError('binary COPY: tuples with OIDs are not supported');
    const ext = b.readUInt32BE(at + 15);
    if (this.end - at < 19 + ext) return false;
    this.start = this.pos = at + 19 + ext;
    this.headerDone = true;
    return true;
  }

  /** Scans one tuple at `pos` into `fields`; false when it is not all here yet (or it is the trailer). */
  private tuple(): boolean {
    const b = this.buf;
    const end = this.end;
    let at = this.pos;
    if (end - at < 2) return false;
    const count = (((b[at] as number) << 24) | ((b[at + 1] as number) << 16)) >> 16;
    const n = this.types.length;
    if (count === -1) {
      this.done = true;
      this.pos = at + 2;
      return false;
    }
    const row = this.handedOut + this.rows + 1;
    if (count !== n)
      throw new BinaryCopyError(`binary COPY: row ${row} has ${count} fields for ${n} columns`);
    at += 2;
    let k = 2 * n * this.rows;
    if (this.fields.length < k + 2 * n) {
      const grown = new Int32Array(Math.max(2 * this.fields.length, k + 2 * n, 2 * n * 256));
      grown.set(this.fields.subarray(0, k));
      this.fields = grown;
    }
    const f = this.fields;
    const base = this.start;
    for (let i = 0; i < n; i++, k += 2) {
      if (end - at < 4) return false;
      // readInt32BE by hand: this loop runs once per field of the result.
      const len =
        ((b[at] as number) << 24) |
        ((b[at + 1] as number) << 16) |
        ((b[at + 2] as number) << 8) |
        (b[at + 3] as number);
      at += 4;
      f[k] = at - base;
      f[k + 1] = len;
      if (len === -1) continue;
      const size = this.sizes[i] as number;
      if (len < 0 || (size !== -1 && len !== size))
        throw new BinaryCopyError(
          `binary COPY: row ${row}, column ${i + 1} (${this.types[i]}) has ${len} bytes` +
            (size === -1 ? '' : `, not ${size}`),
        );
      if (end - at < len) return false;
      at += len;
    }
    this.pos = at;
    this.rows++;
    return true;
  }
}
