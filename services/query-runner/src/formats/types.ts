// What every result writer shares: column metadata, row values, the PostgreSQL → format type table, and
// the value checks that turn a wrong value into an error naming the row and column.

import type { Batch } from './tuples.js';

/** PostgreSQL types the writers accept (`pg_type.typname`). */
export type PgType = 'int2' | 'int4' | 'int8' | 'float4' | 'float8' | 'bool' | 'text' | 'varchar';

/** One result column as the database describes it. */
export interface Column {
  readonly name: string;
  readonly type: PgType;
  /** Physical unit (VOUnit string), e.g. `deg`, `mag`. */
  readonly unit?: string;
  /** IVOA UCD, e.g. `pos.eq.ra;meta.main`. */
  readonly ucd?: string;
  readonly description?: string;
  /**
   * Declared width in bytes of a text column (varchar(n)'s n, or from the catalog's schema file). FITS
   * needs it: a stream cannot know the longest value before writing the header. Other formats ignore it.
   */
  readonly width?: number;
}

/**
 * A value as the query reader hands it over: int2/int4 and floats as number, int8 as bigint (a number is
 * accepted when it is a safe integer), bool as boolean, text as string, SQL NULL as null.
 */
export type Value = number | bigint | boolean | string | null;
export type Row = readonly Value[];

/** How a result ended: OVERFLOW when the runner stopped at maxRecords with more rows available. */
export interface ResultStatus {
  readonly overflow: boolean;
}

