// Parquet column chunks of the fixed-width types (INT32, INT64, FLOAT, DOUBLE) and of text (BYTE_ARRAY), written
// without hyparquet-writer's general column path (statistics, dictionary sampling, a value array per page and
// its garbage): the non-null values are gathered into a typed array, whose bytes on a little-endian machine are
// already Parquet's PLAIN encoding (text: each value's UTF-8 after its 4-byte length, gathered as bytes), and
// leave as one DATA_PAGE_V2 per chunk — the definition levels (RLE/bit-packed hybrid, 1 bit) then the values,
// SNAPPY-compressed or not. No statistics beyond the null count, no dictionary. Values come from rows (push)
// or straight from binary COPY tuples (gather: big-endian bytes swapped into place, text bytes copied — no
// value object made). hyparquet-writer still serializes the page header and the footer (its Thrift code),
// and writes boolean chunks.

import { endianness } from 'node:os';
import type { ColumnChunk, CompressionCodec } from 'hyparquet';
import type { ByteWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
import { ByteWriter as Bytes } from 'hyparquet-writer/src/bytewriter.js';
import { snappyCompress } from './snappy.js';
import type { TupleBatch } from './tuples.js';
import type { PgType } from './types.js';

/** The physical types written here, and their typed arrays. */
export type FixedType = 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE';
type FixedArray = Int32Array | BigInt64Array | Float32Array | Float64Array;

const LITTLE_ENDIAN = endianness() === 'LE';
/** Where a 64-bit value's low and high 32-bit halves sit in an Int32Array view of native memory. */
const LO = LITTLE_ENDIAN ? 0 : 1;
const HI = 1 - LO;

/** One column of one row group being gathered: the non-null values and a definition level per row. */
export class FixedColumn {
  readonly values: FixedArray;
  /** The values' memory as 32-bit words: gather() copies bits, not numbers. */
  private readonly words: Int32Array;
  readonly defs: Uint8Array;
  /** Rows gathered, and how many of them were non-null. */
  rows = 0;
  count = 0;

  /** `source`: the PostgreSQL type of the binary values gather() reads (int2 widens to INT32). */
  constructor(
    readonly type: FixedType,
    capacity: number,
    private readonly source?: PgType,
  ) {
    this.values =
      type === 'INT32'
        ? new Int32Array(capacity)
        : type === 'INT64'
          ? new BigInt64Array(capacity)
          : type === 'FLOAT'
            ? new Float32Array(capacity)
            : new Float64Array(capacity);
    this.words = new Int32Array(this.values.buffer);
    this.defs = new Uint8Array(capacity);
  }

  /** Appends a value (already checked for the type) or NULL. */
  push(v: number | bigint | null): void {
    if (v === null) {
      this.defs[this.rows++] = 0;
      return;
    }
    this.defs[this.rows++] = 1;
    (this.values as unknown as (number | bigint)[])[this.count++] = v;
  }

  /**
   * Appends rows [from, to) of column `col` of `batch`, whose binary values are of the `source` type the
   * column was made for (the batch's sizes were checked when it was cut).
   */
  gather(batch: TupleBatch, col: number, from: number, to: number): void {
    const f = batch.fields;
    const dv = batch.view;
    const step = 2 * batch.width;
    const { defs, words } = this;
    let rows = this.rows;
    let count = this.count;
    let k = 2 * (from * batch.width + col);
    const wide = this.source === 'int8' || this.source === 'float8';
    const short = this.source === 'int2';
    for (let r = from; r < to; r++, k += step) {
      if ((f[k + 1] as number) < 0) {
        defs[rows++] = 0;
        continue;
      }
      defs[rows++] = 1;
      const at = f[k] as number;
      if (wide) {
        words[2 * count + LO] = dv.getInt32(at + 4);
        words[2 * count + HI] = dv.getInt32(at);
      } else words[count] = short ? dv.getInt16(at) : dv.getInt32(at);
      count++;
    }
    this.rows = rows;
    this.count = count;
  }

  /** Empties the column for the next row group (the arrays are reused). */
  reset(): void {
    this.rows = 0;
    this.count = 0;
  }

  /** The non-null values in PLAIN encoding (little-endian). */
  plain(): Uint8Array {
    const v = this.values.subarray(0, this.count);
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    if (LITTLE_ENDIAN) return bytes;
    // A big-endian machine: swap each value's bytes into a copy.
    const out = new Uint8Array(bytes.length);
    const w = v.BYTES_PER_ELEMENT;
    for (let i = 0; i < bytes.length; i += w)
      for (let j = 0; j < w; j++) out[i + j] = bytes[i + w - 1 - j] ?? 0;
    return out;
  }
}

/** A text column's byte buffer starts at this size. */
const TEXT_INITIAL_BYTES = 1 << 16;

/**
 * One text column of one row group being gathered: its PLAIN bytes (each non-null value's UTF-8 byte
 * length as a little-endian int32, then the bytes) and a definition level per row.
 */
export class TextColumn {
  readonly type = 'BYTE_ARRAY';
  readonly defs: Uint8Array;
  private buf = Buffer.allocUnsafe(TEXT_INITIAL_BYTES);
  /** PLAIN bytes gathered. */
  bytes = 0;
  rows = 0;
  count = 0;

  /** `keepBytes`: a buffer grown past it (by one large value) is let go at reset(). */
  constructor(
    capacity: number,
    private readonly keepBytes = Infinity,
  ) {
    this.defs = new Uint8Array(capacity);
  }

  push(v: string | null): void {
    if (v === null) {
      this.defs[this.rows++] = 0;
      return;
    }
    this.defs[this.rows++] = 1;
    // A UTF-16 code unit is at most 3 bytes of UTF-8 (a lone surrogate becomes U+FFFD, 3 bytes).
    this.ensure(4 + 3 * v.length);
    const n = this.buf.write(v, this.bytes + 4, 'utf8');
    this.buf.writeInt32LE(n, this.bytes);
    this.bytes += 4 + n;
    this.count++;
  }

  /** Appends rows [from, to) of text column `col` of `batch`: PostgreSQL's UTF-8 bytes as they are. */
  gather(batch: TupleBatch, col: number, from: number, to: number): void {
    const f = batch.fields;
    const src = batch.bytes;
    const step = 2 * batch.width;
    const defs = this.defs;
    let k = 2 * (from * batch.width + col);
    for (let r = from; r < to; r++, k += step) {
      const len = f[k + 1] as number;
      if (len < 0) {
        defs[this.rows++] = 0;
        continue;
      }
      defs[this.rows++] = 1;
      this.ensure(4 + len);
      const buf = this.buf;
      let at = this.bytes;
      buf.writeInt32LE(len, at);
      at += 4;
      const off = f[k] as number;
      // Short values by hand: a native copy costs more than a few bytes' loop.
      if (len < 32) for (let j = 0; j < len; j++) buf[at + j] = src[off + j] as number;
      else src.copy(buf, at, off, off + len);
      this.bytes = at + len;
      this.count++;
    }
  }

  reset(): void {
    this.rows = 0;
    this.count = 0;
    this.bytes = 0;
    if (this.buf.length > this.keepBytes) this.buf = Buffer.allocUnsafe(TEXT_INITIAL_BYTES);
  }

  /** PLAIN BYTE_ARRAY: each value's UTF-8 byte length (int32, little-endian), then its bytes. */
  plain(): Uint8Array {
    return this.buf.subarray(0, this.bytes);
  }

  private ensure(n: number): void {
    if (this.bytes + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.bytes + n));
    this.buf.copy(next, 0, 0, this.bytes);
    this.buf = next;
  }
}

