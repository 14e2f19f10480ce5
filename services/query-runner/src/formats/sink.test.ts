import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FitsWriter } from './fits.js';
import { createWriter, FormatError } from './index.js';
import { MAX_WRITE_BYTES, writeToFile } from './sink.js';
import { tupleBatch } from './testdata/binary-copy.js';
import { render } from './testdata/golden.js';
import { FITS_COLUMNS, FITS_ROWS } from './testdata/sample.js';

const dir = mkdtempSync(join(tmpdir(), 'skyport-sink-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeToFile', () => {
  it('streams batches from an async source and patches FITS NAXIS2 in the file', async () => {
    async function* batches(): AsyncGenerator<readonly (typeof FITS_ROWS)[number][]> {
      for (const r of FITS_ROWS) {
        // A real reader waits for the database between batches.
        await new Promise((resolve) => setImmediate(resolve));
        yield [r];
      }
    }
    const path = join(dir, 'r.fits');
    const summary = await writeToFile(path, createWriter('fits', FITS_COLUMNS), batches());
    const file = readFileSync(path);
    expect(summary).toEqual({ bytes: file.length, rows: FITS_ROWS.length });
    expect(file.equals(render(createWriter('fits', FITS_COLUMNS), [FITS_ROWS]))).toBe(true);
  });

  it('writes fixed-size rows in parts of at most MAX_WRITE_BYTES: the same bytes, rows and tuples alike', async () => {
    // int4 + varchar(65535): 63 rows of 65,539 bytes fit in 4 MiB, so 150 rows are three parts (63, 63, 24).
    const columns = [
      { name: 'g', type: 'int4' as const },
      { name: 'note', type: 'varchar' as const, width: 65_535 },
    ];
    const rows = Array.from({ length: 150 }, (_, i) => [i, i % 3 === 0 ? null : `row ${i}`]);
    const expected = render(createWriter('fits', columns), [rows]);
    for (const batch of [rows, tupleBatch(columns, rows)]) {
      const writer = new FitsWriter(columns);
      const sizes: number[] = [];
      const write = writer.rows.bind(writer);
      writer.rows = (b) => {
        const out = write(b);
        sizes.push(out.length);
        return out;
      };
      const path = join(dir, 'wide.fits');
      expect(await writeToFile(path, writer, [batch])).toMatchObject({ rows: 150 });
      expect(readFileSync(path).equals(expected)).toBe(true);
      expect(sizes).toEqual([63, 63, 24].map((n) => n * (4 + 65_535)));
      expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_WRITE_BYTES);
    }
  });

  it('passes the final status to the writer', async () => {
    const path = join(dir, 'r.json');
    await writeToFile(path, createWriter('json', [{ name: 'x', type: 'int2' }]), [[[1]]], () => ({
      overflow: true,
    }));
    expect(readFileSync(path, 'utf8')).toContain('"queryStatus":"OVERFLOW"');
  });

  it('refuses an unknown format naming it', () => {
    expect(() => createWriter('xlsx', FITS_COLUMNS)).toThrow(FormatError);
    expect(() => createWriter('xlsx', FITS_COLUMNS)).toThrow("format: 'xlsx' is not one of csv, tsv, json");
  });
});
