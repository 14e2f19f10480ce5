import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createWriter, FormatError } from './index.js';
import { writeToFile } from './sink.js';
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
