// Unit tests for the streaming parsers and RowSink: header detection, chunking, spilling, located errors.

import { describe, expect, it } from 'vitest';
import { HttpError } from './errors.js';
import {
  formatOf,
  parseBinary,
  parseCsv,
  parseNdjson,
  parseShape,
  RowSink,
  type ParseOptions,
} from './parse.js';

const OPTS: ParseOptions = { maxBytes: 1 << 20, maxCols: 100 };
/** CSV without a header row. */
const NOHEAD: ParseOptions = { ...OPTS, header: 'absent' };

/** Feeds text in pieces of `step` bytes, to exercise lines and values split across buffers. */
async function* pieces(s: string | Uint8Array, step: number): AsyncGenerator<Uint8Array> {
  const b = typeof s === 'string' ? new TextEncoder().encode(s) : s;
  for (let i = 0; i < b.length; i += step) {
    await Promise.resolve(); // a real body yields between buffers
    yield b.subarray(i, i + step);
  }
}

function memSink(chunkRows = 1000, holdRows = 1_000_000): { sink: RowSink; flushed: Float64Array[] } {
  const flushed: Float64Array[] = [];
  const sink = new RowSink(chunkRows, holdRows, (_i, c) => {
    flushed.push(c);
    return Promise.resolve();
  });
  return { sink, flushed };
}

async function fail(p: Promise<unknown>): Promise<HttpError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  throw new Error('expected an HttpError');
}

describe('formats', () => {
  it('maps content types and shapes', () => {
    expect(formatOf('text/csv; charset=utf-8')).toBe('csv');
    expect(formatOf('application/x-ndjson')).toBe('ndjson');
    expect(formatOf('application/octet-stream')).toBe('binary');
    expect(formatOf('application/json')).toBe('json');
    expect(formatOf('text/plain')).toBeNull();
    expect(parseShape('3, 2')).toEqual([3, 2]);
    expect(parseShape('3x2')).toEqual([3, 2]);
    expect(() => parseShape('3')).toThrow(HttpError);
  });
});

describe('parseCsv', () => {
  it('detects a header, skips comments and blank lines, handles CRLF and split buffers', async () => {
    const { sink } = memSink();
    const cols = await parseCsv(pieces('# comment\r\n"a",b\r\n1,2\r\n\r\n3.5,-4e2\r\n', 3), OPTS, sink);
    expect(cols).toEqual(['a', 'b']);
    expect(Array.from((await sink.finish())!)).toEqual([1, 2, 3.5, -400]);
    expect(sink.rows).toBe(2);
  });
  it('reads every row as data with header=absent', async () => {
    const { sink } = memSink();
    expect(await parseCsv(pieces('1,2\n3,4', 100), NOHEAD, sink)).toBeNull();
    expect(Array.from((await sink.finish())!)).toEqual([1, 2, 3, 4]);
  });
  it.each([
    ['1,2\n3,abc\n', 'InvalidNumber', { row: 1, column: 1, line: 2 }],
    ['1,2\n3,\n', 'InvalidNumber', { row: 1, column: 1 }],
    ['1,2\n0x10,1\n', 'InvalidNumber', { row: 1, column: 0 }],
    ['1,2\ninf,1\n', 'NonFiniteValue', { row: 1, column: 0 }],
    ['1,2\n3,4,5\n', 'WrongWidth', { row: 1, expected: 2, got: 3 }],
  ])('locates the error in %j', async (csv, code, detail) => {
    const e = await fail(parseCsv(pieces(csv, 2), NOHEAD, memSink().sink));
    expect(e.code).toBe(code);
    expect(e.detail).toMatchObject(detail);
  });
  it('names the column of a bad cell under a header', async () => {
    const e = await fail(parseCsv(pieces('x,y\n1,2\n1,nan\n', 2), OPTS, memSink().sink));
    expect(e.code).toBe('NonFiniteValue');
    expect(e.detail).toMatchObject({ row: 1, column: 1, columnName: 'y', line: 3 });
  });
  it('enforces the byte limit while streaming', async () => {
    const e = await fail(
      parseCsv(pieces('1,2\n'.repeat(100), 16), { ...NOHEAD, maxBytes: 64 }, memSink().sink),
    );
    expect(e.status).toBe(413);
  });
  it('enforces the expected width (a model’s dimension)', async () => {
    const e = await fail(parseCsv(pieces('1,2,3\n', 10), { ...NOHEAD, expectCols: 2 }, memSink().sink));
    expect(e.code).toBe('WrongWidth');
  });
});