/** A column of one row group as writeChunk takes it. */
export type GatheredColumn = FixedColumn | TextColumn;

/**
 * Writes `col` (one row group's worth) to `out` as a column chunk of one DATA_PAGE_V2 and returns its
 * metadata for the footer. `path` is the column's name in the schema.
 */
export function writeChunk(
  out: ByteWriter,
  path: string,
  col: GatheredColumn,
  codec: CompressionCodec,
): ColumnChunk {
  const start = out.offset;
  const levels = new Bytes();
  writeRleBitPackedHybrid(levels, col.defs.subarray(0, col.rows), 1);
  const levelBytes = levels.getBytes();
  const plain = col.plain();
  // A view of the compressor's scratch buffer: appended to `out` below, before anything else is compressed.
  const body = codec === 'SNAPPY' ? snappyCompress(plain) : plain;
  writePageHeader(out, {
    type: 'DATA_PAGE_V2',
    uncompressed_page_size: levelBytes.length + plain.length,
    compressed_page_size: levelBytes.length + body.length,
    data_page_header_v2: {
      num_values: col.rows,
      num_nulls: col.rows - col.count,
      num_rows: col.rows,
      encoding: 'PLAIN',
      definition_levels_byte_length: levelBytes.length,
      repetition_levels_byte_length: 0,
      is_compressed: codec !== 'UNCOMPRESSED',
    },
  });
  const header = out.offset - start;
  out.appendBytes(levelBytes);
  out.appendBytes(body);
  return {
    file_offset: BigInt(start),
    meta_data: {
      type: col.type,
      encodings: ['PLAIN', 'RLE'],
      path_in_schema: [path],
      codec,
      num_values: BigInt(col.rows),
      total_uncompressed_size: BigInt(header + levelBytes.length + plain.length),
      total_compressed_size: BigInt(out.offset - start),
      data_page_offset: BigInt(start),
      statistics: { null_count: BigInt(col.rows - col.count) },
    },
  };
}