/** A byte range to overwrite once the result is complete (FITS NAXIS2, known only at the end). */
export interface Patch {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

/**
 * A streaming writer: begin() once, rows() per batch, end() once; each returns only the bytes for that
 * step, so memory is bounded by the batch, never the result. patches() lists the in-place fixes a file
 * target must apply after end() (empty for every format but FITS).
 */
export interface ResultWriter {
  readonly mediaType: string;
  begin(): Uint8Array;
  /**
   * A batch of rows of values, or of binary COPY tuples (formats/tuples.ts: `asRows` decodes them). The
   * bytes returned are valid until the next call (FITS reuses its buffer): write them before asking again.
   */
  rows(batch: Batch): Uint8Array;
  /**
   * Bytes of output per row when every row takes the same (FITS: the declared widths): the sink then hands
   * rows() a batch in parts of at most MAX_WRITE_BYTES of output (sink.ts), so a wide declared row (a
   * varchar(65535) column) keeps memory bounded by bytes whatever the batch's row count.
   */
  readonly rowBytes?: number;
  end(status: ResultStatus): Uint8Array;
  patches(): readonly Patch[];
}

/**
 * A writer that owns its file (HDF5: the library seeks and rewrites its own structures): open() once,
 * rows() per batch, end() once, which closes the file; close() releases it after a failure.
 */
export interface FileWriter {
  readonly kind: 'file';
  readonly mediaType: string;
  open(path: string): Promise<void>;
  rows(batch: Batch): void;
  end(status: ResultStatus): void;
  close(): void;
}

/** Either kind of writer; `isFileWriter` tells them apart. */
export type AnyWriter = ResultWriter | FileWriter;

export function isFileWriter(w: AnyWriter): w is FileWriter {
  return 'kind' in w && w.kind === 'file';
}

/** Bad input to a writer: the message names the column (and row, 1-based over the whole result). */
export class FormatError extends Error {
  override readonly name = 'FormatError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface TypeInfo {
  readonly kind: 'int' | 'float' | 'bool' | 'text';
  /** FITS TFORM letter and bytes per value (text: width bytes of `A`). */
  readonly tform: string;
  readonly fitsBytes: number;
  /** TNULLn for integers: the type's minimum (a non-NULL value equal to it is refused). */
  readonly tnull?: bigint;
  /** VOTable FIELD datatype and BINARY2 bytes per value (0: variable length). */
  readonly votable: string;
  readonly voBytes: number;
}

/** The one PostgreSQL → FITS / VOTable type table every writer reads. */
export const TYPES: Readonly<Record<PgType, TypeInfo>> = {
  int2: { kind: 'int', tform: 'I', fitsBytes: 2, tnull: -(2n ** 15n), votable: 'short', voBytes: 2 },
  int4: { kind: 'int', tform: 'J', fitsBytes: 4, tnull: -(2n ** 31n), votable: 'int', voBytes: 4 },
  int8: { kind: 'int', tform: 'K', fitsBytes: 8, tnull: -(2n ** 63n), votable: 'long', voBytes: 8 },
  float4: { kind: 'float', tform: 'E', fitsBytes: 4, votable: 'float', voBytes: 4 },
  float8: { kind: 'float', tform: 'D', fitsBytes: 8, votable: 'double', voBytes: 8 },
  bool: { kind: 'bool', tform: 'L', fitsBytes: 1, votable: 'boolean', voBytes: 1 },
  // unicodeChar, not char: VOTable char is ASCII and a catalog's text is not.
  text: { kind: 'text', tform: 'A', fitsBytes: 0, votable: 'unicodeChar', voBytes: 0 },
  varchar: { kind: 'text', tform: 'A', fitsBytes: 0, votable: 'unicodeChar', voBytes: 0 },
};

const INT_RANGE: Readonly<Record<'int2' | 'int4' | 'int8', readonly [bigint, bigint]>> = {
  int2: [-(2n ** 15n), 2n ** 15n - 1n],
  int4: [-(2n ** 31n), 2n ** 31n - 1n],
  int8: [-(2n ** 63n), 2n ** 63n - 1n],
};

/** Checks the column list once, before any byte is written. */
export function checkColumns(columns: readonly Column[]): void {
  if (columns.length === 0) throw new FormatError('NoColumns', 'a result needs at least one column');
  const seen = new Map<string, number>();
  columns.forEach((c, i) => {
    // Readers (astropy, pandas) key columns by name: a second column of one name would be lost or renamed.
    const first = seen.get(c.name);
    if (first !== undefined) {
      throw new FormatError(
        'DuplicateColumn',
        `column ${i + 1} '${c.name}': the name of column ${first + 1} too`,
      );
    }
    seen.set(c.name, i);
    if (!(c.type in TYPES)) {
      throw new FormatError(
        'UnsupportedType',
        `column ${i + 1} '${c.name}': unsupported type '${String(c.type)}'`,
      );
    }
    if (c.width !== undefined && !(Number.isInteger(c.width) && c.width > 0)) {
      throw new FormatError('BadWidth', `column ${i + 1} '${c.name}': width must be a positive integer`);
    }
  });
}

function where(row: number, col: Column): string {
  return `row ${row}, column '${col.name}'`;
}

/**
 * An integer cell of a format that writes NULL as a sentinel value (FITS TNULL, our HDF5 attribute): the sentinel for
 * NULL, else the checked value — refused when it equals the sentinel, since it would read back as NULL.
 */
export function sentinelInt(
  v: Value | null,
  col: Column,
  row: number,
  sentinel: bigint,
  format: string,
): bigint {
  if (v === null) return sentinel;
  const b = intValue(v, col, row);
  if (b === sentinel)
    throw valueError('ValueIsNull', row, col, `${b} is this type's ${format} and would read back as NULL`);
  return b;
}

/** The integer as a bigint after checking its type and range, or throws naming row and column. */
export function intValue(v: Value, col: Column, row: number): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else
    throw new FormatError(
      'BadValue',
      `${where(row, col)}: expected an integer (${col.type}), got ${show(v)}`,
    );
  const [lo, hi] = INT_RANGE[col.type as 'int2' | 'int4' | 'int8'];
  if (b < lo || b > hi)
    throw new FormatError('BadValue', `${where(row, col)}: ${b} is out of range for ${col.type}`);
  return b;
}

/** The float, or throws naming row and column. */
export function floatValue(v: Value, col: Column, row: number): number {
  if (typeof v !== 'number') {
    throw new FormatError('BadValue', `${where(row, col)}: expected a number (${col.type}), got ${show(v)}`);
  }
  return col.type === 'float4' ? Math.fround(v) : v;
}

