// Parquet writer on hyparquet-writer's ParquetWriter: rows are gathered into column arrays and written a
// row group at a time (`rowGroupRows`, 16,384 by default), so memory holds one row group, never the result.
// Every column is OPTIONAL (SQL NULL is a Parquet null, distinct from NaN). Types: int2 → INT32 annotated
// INT_16, int4 → INT32, int8 → INT64, float4 → FLOAT, float8 → DOUBLE, bool → BOOLEAN,
// text/varchar → BYTE_ARRAY STRING. Units, UCDs and descriptions go into the footer's key-value metadata
// (`skyport.columns`, JSON), with `skyport.query_status` (OK | OVERFLOW): the footer is written last, so
// the overflow flag is known by then.

import type { KeyValue, SchemaElement } from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
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

/** Options of the Parquet writer. */
export interface ParquetOptions {
  /** Rows per row group (the memory bound): 16,384 by default. */
  readonly rowGroupRows?: number;
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

/** Streaming Parquet writer: bytes come out a row group at a time, the footer at end(). */
export class ParquetResultWriter implements ResultWriter {
  readonly mediaType = 'application/vnd.apache.parquet';
  private readonly rowGroupRows: number;
  private readonly out = new ByteWriter();
  private readonly writer: ParquetWriter;
  private readonly kv: KeyValue[];
  private pending: ParquetValue[][];
  private readonly cells: readonly ((v: Value, row: number) => ParquetValue)[];
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
    this.pending = columns.map(() => []);
    this.cells = columns.map(parquetCell);
    // The footer references this array: the query status is filled in at end().
    this.kv = [{ key: 'skyport.columns', value: columnsMetadata(columns) }];
    this.writer = new ParquetWriter({
      writer: this.out,
      schema: [{ name: 'root', num_children: columns.length }, ...columns.map(schemaElement)],
      kvMetadata: this.kv,
      createdBy: CREATED_BY,
    });
  }

  begin(): Uint8Array {
    return this.drain(); // the PAR1 magic
  }

  rows(batch: readonly Row[]): Uint8Array {
    for (const r of batch) {
      const row = ++this.count;
      checkRowLength(r, this.columns, row);
      for (let i = 0; i < this.cells.length; i++) {
        const v = r[i] ?? null;
        (this.pending[i] as ParquetValue[]).push(
          v === null ? null : (this.cells[i] as (v: Value, row: number) => ParquetValue)(v, row),
        );
      }
      if ((this.pending[0]?.length ?? 0) >= this.rowGroupRows) this.flush();
    }
    return this.drain();
  }

  end(status: ResultStatus): Uint8Array {
    this.flush();
    this.kv.push({ key: 'skyport.query_status', value: status.overflow ? 'OVERFLOW' : 'OK' });
    void this.writer.finish();
    return this.drain();
  }

  patches(): readonly Patch[] {
    return [];
  }

  /** Writes the gathered rows as one row group (none when empty). */
  private flush(): void {
    const rows = this.pending[0]?.length ?? 0;
    if (rows === 0) return;
    const columnData = this.columns.map((c, i) => ({ name: c.name, data: this.pending[i] ?? [] }));
    // ByteWriter has no flush(): write() completes synchronously.
    void this.writer.write({ columnData, rowGroupSize: rows });
    this.pending = this.columns.map(() => []);
  }

  /** The bytes written since the last drain; the buffer is reused (offsets stay absolute). */
  private drain(): Uint8Array {
    const bytes = this.out.getBytes().slice();
    this.out.index = 0;
    return bytes;
  }
}
