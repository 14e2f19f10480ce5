import { describe, expect, it } from 'vitest';
import { ParquetResultWriter } from './parquet.js';
import { expectGolden, render } from './testdata/golden.js';
import { COLUMNS, ROWS } from './testdata/sample.js';
import { FormatError, type Column } from './types.js';

describe('ParquetResultWriter', () => {
  it('writes the sample (golden file): PAR1 at both ends, the same bytes for the same rows', () => {
    const out = render(new ParquetResultWriter(COLUMNS), [ROWS.slice(0, 2), ROWS.slice(2)]);
    expectGolden('sample.parquet', out);
    expect(out.subarray(0, 4).toString('latin1')).toBe('PAR1');
    expect(out.subarray(-4).toString('latin1')).toBe('PAR1');
    const again = render(new ParquetResultWriter(COLUMNS), [ROWS]);
    expect(again.equals(out)).toBe(true);
  });

  it('emits a row group as soon as rowGroupRows rows are gathered, nothing before', () => {
    const cols: Column[] = [{ name: 'x', type: 'float8' }];
    const w = new ParquetResultWriter(cols, { rowGroupRows: 1000 });
    expect(w.begin().length).toBe(4);
    const row = (i: number): [number] => [i / 7];
    expect(w.rows(Array.from({ length: 999 }, (_, i) => row(i))).length).toBe(0);
    // The 1000th row completes a group: its pages come out; the rest waits for the next group.
    const group = w.rows(Array.from({ length: 10 }, (_, i) => row(999 + i)));
    expect(group.length).toBeGreaterThan(1000);
    const tail = w.end({ overflow: false });
    expect(Buffer.from(tail.subarray(-4)).toString('latin1')).toBe('PAR1');
    expect(Buffer.from(tail).toString('latin1')).toContain('skyport.query_status');
  });

  it('puts units, UCDs, descriptions and the query status into the footer key-value metadata', () => {
    const out = render(new ParquetResultWriter(COLUMNS), [ROWS], { overflow: true }).toString('utf8');
    expect(out).toContain('"name":"ra","datatype":"float8","unit":"deg","ucd":"pos.eq.ra;meta.main"');
    expect(out).toContain('OVERFLOW');
  });

  it('refuses a wrong value naming row and column, and a bad rowGroupRows', () => {
    const w = new ParquetResultWriter([{ name: 'n', type: 'int4' }]);
    w.begin();
    expect(() => w.rows([[1], ['x']])).toThrow(FormatError);
    expect(() => new ParquetResultWriter([{ name: 'n', type: 'int4' }]).rows([[2 ** 31]])).toThrow(
      "row 1, column 'n': 2147483648 is out of range for int4",
    );
    expect(() => new ParquetResultWriter(COLUMNS, { rowGroupRows: 0 })).toThrow('rowGroupRows: must be');
  });
});
