// Compatibility: each writer's output for a table with every supported type and NULLs, read back by
// astropy (the library astronomers read results with; pyarrow for Parquet, h5py for HDF5), every value,
// unit, UCD and description compared. Parquet and FITS also from binary COPY tuples, which they read as
// they are.
// What astropy itself does to some values (it masks NaN, strips spaces, …) is in
// support/astropy-rules.ts, each rule stated once; nothing else may differ.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWriter, writeToFile, type Column } from '../src/formats/index.js';
import { ParquetResultWriter } from '../src/formats/parquet.js';
import { tupleBatch } from '../src/formats/testdata/binary-copy.js';
import { COLUMNS, FITS_COLUMNS, FITS_ROWS, ROWS } from '../src/formats/testdata/sample.js';
import { astropyPython, readWithAstropy } from './support/astropy.js';
import { compare } from './support/astropy-rules.js';

/** HDF5 text is fixed-width: the free-text column with a declared width (in UTF-8 bytes). */
const HDF5_COLUMNS: readonly Column[] = COLUMNS.map((c) => (c.type === 'text' ? { ...c, width: 64 } : c));

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
    for (const tuples of [false, true]) {
      const path = join(dir, `sample-${tuples}.fits`);
      const batches = [FITS_ROWS.slice(0, 2), FITS_ROWS.slice(2)].map((b) =>
        tuples ? tupleBatch(FITS_COLUMNS, b) : b,
      );
      await writeToFile(path, createWriter('fits', FITS_COLUMNS), batches);
      const got = readWithAstropy(python, 'fits', path);
      compare(got, FITS_COLUMNS, FITS_ROWS, 'fits');
      expect(got.naxis2).toBe(FITS_ROWS.length);
      expect(got.columns.map((c) => c.dtype)).toEqual(['>i8', '>i2', '>i4', '>f4', '>f8', 'bool', '|S12']);
    }
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

  it('parquet (pyarrow): every value, NULL apart from NaN, types, metadata, status, one row group per 2 rows', async () => {
    for (const [overflow, tuples] of [
      [false, false],
      [true, false],
      [false, true],
    ] as const) {
      const path = join(dir, `sample-${overflow}-${tuples}.parquet`);
      const writer = new ParquetResultWriter(COLUMNS, { rowGroupRows: 2 });
      // From rows of values, and from binary COPY tuples (what the reader hands over for a query).
      const batches = [ROWS.slice(0, 3), ROWS.slice(3)].map((b) => (tuples ? tupleBatch(COLUMNS, b) : b));
      await writeToFile(path, writer, batches, () => ({ overflow }));
      const got = readWithAstropy(python, 'parquet', path);
      compare(got, COLUMNS, ROWS, 'parquet');
      expect(got.columns.map((c) => c.dtype)).toEqual([
        'int64',
        'int16',
        'int32',
        'float',
        'double',
        'bool',
        'string',
        'string',
      ]);
      expect(got.query_status).toEqual([overflow ? 'OVERFLOW' : 'OK']);
      expect(got.row_groups).toBe(3);
    }
  });

  it('hdf5 (h5py): a chunked, resizable compound dataset, NULL conventions, attributes, status', async () => {
    const path = join(dir, 'sample.h5');
    await writeToFile(path, createWriter('hdf5', HDF5_COLUMNS), [ROWS.slice(0, 2), ROWS.slice(2)], () => ({
      overflow: true,
    }));
    const got = readWithAstropy(python, 'hdf5', path);
    compare(got, HDF5_COLUMNS, ROWS, 'hdf5');
    expect(got.columns.map((c) => c.dtype)).toEqual([
      '<i8',
      '<i2',
      '<i4',
      '<f4',
      '<f8',
      '|i1',
      '|S12',
      '|S64',
    ]);
    expect(got.query_status).toEqual(['OVERFLOW']);
    expect(got.maxshape).toEqual([null]);
    expect(got.chunks?.length).toBe(1);
  });

  it('an empty result and a one-row result read back in every format', async () => {
    for (const format of ['csv', 'tsv', 'fits', 'votable', 'votable-binary2', 'parquet', 'hdf5']) {
      const cols = format === 'fits' ? FITS_COLUMNS : format === 'hdf5' ? HDF5_COLUMNS : COLUMNS;
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
