// HDF5 writer on h5wasm (the HDF5 C library in WebAssembly, writing the host file directly): one compound
// dataset `/result`, one member per column, chunked and resized at every batch, so memory holds one batch
// and the library's chunk cache, never the result. HDF5 has no NULL: as in FITS, integers use their type's
// minimum (the FITS TNULL; a non-NULL value equal to it is refused), floats NaN, bool is int8 1/0 with -1
// for NULL, text is fixed-width UTF-8 (`S<width>`, the declared width in bytes; NULL is the empty string).
// Column metadata are dataset attributes `FIELD_<i>_NAME|DATATYPE|UNIT|UCD|DESCRIPTION|NULL` (i from 0,
// PyTables' naming) and `QUERY_STATUS` (OK | OVERFLOW).
//
// HDF5 stamps object headers with the time (H5Pset_obj_track_times, which h5wasm does not expose): every
// library call runs with the clock it reads (Date.now, through Emscripten) pinned to the epoch, so a rerun
// writes the same bytes.
//
// The library seeks and rewrites its own metadata, so this writer owns the file (a FileWriter, not a
// byte stream): it cannot stream to a socket or through gzip (HDF5 compresses chunks itself).

import { resolve } from 'node:path';
import type H5 from 'h5wasm/node';
import {
  boolValue,
  checkColumns,
  checkRowLength,
  floatValue,
  FormatError,
  sentinelInt,
  textValue,
  TYPES,
  valueError,
  type Column,
  type FileWriter,
  type ResultStatus,
  type Row,
} from './types.js';
import { asRows, type Batch } from './tuples.js';

type H5File = InstanceType<typeof H5.File>;
type H5Dataset = ReturnType<H5File['create_dataset']>;

/** The dataset every result is written to. */
export const HDF5_DATASET = 'result';

/** NULL of a bool column (stored as int8). */
const BOOL_NULL = -1;

function memberDtype(c: Column, width: number): string {
  switch (c.type) {
    case 'int2':
      return '<h';
    case 'int4':
      return '<i';
    case 'int8':
      return '<q';
    case 'float4':
      return '<f';
    case 'float8':
      return '<d';
    case 'bool':
      return '<b';
    case 'text':
    case 'varchar':
      return `S${width}`;
  }
}

type ColumnBuffer =
  Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array | Int8Array | string[];

function columnBuffer(c: Column, n: number): ColumnBuffer {
  switch (c.type) {
    case 'int2':
      return new Int16Array(n);
    case 'int4':
      return new Int32Array(n);
    case 'int8':
      return new BigInt64Array(n);
    case 'float4':
      return new Float32Array(n);
    case 'float8':
      return new Float64Array(n);
    case 'bool':
      return new Int8Array(n);
    case 'text':
    case 'varchar':
      return new Array<string>(n).fill('');
  }
}

const utf8 = new TextEncoder();

/** Runs a synchronous h5wasm call with Date.now pinned to 0 (no other JavaScript runs meanwhile). */
function atEpoch<T>(fn: () => T): T {
  const now = Date.now;
  Date.now = () => 0;
  try {
    return fn();
  } finally {
    Date.now = now;
  }
}

/** Streaming HDF5 writer: open(path), rows() per batch, end() closes the file. */
export class Hdf5Writer implements FileWriter {
  readonly kind = 'file';
  readonly mediaType = 'application/x-hdf5';
  private readonly widths: readonly number[];
  private file: H5File | undefined;
  private dataset: H5Dataset | undefined;
  private count = 0;

  constructor(private readonly columns: readonly Column[]) {
    checkColumns(columns);
    this.widths = columns.map((c, i) => {
      if (TYPES[c.type].kind !== 'text') return TYPES[c.type].fitsBytes;
      if (c.width === undefined) {
        throw new FormatError(
          'WidthRequired',
          `column ${i + 1} '${c.name}': HDF5 needs a declared width for ${c.type} (a compound member is fixed-size)`,
        );
      }
      return c.width;
    });
  }

