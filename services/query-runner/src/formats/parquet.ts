// Parquet writer on hyparquet-writer's ParquetWriter: rows are gathered into column arrays and written a
// row group at a time, so memory holds one row group, never the result: a group ends at `rowGroupRows` rows
// (16,384 by default) or once its values reach `rowGroupBytes` (4 MiB by default; counted as each row's
// fixed-width bytes plus its text's PLAIN bytes, so rows and binary COPY tuples end groups at the same row).
// Binary COPY tuples (formats/tuples.ts) are gathered straight from their bytes, rows value by value.
// Every column is OPTIONAL (SQL NULL is a Parquet null, distinct from NaN). Types: int2 → INT32 annotated
// INT_16, int4 → INT32, int8 → INT64, float4 → FLOAT, float8 → DOUBLE, bool → BOOLEAN,
// text/varchar → BYTE_ARRAY STRING. Units, UCDs and descriptions go into the footer's key-value metadata
// (`skyport.columns`, JSON), with `skyport.query_status` (OK | OVERFLOW): the footer is written last, so
// the overflow flag is known by then.

import type { ColumnChunk, CompressionCodec, KeyValue, RowGroup, SchemaElement } from 'hyparquet';
import { ByteWriter } from 'hyparquet-writer';
import { writeColumn } from 'hyparquet-writer/src/column.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import { snappyCompress } from 'hyparquet-writer/src/snappy.js';
import { FixedColumn, TextColumn, writeChunk, type FixedType, type GatheredColumn } from './parquet-pages.js';
import {
  boolValue,
  checkColumns,
  checkRowLength,
  floatValue,
  intValue,
  textValue,
  TYPES,
  type Column,
  type Patch,
  type PgType,
  type ResultStatus,
  type ResultWriter,
  type Row,
  type Value,
} from './types.js';
import { TupleBatch, type Batch } from './tuples.js';

/** Options of the Parquet writer. */
export interface ParquetOptions {
  /** Rows per row group at most: 16,384 by default. */
  readonly rowGroupRows?: number;
  /**
   * A row group ends at the row that brings its values to this many bytes: 4 MiB by default. The writer
   * holds about five times this at most (the values, their compressed pages, the bytes handed out).
   */
  readonly rowGroupBytes?: number;
}

const CREATED_BY = 'skyport query-runner (hyparquet-writer)';

function schemaElement(c: Column): SchemaElement {
  const base = { name: c.name, repetition_type: 'OPTIONAL' } as const;
  switch (c.type) {
    // The legacy converted type, not the INTEGER logical type: hyparquet-writer 0.17 encodes the latter's
    // bitWidth as an i32 where the Thrift schema has an i8, which pyarrow refuses.
    case 'int2':
      return { ...base, type: 'INT32', converted_type: 'INT_16' };
    case 'int4':
      return { ...base, type: 'INT32' };
    case 'int8':
      return { ...base, type: 'INT64' };
    case 'float4':
      return { ...base, type: 'FLOAT' };
    case 'float8':
      return { ...base, type: 'DOUBLE' };
    case 'bool':
      return { ...base, type: 'BOOLEAN' };
    case 'text':
    case 'varchar':
      return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
  }
}

type ParquetValue = number | bigint | boolean | string | null;

/**
 * parquetValue for one column, made once: the value of the type the reader hands over, in range, passes
 * as it is (no BigInt round trip for int2/int4); anything else goes through parquetValue's checks.
 */
function parquetCell(col: Column): (v: Value, row: number) => ParquetValue {
  const slow = (v: Value, row: number): ParquetValue => parquetValue(v, col, row);
  switch (col.type) {
    case 'int2':
    case 'int4': {
      const lo = col.type === 'int2' ? -32768 : -2147483648;
      const hi = -lo - 1;
      return (v, row) =>
        typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi ? v : slow(v, row);
    }
    case 'int8':
      return (v, row) =>
        typeof v === 'bigint' && v >= -(2n ** 63n) && v <= 2n ** 63n - 1n ? v : slow(v, row);
    case 'float8':
      return (v, row) => (typeof v === 'number' ? v : slow(v, row));
    case 'float4':
      return (v, row) => (typeof v === 'number' && Math.fround(v) === v ? v : slow(v, row));
    default:
      return slow;
  }
}

/** The value as hyparquet-writer takes it for the column's physical type (checked, naming row/column). */
function parquetValue(v: Value, col: Column, row: number): ParquetValue {
  if (v === null) return null;
  switch (TYPES[col.type].kind) {
    case 'int': {
      const b = intValue(v, col, row);
      return col.type === 'int8' ? b : Number(b);
    }
    case 'float':
      return floatValue(v, col, row);
    case 'bool':
      return boolValue(v, col, row);
    case 'text':
      return textValue(v, col, row);
  }
}

