import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import { FitsWriter } from './fits.js';
import { createWriter, writeToFile } from './index.js';
import { ParquetResultWriter } from './parquet.js';
import { tupleBatch } from './testdata/binary-copy.js';
import { expectGolden, render } from './testdata/golden.js';
import { COLUMNS, FITS_COLUMNS, FITS_ROWS, ROWS } from './testdata/sample.js';
import { asRows, TupleBatch } from './tuples.js';
import type { Column, Row } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'skyport-tuples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** ROWS as binary COPY holds them: a float4 is a float32. */
const STORED: Row[] = ROWS.map((r) =>
  r.map((v, i) => (COLUMNS[i]?.type === 'float4' && typeof v === 'number' ? Math.fround(v) : v)),
);
const FITS_STORED: Row[] = STORED.map((r) => r.slice(0, FITS_COLUMNS.length));

describe('writers from binary COPY tuples', () => {
  it('decode to the same rows the reader gave before (asRows)', () => {
    const b = tupleBatch(COLUMNS, ROWS);
    expect(b).toBeInstanceOf(TupleBatch);
    expect(asRows(b)).toEqual(STORED);
    expect(asRows(STORED)).toBe(STORED);
  });

  it('Parquet and FITS read the bytes themselves and write the golden files, batch boundaries anywhere', () => {
    for (const cut of [0, 1, 2, 5, ROWS.length]) {
      const parquet = render(new ParquetResultWriter(COLUMNS), [
        tupleBatch(COLUMNS, ROWS.slice(0, cut)),
        tupleBatch(COLUMNS, ROWS.slice(cut)),
      ]);
      expectGolden('sample.parquet', parquet);
      const fits = render(new FitsWriter(FITS_COLUMNS), [
        tupleBatch(FITS_COLUMNS, FITS_ROWS.slice(0, cut)),
        tupleBatch(FITS_COLUMNS, FITS_ROWS.slice(cut)),
      ]);
      expectGolden('sample.fits', fits);
    }
  });

  it('every writer writes the same bytes from tuples as from the same rows', async () => {
    for (const format of ['csv', 'tsv', 'json', 'votable', 'votable-binary2', 'parquet', 'fits', 'hdf5']) {
      const cols =
        format === 'fits'
          ? FITS_COLUMNS
          : format === 'hdf5'
            ? COLUMNS.map((c) => (c.type === 'text' ? { ...c, width: 64 } : c))
            : COLUMNS;
      const rows = format === 'fits' ? FITS_STORED : STORED;
      const a = join(dir, `rows.${format}`);
      const b = join(dir, `tuples.${format}`);
      // The same batch boundaries: VOTable BINARY2 starts a base64 line per batch.
      await writeToFile(a, createWriter(format, cols), [rows.slice(0, 1), rows.slice(1, 3), rows.slice(3)]);
      await writeToFile(b, createWriter(format, cols), [
        tupleBatch(cols, rows.slice(0, 1)),
        // Rows and tuples may be mixed: the writer's row numbers and row groups go on across them.
        rows.slice(1, 3),
        tupleBatch(cols, rows.slice(3)),
      ]);
      expect(readFileSync(b).equals(readFileSync(a)), format).toBe(true);
    }
  }, 30_000);

  it('Parquet ends a row group at rowGroupRows or at the row that brings it to rowGroupBytes, alike from rows and tuples', () => {
    const cols: Column[] = [
      { name: 'id', type: 'int8' },
      { name: 'ok', type: 'bool' },
      { name: 'note', type: 'text' },
    ];
    const rows: Row[] = Array.from({ length: 40 }, (_, i) => [
      BigInt(i),
      i % 3 === 0 ? null : i % 2 === 0,
      i % 5 === 0 ? null : 'é'.repeat(i % 11),
    ]);
    // The rule, counted here: 8 + 1 bytes a row, plus 4 + the UTF-8 bytes of non-NULL text.
    const expected = (maxRows: number, maxBytes: number): number[] => {
      const groups: number[] = [];
      let n = 0;
      let bytes = 0;
      for (const r of rows) {
        n++;
        bytes += 9 + (r[2] === null ? 0 : 4 + Buffer.byteLength(r[2] as string));
        if (n >= maxRows || bytes >= maxBytes) {
          groups.push(n);
          n = bytes = 0;
        }
      }
      return n > 0 ? [...groups, n] : groups;
    };
    for (const [maxRows, maxBytes] of [
      [7, 1 << 20],
      [100, 60],
      [6, 80],
      [100, 1],
    ] as const) {
      const opts = { rowGroupRows: maxRows, rowGroupBytes: maxBytes };
      const fromRows = render(new ParquetResultWriter(cols, opts), [rows.slice(0, 13), rows.slice(13)]);
      const fromTuples = render(new ParquetResultWriter(cols, opts), [
        tupleBatch(cols, rows.slice(0, 4)),
        tupleBatch(cols, rows.slice(4, 29)),
        tupleBatch(cols, rows.slice(29)),
      ]);
      expect(fromTuples.equals(fromRows), `${maxRows} rows, ${maxBytes} bytes`).toBe(true);
      const meta = parquetMetadata(new Uint8Array(fromTuples).buffer);
      expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual(expected(maxRows, maxBytes));
    }
    expect(() => new ParquetResultWriter(cols, { rowGroupBytes: 0 })).toThrow('rowGroupBytes: must be');
  });

  it('FITS refuses from tuples what it refuses from rows, with the same message and row number', () => {
    const cols: Column[] = [
      { name: 's', type: 'varchar', width: 3 },
      { name: 'i', type: 'int2' },
      { name: 'k', type: 'int8' },
    ];
    const cases: [Row, string][] = [
      [['abcd', 1, 1n], "row 2, column 's': 4 characters exceed the declared width 3"],
      [['é', 1, 1n], "row 2, column 's': FITS text is printable ASCII only"],
      [['a\nb', 1, 1n], "row 2, column 's': FITS text is printable ASCII only"],
      [['ok', -32768, 1n], "row 2, column 'i': -32768 is this type's TNULL in FITS"],
      [['ok', 1, -(2n ** 63n)], "row 2, column 'k': -9223372036854775808 is this type's TNULL in FITS"],
    ];
    for (const [row, message] of cases) {
      const w = new FitsWriter(cols);
      w.rows(tupleBatch(cols, [['abc', -32767, -(2n ** 63n) + 1n]]));
      expect(() => w.rows(tupleBatch(cols, [row]))).toThrow(message);
      expect(() => new FitsWriter(cols).rows([['abc', 0, 0n], row])).toThrow(message);
    }
  });
});
