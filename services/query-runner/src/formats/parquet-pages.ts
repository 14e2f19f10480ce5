// Parquet column chunks of the fixed-width types (INT32, INT64, FLOAT, DOUBLE) and of text (BYTE_ARRAY), written
// without hyparquet-writer's general column path (statistics, dictionary sampling, a value array per page and
// its garbage): the non-null values are gathered into a typed array, whose bytes on a little-endian machine are
// already Parquet's PLAIN encoding (text: each string's UTF-8 after its 4-byte length), and leave as one
// DATA_PAGE_V2 per chunk — the definition levels (RLE/bit-packed hybrid, 1 bit) then the values, SNAPPY-compressed
// or not. No statistics beyond the null count, no dictionary. hyparquet-writer still serializes the page header
// and the footer (its Thrift code), and writes boolean chunks.

import { endianness } from 'node:os';
import type { ColumnChunk, CompressionCodec } from 'hyparquet';
import type { ByteWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { ByteWriter as Bytes } from 'hyparquet-writer/src/bytewriter.js';

/** The physical types written here, and their typed arrays. */
export type FixedType = 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE';
type FixedArray = Int32Array | BigInt64Array | Float32Array | Float64Array;

const LITTLE_ENDIAN = endianness() === 'LE';

/** One column of one row group being gathered: the non-null values and a definition level per row. */
export class FixedColumn {
  readonly values: FixedArray;
  readonly defs: Uint8Array;
  /** Rows gathered, and how many of them were non-null. */
  rows = 0;
  count = 0;

  constructor(
    readonly type: FixedType,
    capacity: number,
  ) {
    this.values =
      type === 'INT32'
        ? new Int32Array(capacity)
        : type === 'INT64'
          ? new BigInt64Array(capacity)
          : type === 'FLOAT'
            ? new Float32Array(capacity)
            : new Float64Array(capacity);
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

/** One text column of one row group being gathered: the non-null strings and a definition level per row. */
export class TextColumn {
  readonly type = 'BYTE_ARRAY';
  readonly defs: Uint8Array;
  private values: string[] = [];
  rows = 0;
  count = 0;

  constructor(capacity: number) {
    this.defs = new Uint8Array(capacity);
  }

  push(v: string | null): void {
    if (v === null) {
      this.defs[this.rows++] = 0;
      return;
    }
    this.defs[this.rows++] = 1;
    this.values.push(v);
    this.count++;
  }

  reset(): void {
    this.rows = 0;
    this.count = 0;
    this.values = [];
  }

  /** PLAIN BYTE_ARRAY: each value's UTF-8 byte length (int32, little-endian), then its bytes. */
  plain(): Uint8Array {
    let size = 0;
    for (const v of this.values) size += 4 + Buffer.byteLength(v, 'utf8');
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (const v of this.values) {
      const n = out.write(v, at + 4, 'utf8');
      out.writeInt32LE(n, at);
      at += 4 + n;
    }
    return out;
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