/** The footer's column metadata: what the Parquet schema itself cannot carry. */
function columnsMetadata(columns: readonly Column[]): string {
  return JSON.stringify(
    columns.map((c) => ({
      name: c.name,
      datatype: c.type satisfies PgType,
      ...(c.unit !== undefined && { unit: c.unit }),
      ...(c.ucd !== undefined && { ucd: c.ucd }),
      ...(c.description !== undefined && { description: c.description }),
    })),
  );
}

/** Bytes a row of a fixed-width column counts toward rowGroupBytes (text: its PLAIN bytes, counted apart). */
function rowBytes(c: Column): number {
  switch (c.type) {
    case 'int8':
    case 'float8':
      return 8;
    case 'bool':
      return 1;
    case 'text':
    case 'varchar':
      return 0;
    default:
      return 4;
  }
}

/** The physical type of a column written by parquet-pages.ts, or undefined (bool: hyparquet-writer's path). */
function pageType(c: Column): FixedType | 'BYTE_ARRAY' | undefined {
  switch (c.type) {
    case 'int2':
    case 'int4':
      return 'INT32';
    case 'int8':
      return 'INT64';
    case 'float4':
      return 'FLOAT';
    case 'float8':
      return 'DOUBLE';
    case 'text':
    case 'varchar':
      return 'BYTE_ARRAY';
    default:
      return undefined;
  }
}

/**
 * Page compression per column: SNAPPY, but none for floats — their mantissas do not compress (snappy measured
 * 1.000 on catalog-like float32 and float64 pages), so compressing them costs time for nothing.
 */
function codecOf(c: Column): CompressionCodec {
  return c.type === 'float4' || c.type === 'float8' ? 'UNCOMPRESSED' : 'SNAPPY';
}

const MAGIC = 0x31524150; // "PAR1"

/** One column of the row group being gathered: typed arrays (fixed-width), or values for hyparquet-writer. */
type Gathered = { readonly fixed: GatheredColumn } | { readonly fixed?: undefined; values: ParquetValue[] };

/** Streaming Parquet writer: bytes come out a row group at a time, the footer at end(). */
export class ParquetResultWriter implements ResultWriter {
  readonly mediaType = 'application/vnd.apache.parquet';
  private readonly rowGroupRows: number;
  private readonly rowGroupBytes: number;
  /** Bytes each row counts toward rowGroupBytes besides its text. */
  private readonly fixedRowBytes: number;
  /** The text columns' indexes. */
  private readonly texts: readonly number[];
  private readonly out = new ByteWriter();
  private readonly schema: SchemaElement[];
  private readonly paths: SchemaElement[][];
  private readonly gathered: Gathered[];
  private readonly rowGroups: RowGroup[] = [];
  private readonly cells: readonly ((v: Value, row: number) => ParquetValue)[];
  private pendingRows = 0;
  private count = 0;

  constructor(
    private readonly columns: readonly Column[],
    opts: ParquetOptions = {},
  ) {
    checkColumns(columns);
    const n = opts.rowGroupRows ?? 16_384;
    if (!(Number.isSafeInteger(n) && n > 0))
      throw new RangeError(`rowGroupRows: must be a positive integer, got ${n}`);
    this.rowGroupRows = n;
    const bytes = opts.rowGroupBytes ?? 4 << 20;
    if (!(Number.isSafeInteger(bytes) && bytes > 0))
      throw new RangeError(`rowGroupBytes: must be a positive integer, got ${bytes}`);
    this.rowGroupBytes = bytes;
    this.fixedRowBytes = columns.reduce((a, c) => a + rowBytes(c), 0);
    this.texts = columns.flatMap((c, i) => (pageType(c) === 'BYTE_ARRAY' ? [i] : []));
    this.cells = columns.map(parquetCell);
    this.schema = [{ name: 'root', num_children: columns.length }, ...columns.map(schemaElement)];
    const root = this.schema[0] as SchemaElement;
    this.paths = this.schema.slice(1).map((e) => [root, e]);
    this.gathered = columns.map((c) => {
      const t = pageType(c);
      if (t === undefined) return { values: [] };
      if (t === 'BYTE_ARRAY') return { fixed: new TextColumn(n, 2 * bytes) };
      return { fixed: new FixedColumn(t, n, c.type) };
    });
    this.out.appendUint32(MAGIC);
  }

  begin(): Uint8Array {
    return this.drain(); // the PAR1 magic
  }

  rows(batch: Batch): Uint8Array {
    if (batch instanceof TupleBatch) this.tuples(batch);
    else this.valueRows(batch);
    return this.drain();
  }

  /** Whether the row group being gathered is complete. */
  private full(): boolean {
    if (this.pendingRows >= this.rowGroupRows) return true;
    let bytes = this.pendingRows * this.fixedRowBytes;
    for (const i of this.texts) bytes += ((this.gathered[i] as Gathered).fixed as TextColumn).bytes;
    return bytes >= this.rowGroupBytes;
  }

