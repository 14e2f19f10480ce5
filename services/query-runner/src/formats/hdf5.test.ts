import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Hdf5Writer } from './hdf5.js';
import { writeToFile } from './sink.js';
import { FITS_COLUMNS, FITS_ROWS } from './testdata/sample.js';
import { FormatError, type Column } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'skyport-h5-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Hdf5Writer', () => {
  it('writes an HDF5 file whose bytes depend only on the rows (a rerun gives the same file)', async () => {
    const a = join(dir, 'a.h5');
    const b = join(dir, 'b.h5');
    // Two runs years apart: a timestamp in the file would differ.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date('2020-01-01T00:00:00Z'));
      await writeToFile(a, new Hdf5Writer(FITS_COLUMNS), [FITS_ROWS.slice(0, 2), FITS_ROWS.slice(2)]);
      vi.setSystemTime(new Date('2030-06-15T12:34:56Z'));
      await writeToFile(b, new Hdf5Writer(FITS_COLUMNS), [FITS_ROWS.slice(0, 2), FITS_ROWS.slice(2)]);
    } finally {
      vi.useRealTimers();
    }
    const bytes = readFileSync(a);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('\x89HDF\r\n\x1a\n');
    expect(bytes.equals(readFileSync(b))).toBe(true);
  }, 30_000);

  it('refuses text without a declared width, a value wider than it, and an integer equal to its NULL', async () => {
    expect(() => new Hdf5Writer([{ name: 't', type: 'text' }])).toThrow(
      "column 1 't': HDF5 needs a declared width for text",
    );
    const cols: Column[] = [
      { name: 't', type: 'varchar', width: 3 },
      { name: 'n', type: 'int2' },
    ];
    const w = new Hdf5Writer(cols);
    await w.open(join(dir, 'bad.h5'));
    try {
      expect(() =>
        w.rows([
          ['abc', 1],
          ['é東', 2],
        ]),
      ).toThrow("row 2, column 't': 5 UTF-8 bytes exceed the declared width 3");
      expect(() => w.rows([['ab', -32768]])).toThrow(FormatError);
    } finally {
      w.close();
    }
  });
});