export function boolValue(v: Value, col: Column, row: number): boolean {
  if (typeof v !== 'boolean')
    throw new FormatError('BadValue', `${where(row, col)}: expected a boolean, got ${show(v)}`);
  return v;
}

export function textValue(v: Value, col: Column, row: number): string {
  if (typeof v !== 'string')
    throw new FormatError('BadValue', `${where(row, col)}: expected a string, got ${show(v)}`);
  return v;
}

/**
 * Writes a number column's value big-endian at `at`: FITS BINTABLE and VOTable BINARY2 encode numbers alike. The
 * value is already checked (intValue / floatValue), so it fits the type.
 */
export function putNumber(view: DataView, at: number, type: PgType, x: bigint | number): void {
  switch (type) {
    case 'int2':
      return view.setInt16(at, Number(x));
    case 'int4':
      return view.setInt32(at, Number(x));
    case 'int8':
      return view.setBigInt64(at, BigInt(x));
    case 'float4':
      return view.setFloat32(at, Number(x));
    case 'float8':
      return view.setFloat64(at, Number(x));
    default:
      throw new Error(`${type} is not a number type`);
  }
}

/** Throws a FormatError naming row and column with the reason. */
export function valueError(code: string, row: number, col: Column, reason: string): FormatError {
  return new FormatError(code, `${where(row, col)}: ${reason}`);
}

