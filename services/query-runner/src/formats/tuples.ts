// A batch of rows as PostgreSQL's binary COPY sent them: the tuples' bytes, untouched, and where each field
// lies in them. The reader hands these to the writers instead of rows of values, so a writer that reads the
// bytes itself (Parquet, FITS) makes no object per row or per value — a million rows otherwise leave tens of
// millions of short-lived values for the garbage collector. Every other writer takes rows(), decoded exactly
// as the reader decoded them before (int8 as bigint, floats as number, text as string, NULL as null).

import type { PgType, Row, Value } from './types.js';

/** Bytes of a fixed-width binary value (-1: any length, text). */
export const BINARY_SIZES: Readonly<Record<PgType, number>> = {
  bool: 1,
  int2: 2,
  int4: 4,
  int8: 8,
  float4: 4,
  float8: 8,
  text: -1,
  varchar: -1,
};

type Decode = (b: Buffer, at: number, len: number) => Value;

/** A binary field's value as the writers' rows hold it (PostgreSQL's send functions, big-endian). */
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

/**
 * `length` rows of `types.length` fields each. Field `i` of row `r` is at `fields[2 * (r * width + i)]`
 * (its offset in `bytes`) with its size at the next index: -1 for NULL, else the byte count — checked
 * against the type's size for fixed-width types when the batch was made (copy.ts).
 */
export class TupleBatch {
  /** Columns per row. */
  readonly width: number;
  private dataView: DataView | undefined;

  constructor(
    readonly types: readonly PgType[],
    readonly bytes: Buffer,
    readonly fields: Int32Array,
    readonly length: number,
  ) {
    this.width = types.length;
    if (fields.length < 2 * length * this.width)
      throw new RangeError(`TupleBatch: ${fields.length} field entries for ${length} rows of ${this.width}`);
  }

  /** A big-endian view of `bytes` (made once per batch). */
  get view(): DataView {
    this.dataView ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return this.dataView;
  }

  /** The first `n` rows (the same bytes). */
  head(n: number): TupleBatch {
    if (n >= this.length) return this;
    return new TupleBatch(this.types, this.bytes, this.fields.subarray(0, 2 * n * this.width), n);
  }

  /** Rows [from, to) (the same bytes: field offsets are into `bytes`). */
  slice(from: number, to: number): TupleBatch {
    const n = 2 * this.width;
    return new TupleBatch(this.types, this.bytes, this.fields.subarray(n * from, n * to), to - from);
  }

  /** Field `i` of row `r`: its value as the row-based writers take it. */
  value(r: number, i: number): Value {
    const k = 2 * (r * this.width + i);
    const size = this.fields[k + 1] as number;
    if (size < 0) return null;
    return DECODERS[this.types[i] as PgType](this.bytes, this.fields[k] as number, size);
  }

  /** Every row, decoded. */
  rows(): Row[] {
    const n = this.width;
    const decoders = this.types.map((t) => DECODERS[t]);
    const { bytes, fields } = this;
    const out = new Array<Row>(this.length);
    for (let r = 0, k = 0; r < this.length; r++) {
      const row = new Array<Value>(n);
      for (let i = 0; i < n; i++, k += 2) {
        const size = fields[k + 1] as number;
        row[i] = size < 0 ? null : (decoders[i] as Decode)(bytes, fields[k] as number, size);
      }
      out[r] = row;
    }
    return out;
  }
}

/** What a writer is handed per batch: rows of values, or binary COPY tuples. */
export type Batch = readonly Row[] | TupleBatch;

/** Rows [from, to) of a batch. */
export function sliceBatch(batch: Batch, from: number, to: number): Batch {
  return batch instanceof TupleBatch ? batch.slice(from, to) : batch.slice(from, to);
}

/** The batch as rows of values (decoded when it is a TupleBatch). */
export function asRows(batch: Batch): readonly Row[] {
  return batch instanceof TupleBatch ? batch.rows() : batch;
}