  /** Gathers binary COPY tuples column by column, a row group's share at a time. */
  private tuples(batch: TupleBatch): void {
    const n = this.columns.length;
    for (let from = 0; from < batch.length;) {
      const to = this.groupEnd(batch, from);
      for (let i = 0; i < n; i++) {
        const g = this.gathered[i] as Gathered;
        if (g.fixed !== undefined) g.fixed.gather(batch, i, from, to);
        else {
          const f = batch.fields;
          const step = 2 * n;
          for (let r = from, k = 2 * (from * n + i); r < to; r++, k += step)
            g.values.push((f[k + 1] as number) < 0 ? null : batch.bytes[f[k] as number] !== 0);
        }
      }
      this.count += to - from;
      this.pendingRows += to - from;
      if (this.full()) this.flush();
      from = to;
    }
  }

  /**
   * The end of the rows from `from` that the current row group takes: up to the row that completes it
   * (rowGroupRows, or rowGroupBytes counted as full() counts them), else the whole batch.
   */
  private groupEnd(batch: TupleBatch, from: number): number {
    let rows = this.pendingRows;
    let bytes = rows * this.fixedRowBytes;
    for (const i of this.texts) bytes += ((this.gathered[i] as Gathered).fixed as TextColumn).bytes;
    const byRows = from + (this.rowGroupRows - rows);
    if (this.texts.length === 0) {
      const byBytes = from + Math.max(1, Math.ceil((this.rowGroupBytes - bytes) / this.fixedRowBytes));
      return Math.min(batch.length, byRows, byBytes);
    }
    const f = batch.fields;
    const step = 2 * batch.width;
    for (let r = from; r < batch.length; r++) {
      bytes += this.fixedRowBytes;
      for (const i of this.texts) {
        const len = f[r * step + 2 * i + 1] as number;
        if (len >= 0) bytes += 4 + len;
      }
      if (++rows >= this.rowGroupRows || bytes >= this.rowGroupBytes) return r + 1;
    }
    return batch.length;
  }

  /** Gathers rows of values, checking each value for its column. */
  private valueRows(batch: readonly Row[]): void {
    const n = this.columns.length;
    const cells = this.cells;
    const gathered = this.gathered;
    for (const r of batch) {
      const row = ++this.count;
      checkRowLength(r, this.columns, row);
      for (let i = 0; i < n; i++) {
        const v = r[i] ?? null;
        const g = gathered[i] as Gathered;
        const x = v === null ? null : (cells[i] as (v: Value, row: number) => ParquetValue)(v, row);
        if (g.fixed instanceof FixedColumn) g.fixed.push(x as number | bigint | null);
        else if (g.fixed !== undefined) g.fixed.push(x as string | null);
        else g.values.push(x);
      }
      this.pendingRows++;
      if (this.full()) this.flush();
    }
  }

  end(status: ResultStatus): Uint8Array {
    this.flush();
    const kv: KeyValue[] = [
      { key: 'skyport.columns', value: columnsMetadata(this.columns) },
      { key: 'skyport.query_status', value: status.overflow ? 'OVERFLOW' : 'OK' },
    ];
    writeMetadata(this.out, {
      version: 2,
      created_by: CREATED_BY,
      schema: this.schema,
      num_rows: BigInt(this.count),
      row_groups: this.rowGroups,
      key_value_metadata: kv,
      metadata_length: 0,
    });
    this.out.appendUint32(MAGIC);
    return this.drain();
  }

  patches(): readonly Patch[] {
    return [];
  }

  /** Writes the gathered rows as one row group (none when empty). */
  private flush(): void {
    const rows = this.pendingRows;
    if (rows === 0) return;
    const start = this.out.offset;
    const chunks: ColumnChunk[] = this.columns.map((c, i) => {
      const g = this.gathered[i] as Gathered;
      if (g.fixed !== undefined) {
        const chunk = writeChunk(this.out, c.name, g.fixed, codecOf(c));
        g.fixed.reset();
        return chunk;
      }
      const path = this.paths[i] as SchemaElement[];
      const element = path[1] as SchemaElement;
      const chunk = writeColumn({
        writer: this.out,
        column: {
          columnName: c.name,
          element,
          schemaPath: path,
          codec: codecOf(c),
          compressors: { SNAPPY: snappyCompress },
          stats: true,
          pageSize: 1 << 20,
          columnIndex: false,
          offsetIndex: false,
        },
        pageData: {
          values: g.values,
          definitionLevels: g.values.map((v) => (v === null ? 0 : 1)),
          repetitionLevels: [],
          maxDefinitionLevel: 1,
        },
      }).chunk;
      g.values = [];
      return chunk;
    });
    let total = 0n;
    for (const c of chunks) total += c.meta_data?.total_uncompressed_size ?? 0n;
    this.rowGroups.push({
      columns: chunks,
      total_byte_size: total,
      num_rows: BigInt(rows),
      total_compressed_size: BigInt(this.out.offset - start),
    });
    this.pendingRows = 0;
  }

  /** The bytes written since the last drain; the buffer is reused (offsets stay absolute). */
  private drain(): Uint8Array {
    const bytes = this.out.getBytes().slice();
    this.out.index = 0;
    return bytes;
  }
}