function show(v: Value): string {
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}`;
  return `${typeof v} ${String(v)}`;
}

/**
 * The value's text for text formats: the shortest decimal that reads back to the same float (float4: to
 * the same float32, as PostgreSQL prints it), NaN / Infinity / -Infinity as PostgreSQL spells them, -0
 * keeping its sign.
 */
export function formatFloat(x: number, type: PgType): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (Object.is(x, -0)) return '-0';
  if (type !== 'float4') return String(x);
  return float4Text(x);
}

/** Exact powers of ten as doubles (10^0 … 10^22). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * The shortest decimal that reads back to the float32 `x` (finite, not -0), as JavaScript writes it:
 * toPrecision(p) for the least p from 6 whose text rounds back to `x`, without toPrecision's slow
 * exact conversion. For p digits and k = p - 1 - ⌊log10 |x|⌋ (|x| in [1e-14, 1e15), so |k| ≤ 22 and 10^|k| is an exact double),
 * t = |x|·10^k (or |x| / 10^-k) is the correctly rounded double of the exact product — within 2^-53
 * of it relative, 10^-7 absolute as t < 10^9 — so Math.round(t) is toPrecision's digit string M unless t
 * lies within 10^-6 of a half-integer (a possible tie) or t is near the ends of [10^(p-1), 10^p) (the
 * exponent may be off by one): those rare values take the exact path. M / 10^k is then the double nearest
 * the decimal, which is what Number(toPrecision(p)) reads, and its text is that decimal's (decimalText).
 */
function float4Text(x: number): string {
  const a = Math.abs(x);
  if (a >= 1e-14 && a < 1e15) {
    const e = Math.floor(Math.log10(a));
    for (let p = 6; p < 10; p++) {
      const k = p - 1 - e;
      const t = k >= 0 ? a * (POW10[k] as number) : a / (POW10[-k] as number);
      const lo = POW10[p - 1] as number;
      if (!(t >= lo * 1.000001 && t < lo * 9.99999) || Math.abs((t % 1) - 0.5) < 1e-6) break;
      const m = Math.round(t);
      const v = k >= 0 ? m / (POW10[k] as number) : m * (POW10[-k] as number);
      if (Math.fround(v) === a) return x < 0 ? '-' + decimalText(m, k) : decimalText(m, k);
    }
  }
  return float4Exact(x);
}

/**
 * m·10^-k (m a positive integer below 2^53) as JavaScript's String() writes the double nearest it when
 * that decimal is the double's shortest (Number::toString: fixed notation for decimal exponents -6 … 21,
 * else d.ddde±n), without V8's slower general conversion.
 */
function decimalText(m: number, k: number): string {
  while (m % 10 === 0) {
    m /= 10;
    k--;
  }
  const digits = String(m);
  const len = digits.length;
  /** Where the decimal point goes, counted from the first digit. */
  const n = len - k;
  if (len <= n && n <= 21) return digits + '0'.repeat(n - len);
  if (0 < n && n <= 21) return digits.slice(0, n) + '.' + digits.slice(n);
  if (-6 < n && n <= 0) return '0.' + '0'.repeat(-n) + digits;
  const exp = n - 1;
  const mant = len === 1 ? digits : digits[0] + '.' + digits.slice(1);
  return mant + (exp < 0 ? 'e-' + String(-exp) : 'e+' + String(exp));
}

/** float4Text by toPrecision: exact for every float32 (the reference the fast path is tested against). */
export function float4Exact(x: number): string {
  // A float32 is within 2^-24 (relative) of any decimal that reads back to it, less than half a unit in
  // the 6th significant digit: so when the shortest such decimal has ≤ 6 digits, rounding to 6 gives it
  // (String(Number()) drops the trailing zeros), and the search can start at 6.
  // (Subnormal float32s have fewer bits: the search starts at 1 for them.)
  for (let p = Math.abs(x) < 2 ** -126 ? 1 : 6; p < 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return jsNumberText(s);
  }
  return jsNumberText(x.toPrecision(9));
}

/**
 * String(Number(s)) for a toPrecision result, without the slow double-to-text conversion when `s` is in
 * fixed notation: then both are `s` without trailing fractional zeros (toPrecision writes fixed notation
 * only for 1e-6 ≤ |x| < 10^p, where String writes fixed notation too).
 */
function jsNumberText(s: string): string {
  if (s.includes('e')) return String(Number(s));
  if (!s.includes('.')) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--; // '0'
  if (s.charCodeAt(end - 1) === 46) end--; // '.'
  return s.slice(0, end);
}

/** Text of a non-NULL value for the text formats (CSV, TSV, JSON strings). */
export function formatText(v: Value, col: Column, row: number): string {
  switch (TYPES[col.type].kind) {
    case 'int':
      return intValue(v, col, row).toString();
    case 'float':
      return formatFloat(floatValue(v, col, row), col.type);
    case 'bool':
      return boolValue(v, col, row) ? 'true' : 'false';
    case 'text':
      return textValue(v, col, row);
  }
}

/**
 * formatText for one column, as a function made once per column: the common case (the value of the type
 * the reader hands over, in range) takes no BigInt conversion and no type switch; anything else goes
 * through formatText, which converts or refuses it naming row and column.
 */
export function textFormatter(col: Column): (v: Value, row: number) => string {
  const slow = (v: Value, row: number): string => formatText(v, col, row);
  switch (col.type) {
    case 'int2':
    case 'int4': {
      const lo = col.type === 'int2' ? -32768 : -2147483648;
      const hi = -lo - 1;
      return (v, row) =>
        typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi ? String(v) : slow(v, row);
    }
    case 'int8':
      return (v, row) =>
        typeof v === 'bigint' && v >= INT8_MIN && v <= INT8_MAX ? v.toString() : slow(v, row);
    case 'float4':
      return (v, row) => (typeof v === 'number' ? formatFloat(Math.fround(v), 'float4') : slow(v, row));
    case 'float8':
      return (v, row) => (typeof v === 'number' ? formatFloat(v, 'float8') : slow(v, row));
    case 'bool':
      return (v, row) => (v === true ? 'true' : v === false ? 'false' : slow(v, row));
    case 'text':
    case 'varchar':
      return (v, row) => (typeof v === 'string' ? v : slow(v, row));
  }
}

const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

/** Checks a row has one value per column; `row` is its 1-based number in the whole result. */
export function checkRowLength(r: Row, columns: readonly Column[], row: number): void {
  if (r.length !== columns.length) {
    throw new FormatError('BadRow', `row ${row}: ${r.length} values for ${columns.length} columns`);
  }
}