describe('parseNdjson', () => {
  it('accepts arrays, and objects keyed by the first object', async () => {
    const a = memSink();
    expect(await parseNdjson(pieces('[1,2]\n[3,4]\n', 3), OPTS, a.sink)).toBeNull();
    expect(Array.from((await a.sink.finish())!)).toEqual([1, 2, 3, 4]);
    const o = memSink();
    expect(await parseNdjson(pieces('{"x":1,"y":2}\n{"y":4,"x":3}\n', 5), OPTS, o.sink)).toEqual(['x', 'y']);
    expect(Array.from((await o.sink.finish())!)).toEqual([1, 2, 3, 4]);
  });
  it.each([
    ['[1,2]\n[1,"a"]\n', 'InvalidNumber', { row: 1, column: 1 }],
    ['[1,2]\n{"a":1}\n', 'MixedRowShapes', { row: 1 }],
    ['{"a":1}\n{"b":1}\n', 'UnknownColumn', { row: 1, columnName: 'b' }],
    ['[1,2]\n[1,\n', 'InvalidJson', { row: 1, line: 2 }],
    ['[]\n', 'EmptyRow', { row: 0 }],
    ['"x"\n', 'InvalidRow', { row: 0 }],
  ])('locates the error in %j', async (text, code, detail) => {
    const e = await fail(parseNdjson(pieces(text, 4), OPTS, memSink().sink));
    expect(e.code).toBe(code);
    expect(e.detail).toMatchObject(detail);
  });
});

describe('issue 10: wrong answers at upload', () => {
  it.each([
    // The first row is the header by default: one that is data (an empty cell, 1.2.3 beside numbers, all
    // numbers) is refused rather than silently dropped.
    ['1,,3\n4,5,6\n7,8,9\n', 'InvalidHeader', { column: 0, line: 1 }, /column 0 is named "1", a number/],
    ['a,,c\n4,5,6\n', 'InvalidHeader', { column: 1 }, /column 1 has an empty name/],
    ['1.2.3,4,5\n6,7,8\n', 'InvalidHeader', { column: 1, columnName: '4' }, /send header=absent/],
    ['1,2,3\n4,5,6\n', 'InvalidHeader', { column: 0 }, /looks like data/],
    // Duplicate names would make name-mapped scoring ambiguous.
    ['x,x,y\n1,2,3\n', 'DuplicateColumn', { columnName: 'x', columns: [0, 1] }, /columns 0 and 1/],
    // 1e309 is a valid number literal but infinite as a float64.
    [
      'a,b\n1,2\n3,1e309\n',
      'NonFiniteValue',
      { row: 1, column: 1, line: 3, columnName: 'b' },
      /1e309 is outside/,
    ],
    ['a,b\n-1e400,2\n', 'NonFiniteValue', { row: 0, column: 0 }, /outside the float64 range/],
  ])('refuses the CSV %j', async (csv, code, detail, message) => {
    const e = await fail(parseCsv(pieces(csv, 3), OPTS, memSink().sink));
    expect([e.status, e.code]).toEqual([400, code]);
    expect(e.detail).toMatchObject(detail);
    expect(e.message).toMatch(message);
  });
  it('keeps the first row as data with header=absent', async () => {
    const { sink } = memSink();
    expect(await parseCsv(pieces('1,,3\n4,5,6\n', 3), NOHEAD, sink).catch((e: HttpError) => e.code)).toBe(
      'InvalidNumber',
    );
    const ok = memSink();
    expect(await parseCsv(pieces('1.5,2,3\n4,5,6\n', 3), NOHEAD, ok.sink)).toBeNull();
    expect(ok.sink.rows).toBe(2);
  });
  it('refuses 1e309 in NDJSON arrays and objects', async () => {
    for (const text of ['[1,2]\n[3,1e309]\n', '{"a":1,"b":2}\n{"a":3,"b":1e309}\n']) {
      const e = await fail(parseNdjson(pieces(text, 4), OPTS, memSink().sink));
      expect([e.code, e.detail.row, e.detail.column, e.detail.line]).toEqual(['NonFiniteValue', 1, 1, 2]);
    }
  });
});

