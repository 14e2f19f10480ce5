// Streaming parsers for uploads (CSV, NDJSON, raw float64, JSON) into fixed-size float64 row chunks.

import { LineSplitter, MAX_LINE_BYTES, type Charset } from './body.js';
import { HttpError } from './errors.js';

/** Accepted body formats. */
export type InputFormat = 'csv' | 'ndjson' | 'binary' | 'json';

/** Maps a Content-Type to an input format, or null if unsupported. */
export function formatOf(contentType: string | undefined): InputFormat | null {
  const t = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (t === 'text/csv' || t === 'application/csv') return 'csv';
  if (t === 'application/x-ndjson' || t === 'application/ndjson' || t === 'application/jsonl')
    return 'ndjson';
  if (t === 'application/octet-stream') return 'binary';
  if (t === 'application/json') return 'json';
  return null;
}

/** Parses an `X-Shape: rows,cols` header. */
export function parseShape(raw: string | undefined): [number, number] {
  const m = /^\s*(\d+)\s*[,x×]\s*(\d+)\s*$/.exec(raw ?? '');
  if (!m?.[1] || !m[2]) {
    throw new HttpError(400, 'MissingShape', 'raw float64 uploads need an X-Shape: rows,cols header', {
      field: 'X-Shape',
    });
  }
  return [Number(m[1]), Number(m[2])];
}

/**
 * Collects rows into chunks of `chunkRows`. Chunks stay in memory while the row count is at most
 * `holdRows` (so a small request can be answered synchronously); past that every chunk goes to `flush`.
 */
export class RowSink {
  cols: number | null = null;
  rows = 0;
  /** Chunks handed to `flush` so far. */
  flushed = 0;
  private cur: Float64Array | null = null;
  private curRows = 0;
  private held: Float64Array[] = [];
  private pending: Promise<void>[] = [];

  constructor(
    readonly chunkRows: number,
    readonly holdRows: number,
    private readonly flush: (index: number, chunk: Float64Array) => Promise<void>,
  ) {}

  /** True once data went to `flush` (the input is too big to keep in memory). */
  get spilled(): boolean {
    return this.flushed > 0;
  }

  setCols(cols: number): void {
    this.cols = cols;
  }

  /** Appends one row (its width is checked by the parser). */
  pushRow(values: ArrayLike<number>): void {
    const cols = this.cols ?? values.length;
    if (this.cur === null) this.cur = new Float64Array(this.chunkRows * cols);
    this.cur.set(values, this.curRows * cols);
    this.curRows++;
    this.rows++;
    if (this.curRows === this.chunkRows) this.closeChunk();
  }

  /** Appends `n` complete rows from a row-major array. */
  pushRows(values: Float64Array, n: number): void {
    const cols = this.cols ?? 0;
    let off = 0;
    while (n > 0) {
      if (this.cur === null) this.cur = new Float64Array(this.chunkRows * cols);
      const take = Math.min(n, this.chunkRows - this.curRows);
      this.cur.set(values.subarray(off * cols, (off + take) * cols), this.curRows * cols);
      this.curRows += take;
      this.rows += take;
      off += take;
      n -= take;
      if (this.curRows === this.chunkRows) this.closeChunk();
    }
  }

  private closeChunk(): void {
    const cols = this.cols ?? 0;
    const cur = this.cur;
    if (cur === null) return;
    const chunk = this.curRows === this.chunkRows ? cur : cur.slice(0, this.curRows * cols);
    this.cur = null;
    this.curRows = 0;
    this.held.push(chunk);
    if (this.rows > this.holdRows) {
      for (const c of this.held) this.pending.push(this.flush(this.flushed++, c));
      this.held = [];
    }
  }

  /** Waits for outstanding flushes (backpressure, called once per input buffer). */
  async drain(): Promise<void> {
    const p = this.pending;
    this.pending = [];
    await Promise.all(p);
  }

