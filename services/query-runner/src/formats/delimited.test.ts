import { describe, expect, it } from 'vitest';
import { DelimitedWriter } from './delimited.js';
import { expectGolden, render } from './testdata/golden.js';
import { COLUMNS, ROWS } from './testdata/sample.js';
import type { Column } from './types.js';

describe('DelimitedWriter', () => {
  it('writes the sample as CSV and TSV (golden files)', () => {
    expectGolden('sample.csv', render(new DelimitedWriter(COLUMNS, ','), [ROWS]));
    expectGolden('sample.tsv', render(new DelimitedWriter(COLUMNS, '\t'), [ROWS]));
  });

  it('writes the same bytes however the rows are batched', () => {
    const whole = render(new DelimitedWriter(COLUMNS), [ROWS]);
    const split = render(new DelimitedWriter(COLUMNS), [
      ROWS.slice(0, 1),
      [],
      ROWS.slice(1, 4),
      ROWS.slice(4),
    ]);
    expect(split.equals(whole)).toBe(true);
  });

  it('quotes per RFC 4180 and keeps NULL (no field) apart from the empty string ("")', () => {
    const cols: Column[] = [
      { name: 'a,b', type: 'text' },
      { name: 'n', type: 'int4' },
    ];
    const out = render(new DelimitedWriter(cols), [
      [
        ['say "hi"', null],
        ['', 1],
        ['line\nbreak', 2],
        ['x\ty', 3],
      ],
    ]);
    expect(out.toString()).toBe('"a,b",n\r\n"say ""hi""",\r\n"",1\r\n"line\nbreak",2\r\nx\ty,3\r\n');
    const tsv = render(new DelimitedWriter(cols, '\t'), [
      [
        ['x\ty', 3],
        ['a,b', null],
      ],
    ]);
    expect(tsv.toString()).toBe('a,b\tn\r\n"x\ty"\t3\r\na,b\t\r\n');
  });

  it('writes floats as their shortest exact decimal: float4 as float32, ±Infinity, NaN and -0', () => {
    const cols: Column[] = [
      { name: 'f4', type: 'float4' },
      { name: 'f8', type: 'float8' },
    ];
    const out = render(new DelimitedWriter(cols), [
      [
        [0.1, 0.1],
        [Math.fround(1 / 3), 1 / 3],
        [NaN, -Infinity],
        [-0, Infinity],
      ],
    ]);
    expect(out.toString()).toBe(
      'f4,f8\r\n0.1,0.1\r\n0.33333334,0.3333333333333333\r\nNaN,-Infinity\r\n-0,Infinity\r\n',
    );
  });

  it('writes int8 beyond 2^53 exactly and only the header for an empty result', () => {
    const cols: Column[] = [{ name: 'id', type: 'int8' }];
    expect(render(new DelimitedWriter(cols), [[[2n ** 63n - 1n]]]).toString()).toBe(
      'id\r\n9223372036854775807\r\n',
    );
    expect(render(new DelimitedWriter(cols), []).toString()).toBe('id\r\n');
  });

  it('refuses a wrong value naming the row (over the whole result) and the column', () => {
    const w = new DelimitedWriter([
      { name: 'id', type: 'int8' },
      { name: 's', type: 'int2' },
    ]);
    w.rows([[1n, 1]]);
    expect(() => w.rows([[2n, 1.5]])).toThrow(
      "row 2, column 's': expected an integer (int2), got number 1.5",
    );
    expect(() => w.rows([[3n, 40000]])).toThrow("row 3, column 's': 40000 is out of range for int2");
    expect(() => w.rows([[2 ** 53, 1]])).toThrow("row 4, column 'id': expected an integer (int8)");
    expect(() => w.rows([[1n]])).toThrow('row 5: 1 values for 2 columns');
  });
});
