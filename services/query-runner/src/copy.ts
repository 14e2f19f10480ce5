// The reader's fast path: a query's columns from a Describe (Parse + Describe, nothing executed), and its
// rows from `COPY (<query>) TO STDOUT (FORMAT binary)` (allowed in a READ ONLY transaction), decoded
// straight from PostgreSQL's binary tuples into the writers' values — no text parsing, no per-row
// protocol objects. The COPY stream is pg-copy-streams' CopyToStream, which reads the socket itself and
// pauses it when the consumer falls behind, so memory holds what the consumer has not taken yet.

import type pg from 'pg';
import type { PgType, Row, Value } from './formats/index.js';

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

type Decode = (b: Buffer, at: number, len: number) => Value;

const DECODERS: Readonly<Record<PgType, Decode>> = {
  bool: (b, at) => b[at] !== 0,
  int2: (b, at) => b.readInt16BE(at),
  int4: (b, at) => b.readInt32BE(at),
  int8: (b, at) => b.readBigInt64BE(at),
  float4: (b, at) => b.readFloatBE(at),
  float8: (b, at) => b.readDoubleBE(at),
  text: (b, at, len) => b.toString('utf8', at, at + len),
  varchar: (b, at, len) => b.toString('utf8', at, at + len),
};

/** Bytes a fixed-size value must have (text: any). */
const SIZES: Readonly<Record<PgType, number>> = {
  bool: 1,
  int2: 2,
  int4: 4,
  int8: 8,
  float4: 4,
  float8: 8,
  text: -1,
  varchar: -1,
};

/**
 * Decodes a binary COPY stream, chunk by chunk (a tuple may span chunks), into rows of the writers'
 * values: int8 as bigint, int2/int4/floats as number, bool as boolean, text as string, NULL as null.
 */
export class BinaryTupleDecoder {
  private readonly decoders: readonly Decode[];
  private readonly sizes: readonly number[];
  private pending: Buffer = Buffer.alloc(0);
  private headerDone = false;
  /** Set once the trailer (field count -1) has been read. */
  done = false;

  constructor(private readonly types: readonly PgType[]) {
    this.decoders = types.map((t) => DECODERS[t]);
    this.sizes = types.map((t) => SIZES[t]);
  }

  /** Appends a chunk of the stream. */
  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
  }

  /** Decodes up to `max` whole tuples from what was pushed into `out`; returns how many. */
  take(out: Row[], max: number): number {
    const b = this.pending;
    let at = 0;
    if (!this.headerDone) {
      // Signature, flags (int32), header extension length (int32) and the extension.
      if (b.length < 19) return 0;
      if (!b.subarray(0, 11).equals(SIGNATURE)) throw new Error('not a binary COPY stream');
      const ext = b.readUInt32BE(15);
      if (b.length < 19 + ext) return 0;
      at = 19 + ext;
      this.headerDone = true;
    }
    const n = this.types.length;
    let got = 0;
    while (got < max && !this.done && b.length - at >= 2) {
      const count = b.readInt16BE(at);
      if (count === -1) {
        this.done = true;
        at += 2;
        break;
      }
      if (count !== n) throw new Error(`binary COPY: a tuple of ${count} fields for ${n} columns`);
      const row = this.tuple(b, at + 2);
      if (row === undefined) break;
      out.push(row.values);
      at = row.end;
      got++;
    }
    this.pending = at === b.length ? Buffer.alloc(0) : b.subarray(at);
    return got;
  }

  /** One tuple's values from `at` (after its field count), or undefined when it is not all here yet. */
  private tuple(b: Buffer, at: number): { values: Value[]; end: number } | undefined {
    const n = this.types.length;
    const values = new Array<Value>(n);
    for (let i = 0; i < n; i++) {
      if (b.length - at < 4) return undefined;
      const len = b.readInt32BE(at);
      at += 4;
      if (len === -1) {
        values[i] = null;
        continue;
      }
      if (b.length - at < len) return undefined;
      const size = this.sizes[i] ?? -1;
      if (size !== -1 && len !== size)
        throw new Error(`binary COPY: column ${i + 1} (${this.types[i]}) has ${len} bytes, not ${size}`);
      values[i] = (this.decoders[i] as Decode)(b, at, len);
      at += len;
    }
    return { values, end: at };
  }
}