  /** Closes the last partial chunk; returns the in-memory rows if nothing was flushed. */
  async finish(): Promise<Float64Array | null> {
    if (this.curRows > 0) this.closeChunk();
    await this.drain();
    if (this.spilled) return null;
    const cols = this.cols ?? 0;
    const out = new Float64Array(this.rows * cols);
    let off = 0;
    for (const c of this.held) {
      out.set(c, off);
      off += c.length;
    }
    this.held = [];
    return out;
  }

  /** Flushes chunks still held in memory (used when a small body must become a stored dataset). */
  async spillAll(): Promise<void> {
    if (this.curRows > 0) this.closeChunk();
    for (const c of this.held) this.pending.push(this.flush(this.flushed++, c));
    this.held = [];
    await this.drain();
  }
}

/** Limits applied while parsing. */
export interface ParseOptions {
  readonly maxBytes: number;
  readonly maxCols: number;
  /** Required for binary input. */
  readonly shape?: [number, number] | undefined;
  /** When set, rows must have exactly this many columns (e.g. a model's dimension). */
  readonly expectCols?: number | undefined;
  /**
   * Column names rows are mapped to (a model's): named input (a CSV header, NDJSON objects) is reordered into this
   * order, and a name that is not here, or one of these that is absent, is a 400 naming it. Positional input
   * (arrays, headerless CSV) is taken in this order.
   */
  readonly columns?: readonly string[] | null | undefined;
  /** CSV only: whether the first row is a header (default present). */
  readonly header?: 'present' | 'absent' | undefined;
  /** Charset of text input (default utf-8). */
  readonly charset?: Charset | undefined;
  /** Longest accepted line in bytes (default {@link MAX_LINE_BYTES}). */
  readonly maxLineBytes?: number | undefined;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i;

function cellError(
  row: number,
  column: number,
  line: number,
  raw: string,
  columnName: string | undefined,
): HttpError {
  const where = { row, column, line, ...(columnName === undefined ? {} : { columnName }) };
  if (NUMBER.test(raw.trim()))
    return new HttpError(
      400,
      'NonFiniteValue',
      `row ${row}, column ${column}: ${raw.trim()} is outside the float64 range (values must be finite)`,
      where,
    );
  if (NON_FINITE.test(raw.trim())) {
    return new HttpError(
      400,
      'NonFiniteValue',
      `row ${row}, column ${column}: ${JSON.stringify(raw)} is not finite`,
      where,
    );
  }
  return new HttpError(
    400,
    'InvalidNumber',
    `row ${row}, column ${column}: ${JSON.stringify(raw)} is not a number`,
    where,
  );
}

function outOfRange(row: number, column: number, line: number, columnName: string | undefined): HttpError {
  return new HttpError(
    400,
    'NonFiniteValue',
    `row ${row}, column ${column}: a number outside the float64 range (values must be finite)`,
    { row, column, line, ...(columnName === undefined ? {} : { columnName }) },
  );
}

function widthError(row: number, line: number, expected: number, got: number): HttpError {
  return new HttpError(400, 'WrongWidth', `row ${row}: expected ${expected} columns, got ${got}`, {
    row,
    line,
    expected,
    got,
  });
}

/** Splits a byte stream into decoded lines, counting bytes against the limit (see {@link LineSplitter}). */
async function* lines(
  body: AsyncIterable<Uint8Array>,
  opts: ParseOptions,
  sink: RowSink,
): AsyncGenerator<string> {
  const split = new LineSplitter(opts.charset ?? 'utf-8', opts.maxLineBytes ?? MAX_LINE_BYTES);
  let bytes = 0;
  for await (const buf of body) {
    bytes += buf.byteLength;
    if (bytes > opts.maxBytes) throw tooLarge(opts.maxBytes);
    for (const line of split.push(buf)) yield line;
    await sink.drain();
  }
  const last = split.end();
  if (last !== null) yield last;
}

export function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, 'PayloadTooLarge', `request body exceeds the limit of ${maxBytes} bytes`, {
    limit: maxBytes,
  });
}

