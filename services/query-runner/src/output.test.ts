import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { createWriter } from './formats/index.js';
import { render } from './formats/testdata/golden.js';
import { COLUMNS, FITS_COLUMNS, FITS_ROWS, ROWS } from './formats/testdata/sample.js';
import type { Column, Row } from './formats/types.js';
import { checkOutput, partName, writeResult } from './output.js';

const root = mkdtempSync(join(tmpdir(), 'skyport-output-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => mkdtempSync(join(root, `${n++}-`));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const INTS: Column[] = [{ name: 'i', type: 'int4' }];
const batches = (count: number, size: number): Row[][] =>
  Array.from({ length: count }, (_, b) => Array.from({ length: size }, (_, i) => [1000 + b * size + i]));

describe('writeResult', () => {
  it('writes one file with its size, sha256 and row count, and no .partial left', async () => {
    const dir = fresh();
    const r = await writeResult(COLUMNS, [ROWS.slice(0, 2), ROWS.slice(2)], () => ({ overflow: false }), {
      format: 'csv',
      dir,
      stem: 'result',
    });
    const bytes = readFileSync(join(dir, 'result.csv'));
    expect(bytes.equals(render(createWriter('csv', COLUMNS), [ROWS]))).toBe(true);
    expect(r.files).toEqual([
      {
        name: 'result.csv',
        mediaType: 'text/csv; header=present',
        rows: ROWS.length,
        bytes: bytes.length,
        sha256: sha(bytes),
      },
    ]);
    expect(readdirSync(dir)).toEqual(['result.csv']);
  });

  it('gzips (FITS with its NAXIS2 patch applied before compressing), the same bytes every time', async () => {
    const dir = fresh();
    const opts = { format: 'fits', dir, stem: 'r', compression: 'gzip' } as const;
    const a = await writeResult(FITS_COLUMNS, [FITS_ROWS], () => ({ overflow: false }), opts);
    const gz = readFileSync(join(dir, 'r.fits.gz'));
    expect(gunzipSync(gz).equals(render(createWriter('fits', FITS_COLUMNS), [FITS_ROWS]))).toBe(true);
    const b = await writeResult(
      FITS_COLUMNS,
      [FITS_ROWS.slice(0, 1), FITS_ROWS.slice(1)],
      () => ({ overflow: false }),
      opts,
    );
    expect(b.files[0]?.sha256).toBe(a.files[0]?.sha256);
    expect(a.files[0]?.bytes).toBe(gz.length);
  });

  it('splits into numbered parts, each a whole file, a new one once a part reaches splitMaxBytes', async () => {
    const dir = fresh();
    const progress: number[] = [];
    // A batch is 100 lines of '1xyz' + CRLF, 600 bytes: a part reaches 1000 bytes after two batches.
    const r = await writeResult(INTS, batches(10, 100), () => ({ overflow: true }), {
      format: 'csv',
      dir,
      stem: 'q',
      splitMaxBytes: 1000,
      onProgress: (p) => progress.push(p.rows),
    });
    expect(r.files.map((f) => f.name)).toEqual([1, 2, 3, 4, 5].map((i) => `q_00000${i}.csv`));
    expect(r.files.map((f) => f.rows)).toEqual([200, 200, 200, 200, 200]);
    expect(r.rows).toBe(1000);
    expect(progress).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    let next = 1000;
    for (const f of r.files) {
      const lines = readFileSync(join(dir, f.name), 'utf8').split('\r\n');
      expect(lines[0]).toBe('i');
      for (const l of lines.slice(1, -1)) expect(Number(l)).toBe(next++);
    }
    expect(next).toBe(2000);
    expect(r.files.map((f) => f.bytes)).toEqual([1203, 1203, 1203, 1203, 1203]);
  });

  it('on a failure mid-result removes the .partial files and writes no final file', async () => {
    const dir = fresh();
    async function* failing(): AsyncGenerator<Row[]> {
      yield [[1]];
      await Promise.resolve();
      throw new Error('connection lost');
    }
    await expect(
      writeResult(INTS, failing(), () => ({ overflow: false }), { format: 'parquet', dir, stem: 'x' }),
    ).rejects.toThrow('connection lost');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses gzip for formats that compress inside and a bad splitMaxBytes, naming the field', () => {
    expect(() => checkOutput({ format: 'parquet', compression: 'gzip' })).toThrow(
      'compression: gzip does not apply to parquet',
    );
    expect(() => checkOutput({ format: 'hdf5', compression: 'gzip' })).toThrow('compression:');
    expect(() => checkOutput({ format: 'csv', splitMaxBytes: 0 })).toThrow(
      'splitMaxBytes: must be a positive integer, got 0',
    );
    expect(partName({ format: 'votable', stem: 'r', compression: 'gzip' }, 12)).toBe('r_000012.vot.gz');
  });
});