  async open(path: string): Promise<void> {
    // Loaded on first use: the library's WebAssembly heap costs about 30 MB of RSS.
    const h5wasm = (await import('h5wasm/node')).default;
    await h5wasm.ready;
    const file = atEpoch(() => new h5wasm.File(resolve(path), 'w'));
    this.file = file;
    const rowBytes = this.widths.reduce((a, b) => a + b, 0);
    const dtype = this.columns.map((c, i): [string, string] => [c.name, memberDtype(c, this.widths[i] ?? 0)]);
    const empty = new Map(this.columns.map((c) => [c.name, columnBuffer(c, 0)]));
    this.dataset = atEpoch(() =>
      file.create_dataset({
        name: HDF5_DATASET,
        data: empty,
        shape: [0],
        maxshape: [null],
        // About 1 MiB per chunk: HDF5's default chunk cache holds one.
        chunks: [Math.max(1, Math.floor(2 ** 20 / Math.max(1, rowBytes)))],
        dtype,
      }),
    );
    atEpoch(() => this.columns.forEach((c, i) => this.describe(c, i)));
  }

  rows(b: Batch): void {
    const ds = this.opened();
    const batch = asRows(b);
    if (batch.length === 0) return;
    const cols = this.columns.map((c) => columnBuffer(c, batch.length));
    batch.forEach((r, j) => {
      const row = this.count + j + 1;
      checkRowLength(r, this.columns, row);
      this.columns.forEach((col, i) =>
        put(cols[i] as ColumnBuffer, j, r[i] ?? null, col, row, this.widths[i] ?? 0),
      );
    });
    const start = this.count;
    this.count += batch.length;
    atEpoch(() => {
      ds.resize([this.count]);
      ds.write_slice([[start, this.count]], new Map(this.columns.map((c, i) => [c.name, cols[i]])));
    });
  }

  end(status: ResultStatus): void {
    const ds = this.opened();
    atEpoch(() => ds.create_attribute('QUERY_STATUS', status.overflow ? 'OVERFLOW' : 'OK'));
    this.close();
  }

  close(): void {
    const file = this.file;
    if (file !== undefined) atEpoch(() => file.close());
    this.file = undefined;
    this.dataset = undefined;
  }

  private describe(c: Column, i: number): void {
    const ds = this.opened();
    const attr = (key: string, v: string): void => ds.create_attribute(`FIELD_${i}_${key}`, v);
    attr('NAME', c.name);
    attr('DATATYPE', c.type);
    if (c.unit !== undefined) attr('UNIT', c.unit);
    if (c.ucd !== undefined) attr('UCD', c.ucd);
    if (c.description !== undefined) attr('DESCRIPTION', c.description);
    const t = TYPES[c.type];
    if (t.kind === 'bool') ds.create_attribute(`FIELD_${i}_NULL`, BOOL_NULL, [], '<b');
    if (t.tnull !== undefined) {
      const v = columnBuffer(c, 1) as Int16Array | Int32Array | BigInt64Array;
      if (v instanceof BigInt64Array) v[0] = t.tnull;
      else v[0] = Number(t.tnull);
      ds.create_attribute(`FIELD_${i}_NULL`, v, [], memberDtype(c, 0));
    }
  }

  private opened(): H5Dataset {
    if (this.dataset === undefined) throw new Error('Hdf5Writer: open() first');
    return this.dataset;
  }
}

/** Puts one checked value at index j of its column buffer. */
function put(buf: ColumnBuffer, j: number, v: Row[number], col: Column, row: number, width: number): void {
  const t = TYPES[col.type];
  switch (t.kind) {
    case 'int': {
      const b = sentinelInt(v, col, row, t.tnull ?? 0n, 'NULL in HDF5');
      if (buf instanceof BigInt64Array) buf[j] = b;
      else (buf as Int16Array | Int32Array)[j] = Number(b);
      return;
    }
    case 'float':
      (buf as Float32Array | Float64Array)[j] = v === null ? NaN : floatValue(v, col, row);
      return;
    case 'bool':
      (buf as Int8Array)[j] = v === null ? BOOL_NULL : boolValue(v, col, row) ? 1 : 0;
      return;
    case 'text': {
      if (v === null) return; // the empty string
      const s = textValue(v, col, row);
      const bytes = utf8.encode(s).length;
      if (bytes > width) {
        throw valueError('TooWide', row, col, `${bytes} UTF-8 bytes exceed the declared width ${width}`);
      }
      (buf as string[])[j] = s;
      return;
    }
  }
}
