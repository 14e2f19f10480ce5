import { describe, expect, it } from 'vitest';
import { JsonWriter } from './json.js';
import { expectGolden, render } from './testdata/golden.js';
import { COLUMNS, ROWS } from './testdata/sample.js';
import type { Column } from './types.js';

describe('JsonWriter', () => {
  it('writes the sample (golden file) as valid JSON of the documented shape', () => {
    const out = render(new JsonWriter(COLUMNS), [ROWS.slice(0, 2), ROWS.slice(2)]);
    expectGolden('sample.json', out);
    const doc = JSON.parse(out.toString()) as {
      columns: { name: string }[];
      data: unknown[][];
      rowCount: number;
    };
    expect(doc.columns.map((c) => c.name)).toEqual(COLUMNS.map((c) => c.name));
    expect(doc.rowCount).toBe(ROWS.length);
    expect(doc.data[1]?.slice(3, 5)).toEqual(['NaN', '-Infinity']);
    expect(doc.data[2]?.[7]).toBe('unicode: é 東京 😀');
  });

  it('writes int8 beyond 2^53 as an exact number literal', () => {
    const cols: Column[] = [{ name: 'id', type: 'int8' }];
    expect(render(new JsonWriter(cols), [[[2n ** 62n + 1n], [null]]]).toString()).toContain(
      '\n[4611686018427387905],\n[null]\n]',
    );
  });

  it('writes an empty result and a one-row result, with the overflow flag', () => {
    const cols: Column[] = [{ name: 'b', type: 'bool', unit: 'm' }];
    expect(JSON.parse(render(new JsonWriter(cols), []).toString())).toEqual({
      columns: [{ name: 'b', datatype: 'bool', unit: 'm' }],
      data: [],
      rowCount: 0,
      queryStatus: 'OK',
    });
    const one = JSON.parse(render(new JsonWriter(cols), [[[true]]], { overflow: true }).toString()) as object;
    expect(one).toMatchObject({ data: [[true]], rowCount: 1, queryStatus: 'OVERFLOW' });
  });
});