function checkCols(cols: number, row: number, line: number, opts: ParseOptions): void {
  if (cols > opts.maxCols)
    throw new HttpError(
      400,
      'TooManyColumns',
      `row ${row}: ${cols} columns exceeds the limit of ${opts.maxCols}`,
      { row, line, limit: opts.maxCols },
    );
  if (opts.expectCols !== undefined && cols !== opts.expectCols)
    throw widthError(row, line, opts.expectCols, cols);
}

/**
 * Checks a CSV header's names (none empty, none a number, no duplicates) and, when the rows map to known `columns`,
 * returns for each header column its position in `columns` (every name known, every known name present).
 */
function headerColumns(
  names: string[],
  line: number,
  columns: readonly string[] | null | undefined,
): number[] | null {
  const seen = new Map<string, number>();
  names.forEach((name, column) => {
    const where = { row: 0, column, line, field: 'header' };
    if (name === '')
      throw new HttpError(400, 'InvalidHeader', `header: column ${column} has an empty name`, where);
    if (NUMBER.test(name) || NON_FINITE.test(name))
      throw new HttpError(
        400,
        'InvalidHeader',
        `header: column ${column} is named ${JSON.stringify(name)}, a number: the first row looks like data, ` +
          'so send header=absent if the file has no header',
        { ...where, columnName: name },
      );
    const first = seen.get(name);
    if (first !== undefined)
      throw new HttpError(
        400,
        'DuplicateColumn',
        `header: columns ${first} and ${column} are both named ${JSON.stringify(name)}`,
        { ...where, columnName: name, columns: [first, column] },
      );
    seen.set(name, column);
  });
  if (columns === null || columns === undefined) return null;
  return mapNames(names, columns, { row: 0, line, field: 'header' });
}

/** Positions of `names` in `columns`, or a 400 naming the unknown or missing names. */
export function mapNames(
  names: readonly string[],
  columns: readonly string[],
  where: { row: number; line: number; field?: string },
): number[] {
  const unknown = names.filter((n) => !columns.includes(n));
  if (unknown.length > 0)
    throw new HttpError(
      400,
      'UnknownColumn',
      `unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')}; ` +
        `the model's columns are ${columns.map((n) => JSON.stringify(n)).join(', ')}`,
      { ...where, columnName: unknown[0] ?? '', unknown, expected: [...columns] },
    );
  const missing = columns.filter((n) => !names.includes(n));
  if (missing.length > 0)
    throw new HttpError(
      400,
      'MissingColumn',
      `missing column${missing.length > 1 ? 's' : ''} ${missing.map((n) => JSON.stringify(n)).join(', ')}`,
      { ...where, columnName: missing[0] ?? '', missing, expected: [...columns] },
    );
  return names.map((n) => columns.indexOf(n));
}

/**
 * Parses CSV: `#` comment lines and blank lines are skipped. With `header` present (the default) the first row
 * names the columns; a name that is empty, a number or repeated is refused. With known `columns` the header's
 * names are mapped onto them, so the stored rows are in the known order.
 */
export async function parseCsv(
  body: AsyncIterable<Uint8Array>,
  opts: ParseOptions,
  sink: RowSink,
): Promise<string[] | null> {
  let header: string[] | null = null;
  let perm: number[] | null = null;
  let first = opts.header !== 'absent';
  let lineNo = 0;
  let row = 0;
  let vals: Float64Array | null = null;
  for await (const text of lines(body, opts, sink)) {
    lineNo++;
    const t = text.trim();
    if (t === '' || t.startsWith('#')) continue;
    const cells = t.split(',');
    if (first) {
      first = false;
      header = cells.map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
      perm = headerColumns(header, lineNo, opts.columns);
      checkCols(header.length, 0, lineNo, opts);
      sink.setCols(header.length);
      continue;
    }
    if (sink.cols === null) {
      checkCols(cells.length, row, lineNo, opts);
      sink.setCols(cells.length);
    }
    const cols = sink.cols ?? cells.length;
    if (cells.length !== cols) throw widthError(row, lineNo, cols, cells.length);
    vals ??= new Float64Array(cols);
    for (let c = 0; c < cols; c++) {
      const raw = (cells[c] ?? '').trim();
      const x = NUMBER.test(raw) ? Number(raw) : NaN;
      // 1e309 matches NUMBER but is Infinity as a float64: refused here like "inf", not later by the fit.
      if (!Number.isFinite(x)) throw cellError(row, c, lineNo, raw, header?.[c]);
      vals[perm === null ? c : (perm[c] ?? c)] = x;
    }
    sink.pushRow(vals);
    row++;
  }
  return perm === null ? header : [...(opts.columns ?? [])];
}

