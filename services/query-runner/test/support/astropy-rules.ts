// What astropy shows for the values our writers write exactly: the format's reader rules, each stated
// once, and the comparison of astropy's reading against the rows that were written.

import { expect } from 'vitest';
import type { Column, Row, Value } from '../../src/formats/index.js';
import type { AstropyResult } from './astropy.js';

/** How astropy's reader for a format presents values our file holds exactly. */
interface ReaderRules {
  /** NaN reads as masked (astropy masks invalid floats in FITS and VOTable). */
  readonly nanIsMasked: boolean;
  /** NULL text reads as '' (VOTable char arrays have no mask in astropy). */
  readonly nullTextIsEmpty: boolean;
  /** '' reads as masked (astropy.io.ascii and FITS mask empty strings). */
  readonly emptyTextIsMasked: boolean;
  /** Leading and trailing spaces of text are stripped (ascii csv, VOTable TABLEDATA). */
  readonly trimsText: boolean;
  /** CRLF inside a field reads as LF (the ascii readers open the file in text mode). */
  readonly crlfIsLf: boolean;
  /** Metadata (units, UCDs, descriptions) travels in the file. */
  readonly metadata: boolean;
  /** Booleans stay text ('true' / 'false'): astropy.io.ascii converts no booleans by default. */
  readonly boolAsText: boolean;
  /** Floats read back as float64 of the written decimal: compare float4 after rounding to float32. */
  readonly float4FromText: boolean;
}

const ASCII: ReaderRules = {
  nanIsMasked: false,
  nullTextIsEmpty: false,
  emptyTextIsMasked: true,
  trimsText: true,
  crlfIsLf: true,
  metadata: false,
  boolAsText: true,
  float4FromText: true,
};

export const READER_RULES: Record<string, ReaderRules> = {
  csv: ASCII,
  tsv: { ...ASCII, trimsText: false },
  fits: {
    ...ASCII,
    nanIsMasked: true,
    crlfIsLf: false,
    metadata: true,
    boolAsText: false,
    float4FromText: false,
  },
  votable: {
    nanIsMasked: true,
    nullTextIsEmpty: true,
    emptyTextIsMasked: false,
    trimsText: true,
    crlfIsLf: false,
    metadata: true,
    boolAsText: false,
    float4FromText: false,
  },
  'votable-binary2': {
    nanIsMasked: true,
    nullTextIsEmpty: true,
    emptyTextIsMasked: false,
    trimsText: false,
    crlfIsLf: false,
    metadata: true,
    boolAsText: false,
    float4FromText: false,
  },
  parquet: {
    nanIsMasked: false,
    nullTextIsEmpty: false,
    emptyTextIsMasked: false,
    trimsText: false,
    crlfIsLf: false,
    metadata: true,
    boolAsText: false,
    float4FromText: false,
  },
  hdf5: {
    nanIsMasked: true,
    nullTextIsEmpty: false,
    emptyTextIsMasked: true,
    trimsText: false,
    crlfIsLf: false,
    metadata: true,
    boolAsText: false,
    float4FromText: false,
  },
};

function hex(x: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(x);
  return b.toString('hex');
}

/** What astropy should show for `v` in column `col`, under the format's reader rules. */
function expected(v: Value, col: Column, rules: ReaderRules): string | boolean | null {
  if (typeof v === 'number' && (col.type === 'float4' || col.type === 'float8')) {
    if (Number.isNaN(v) && rules.nanIsMasked) return null;
    return hex(col.type === 'float4' ? Math.fround(v) : v);
  }
  if (v === null)
    return col.type === 'text' || col.type === 'varchar' ? (rules.nullTextIsEmpty ? '' : null) : null;
  if (typeof v === 'bigint' || typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return rules.boolAsText ? String(v) : v;
  let s = rules.crlfIsLf ? v.replaceAll('\r\n', '\n') : v;
  if (rules.trimsText) s = s.trim();
  return s === '' && rules.emptyTextIsMasked ? null : s;
}

/** astropy's float as it compares: float4 columns read from text are rounded to float32 first. */
function actual(v: string | boolean | null, col: Column, rules: ReaderRules): string | boolean | null {
  if (col.type !== 'float4' || !rules.float4FromText || typeof v !== 'string') return v;
  return hex(Math.fround(Buffer.from(v, 'hex').readDoubleBE(0)));
}

/** Expects astropy's reading of a `format` file to show `rows` of `columns` exactly, under the rules. */
export function compare(
  got: AstropyResult,
  columns: readonly Column[],
  rows: readonly Row[],
  format: string,
): void {
  const rules = READER_RULES[format]!;
  expect(got.columns.map((c) => c.name)).toEqual(columns.map((c) => c.name));
  columns.forEach((col, i) => {
    const g = got.columns[i]!;
    if (rules.metadata) {
      expect({ unit: g.unit, ucd: g.ucd, description: g.description }, col.name).toEqual({
        unit: col.unit ?? null,
        ucd: col.ucd ?? null,
        description: col.description ?? null,
      });
    }
    expect(
      g.values.map((v) => actual(v, col, rules)),
      `${format} column ${col.name}`,
    ).toEqual(rows.map((r) => expected(r[i] ?? null, col, rules)));
  });
}