describe('issue 10: mapping rows to a model’s columns by name', () => {
  const MODEL: ParseOptions = { ...OPTS, expectCols: 3, columns: ['a', 'b', 'c'] };
  it('reorders a CSV header and NDJSON objects into the model’s order', async () => {
    for (const [parse, text] of [
      [parseCsv, 'c,b,a\n3,2,1\n6,5,4\n'],
      [parseNdjson, '{"c":3,"b":2,"a":1}\n{"b":5,"a":4,"c":6}\n'],
      [parseCsv, 'a,b,c\n1,2,3\n4,5,6\n'],
      [parseNdjson, '[1,2,3]\n{"c":6,"a":4,"b":5}\n'],
    ] as const) {
      const { sink } = memSink();
      expect(await parse(pieces(text, 5), MODEL, sink)).toEqual(['a', 'b', 'c']);
      expect(Array.from((await sink.finish())!)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });
  it.each([
    ['x,y,z\n1,2,3\n', 'UnknownColumn', /unknown columns "x", "y", "z"/],
    ['a,b,d\n1,2,3\n', 'UnknownColumn', /unknown column "d"/],
    ['a,b\n1,2\n', 'MissingColumn', /missing column "c"/],
  ])('refuses the header in %j naming the names', async (csv, code, message) => {
    const e = await fail(parseCsv(pieces(csv, 4), MODEL, memSink().sink));
    expect([e.status, e.code]).toEqual([400, code]);
    expect(e.message).toMatch(message);
  });
  it('refuses unknown and missing NDJSON keys naming them', async () => {
    const e = await fail(parseNdjson(pieces('{"a":1,"b":2,"z":3}\n', 4), MODEL, memSink().sink));
    expect([e.code, e.detail.columnName]).toEqual(['UnknownColumn', 'z']);
    const m = await fail(parseNdjson(pieces('{"a":1,"b":2}\n', 4), MODEL, memSink().sink));
    expect([m.code, m.detail.columnName]).toEqual(['MissingColumn', 'c']);
  });
});

describe('parseBinary', () => {
  const bytes = (a: number[]): Uint8Array => new Uint8Array(new Float64Array(a).buffer);
  it('reads rows split at odd byte boundaries', async () => {
    const { sink } = memSink(2);
    await parseBinary(pieces(bytes([1, 2, 3, 4, 5, 6]), 5), { ...OPTS, shape: [3, 2] }, sink);
    expect(Array.from((await sink.finish())!)).toEqual([1, 2, 3, 4, 5, 6]);
  });
  it('rejects a short or long body and non-finite values', async () => {
    expect(
      (await fail(parseBinary(pieces(bytes([1, 2, 3]), 8), { ...OPTS, shape: [2, 2] }, memSink().sink))).code,
    ).toBe('ShapeMismatch');
    expect(
      (await fail(parseBinary(pieces(bytes([1, 2, 3, 4, 5]), 8), { ...OPTS, shape: [2, 2] }, memSink().sink)))
        .code,
    ).toBe('ShapeMismatch');
    const e = await fail(
      parseBinary(pieces(bytes([1, 2, Infinity, 4]), 8), { ...OPTS, shape: [2, 2] }, memSink().sink),
    );
    expect(e).toMatchObject({ code: 'NonFiniteValue', detail: { row: 1, column: 0 } });
  });
});

describe('RowSink', () => {
  it('keeps small inputs in memory and spills large ones chunk by chunk', async () => {
    const small = memSink(2, 5);
    small.sink.setCols(1);
    for (let i = 0; i < 5; i++) small.sink.pushRow([i]);
    expect(Array.from((await small.sink.finish())!)).toEqual([0, 1, 2, 3, 4]);
    expect(small.flushed).toHaveLength(0);

    const big = memSink(2, 3);
    big.sink.setCols(1);
    for (let i = 0; i < 7; i++) big.sink.pushRow([i]);
    expect(await big.sink.finish()).toBeNull();
    expect(big.flushed.map((c) => Array.from(c))).toEqual([[0, 1], [2, 3], [4, 5], [6]]);
    expect(big.sink.flushed).toBe(4);
  });
  it('copies multi-row blocks across chunk boundaries', async () => {
    const s = memSink(3, 0);
    s.sink.setCols(2);
    s.sink.pushRows(new Float64Array([1, 2, 3, 4, 5, 6, 7, 8]), 4);
    await s.sink.finish();
    expect(s.flushed.map((c) => Array.from(c))).toEqual([
      [1, 2, 3, 4, 5, 6],
      [7, 8],
    ]);
  });
});