/** Parses NDJSON: each line an array of numbers, or an object whose keys (fixed by the first) are columns. */
export async function parseNdjson(
  body: AsyncIterable<Uint8Array>,
  opts: ParseOptions,
  sink: RowSink,
  onRow?: () => void,
): Promise<string[] | null> {
  let keys: string[] | null = null;
  let lineNo = 0;
  let row = 0;
  const fixed = opts.columns !== null && opts.columns !== undefined;
  if (fixed) keys = [...(opts.columns ?? [])];
  for await (const text of lines(body, opts, sink)) {
    lineNo++;
    if (text.trim() === '') continue;
    const vals = ndjsonRow(text, row, lineNo, opts, sink, keys, fixed);
    if (vals.keys !== null) keys = vals.keys;
    sink.pushRow(vals.values);
    row++;
    onRow?.();
  }
  return keys;
}

/** Parses one NDJSON line into a row (shared by uploads and the streaming endpoint). */
export function ndjsonRow(
  text: string,
  row: number,
  line: number,
  opts: ParseOptions,
  sink: { cols: number | null; setCols(n: number): void },
  keys: string[] | null,
  /** Keys are fixed (a model's column names): arrays and objects may then be mixed freely. */
  fixedKeys = false,
): { values: number[]; keys: string[] | null } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new HttpError(
      400,
      'InvalidJson',
      `row ${row}: ${err instanceof Error ? err.message : 'invalid JSON'}`,
      { row, line },
    );
  }
  let values: unknown[];
  let names: string[] | null = keys;
  if (Array.isArray(v)) {
    if (keys !== null && !fixedKeys)
      throw new HttpError(400, 'MixedRowShapes', `row ${row}: an array after object rows`, { row, line });
    values = v;
  } else if (typeof v === 'object' && v !== null) {
    const obj = v as Record<string, unknown>;
    if (names === null) {
      if (sink.cols !== null && !fixedKeys)
        throw new HttpError(400, 'MixedRowShapes', `row ${row}: an object after array rows`, { row, line });
      names = Object.keys(obj);
    }
    const extra = Object.keys(obj).find((k) => !(names ?? []).includes(k));
    if (extra !== undefined)
      throw new HttpError(400, 'UnknownColumn', `row ${row}: unknown column ${JSON.stringify(extra)}`, {
        row,
        line,
        columnName: extra,
      });
    values = names.map((k, c) => {
      if (!Object.hasOwn(obj, k))
        throw new HttpError(
          400,
          'MissingColumn',
          `row ${row}, column ${c}: ${JSON.stringify(k)} is missing`,
          { row, line, column: c, columnName: k },
        );
      return obj[k];
    });
  } else {
    throw new HttpError(400, 'InvalidRow', `row ${row}: expected an array or an object`, { row, line });
  }
  if (sink.cols === null) {
    checkCols(values.length, row, line, opts);
    if (values.length === 0) throw new HttpError(400, 'EmptyRow', `row ${row}: no values`, { row, line });
    sink.setCols(values.length);
  }
  const cols = sink.cols ?? values.length;
  if (values.length !== cols) throw widthError(row, line, cols, values.length);
  for (let c = 0; c < cols; c++) {
    const x = values[c];
    if (typeof x !== 'number')
      throw cellError(
        row,
        c,
        line,
        typeof x === 'string' ? x : (JSON.stringify(x) ?? 'undefined'),
        names?.[c],
      );
    // JSON has no Infinity, but a literal like 1e309 parses to it.
    if (!Number.isFinite(x)) throw outOfRange(row, c, line, names?.[c]);
  }
  return { values: values as number[], keys: names };
}

