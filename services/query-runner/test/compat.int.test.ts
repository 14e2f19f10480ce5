// Compatibility: each writer's output for a table with every supported type and NULLs, read back by
// astropy (the library astronomers read results with), every value, unit, UCD and description compared.
// What astropy itself does to some values (it masks NaN, strips spaces, …) is in READER_RULES, each
// rule stated once; nothing else may differ.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWriter, writeToFile, type Column, type Row, type Value } from '../src/formats/index.js';
import { COLUMNS, FITS_COLUMNS, FITS_ROWS, ROWS } from '../src/formats/testdata/sample.js';
import { astropyPython, readWithAstropy, type AstropyResult } from './support/astropy.js';

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

const READER_RULES: Record<string, ReaderRules> = {
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

function compare(got: AstropyResult, columns: readonly Column[], rows: readonly Row[], format: string): void {
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

let python = '';
const dir = mkdtempSync(join(tmpdir(), 'skyport-compat-'));

beforeAll(() => {
  // The first run on a machine creates the venv from PyPI (see the README for the time it takes).
  python = astropyPython();
}, 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('astropy reads what the writers write', () => {
  for (const format of ['csv', 'tsv', 'votable', 'votable-binary2'] as const) {
    it(`${format}: every value and column as written`, async () => {
      const path = join(dir, `sample.${format}`);
      await writeToFile(path, createWriter(format, COLUMNS), [ROWS.slice(0, 3), ROWS.slice(3)]);
      compare(readWithAstropy(python, format, path), COLUMNS, ROWS, format);
    });
  }

  it('fits: every value, unit, TUCD and TCOMM as written, NAXIS2 patched, dtypes from the type table', async () => {
    const path = join(dir, 'sample.fits');
    await writeToFile(path, createWriter('fits', FITS_COLUMNS), [FITS_ROWS.slice(0, 2), FITS_ROWS.slice(2)]);
    const got = readWithAstropy(python, 'fits', path);
    compare(got, FITS_COLUMNS, FITS_ROWS, 'fits');
    expect(got.naxis2).toBe(FITS_ROWS.length);
    expect(got.columns.map((c) => c.dtype)).toEqual(['>i8', '>i2', '>i4', '>f4', '>f8', 'bool', '|S12']);
  });

  it('votable: dtypes from the type table, and QUERY_STATUS OK then OVERFLOW', async () => {
    for (const format of ['votable', 'votable-binary2']) {
      const path = join(dir, `over.${format}`);
      await writeToFile(path, createWriter(format, COLUMNS), [ROWS], () => ({ overflow: true }));
      const got = readWithAstropy(python, format, path);
      expect(got.query_status).toEqual(['OK', 'OVERFLOW']);
      expect(got.columns.map((c) => c.dtype)).toEqual([
        'int64',
        'int16',
        'int32',
        'float32',
        'float64',
        'bool',
        'object',
        'object',
      ]);
    }
  });

  it('an empty result and a one-row result read back in every format', async () => {
    for (const format of ['csv', 'tsv', 'fits', 'votable', 'votable-binary2']) {
      const cols = format === 'fits' ? FITS_COLUMNS : COLUMNS;
      const rows = format === 'fits' ? FITS_ROWS : ROWS;
      for (const n of [0, 1]) {
        const path = join(dir, `n${n}.${format}`);
        await writeToFile(path, createWriter(format, cols), [rows.slice(0, n)]);
        const got = readWithAstropy(python, format, path);
        expect(
          got.columns.map((c) => c.values.length),
          `${format} ${n}`,
        ).toEqual(cols.map(() => n));
        if (n === 1) compare(got, cols, rows.slice(0, 1), format);
      }
    }
  });
});