/** Parses raw little-endian float64 of the given shape. */
export async function parseBinary(
  body: AsyncIterable<Uint8Array>,
  opts: ParseOptions,
  sink: RowSink,
): Promise<null> {
  const shape = opts.shape;
  if (shape === undefined)
    throw new HttpError(400, 'MissingShape', 'raw float64 uploads need an X-Shape: rows,cols header', {
      field: 'X-Shape',
    });
  const [rows, cols] = shape;
  if (rows === 0 || cols === 0)
    throw new HttpError(400, 'EmptyData', 'X-Shape has zero rows or columns', { field: 'X-Shape' });
  checkCols(cols, 0, 0, opts);
  const expected = rows * cols * 8;
  if (expected > opts.maxBytes) throw tooLarge(opts.maxBytes);
  sink.setCols(cols);
  const rowBytes = cols * 8;
  let carry = new Uint8Array(0);
  let received = 0;
  let row = 0;
  for await (const buf of body) {
    received += buf.byteLength;
    if (received > expected) {
      throw new HttpError(
        400,
        'ShapeMismatch',
        `body is longer than X-Shape ${rows},${cols} (${expected} bytes)`,
        { field: 'X-Shape', expectedBytes: expected },
      );
    }
    const all = carry.byteLength === 0 ? buf : concat(carry, buf);
    const n = Math.floor(all.byteLength / rowBytes);
    if (n > 0) {
      const vals = new Float64Array(n * cols);
      new Uint8Array(vals.buffer).set(all.subarray(0, n * rowBytes));
      for (let i = 0; i < vals.length; i++) {
        const x = vals[i] ?? 0;
        if (x - x !== 0) {
          const r = row + Math.floor(i / cols);
          const c = i % cols;
          throw new HttpError(400, 'NonFiniteValue', `row ${r}, column ${c}: ${x} is not finite`, {
            row: r,
            column: c,
          });
        }
      }
      sink.pushRows(vals, n);
      row += n;
    }
    carry = all.slice(n * rowBytes);
    await sink.drain();
  }
  if (received !== expected) {
    throw new HttpError(
      400,
      'ShapeMismatch',
      `body has ${received} bytes, X-Shape ${rows},${cols} needs ${expected}`,
      { field: 'X-Shape', expectedBytes: expected, receivedBytes: received },
    );
  }
  return null;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}

/** Parses `{"data": [[…], …]}` (already size-limited and schema-validated) into the sink. */
export function parseJsonRows(
  data: readonly (readonly unknown[])[],
  opts: ParseOptions,
  sink: RowSink,
): void {
  data.forEach((r, row) => {
    if (sink.cols === null) {
      if (r.length === 0)
        throw new HttpError(400, 'EmptyRow', `row ${row}: no values`, { row, field: `/data/${row}` });
      checkCols(r.length, row, 0, opts);
      sink.setCols(r.length);
    }
    if (r.length !== sink.cols)
      throw new HttpError(400, 'WrongWidth', `row ${row}: expected ${sink.cols} columns, got ${r.length}`, {
        row,
        field: `/data/${row}`,
        expected: sink.cols,
        got: r.length,
      });
    for (let c = 0; c < r.length; c++) {
      if (typeof r[c] !== 'number')
        throw new HttpError(400, 'InvalidNumber', `row ${row}, column ${c}: not a number`, {
          row,
          column: c,
          field: `/data/${row}/${c}`,
        });
      if (!Number.isFinite(r[c]))
        throw new HttpError(
          400,
          'NonFiniteValue',
          `row ${row}, column ${c}: a number outside the float64 range (values must be finite)`,
          { row, column: c, field: `/data/${row}/${c}` },
        );
    }
    sink.pushRow(r as number[]);
  });
}
