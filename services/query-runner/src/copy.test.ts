import { describe, expect, it } from 'vitest';
import { BinaryCopyError, BinaryTupleDecoder } from './copy.js';
import { binaryCopy } from './formats/testdata/binary-copy.js';
import { COLUMNS, ROWS } from './formats/testdata/sample.js';
import type { TupleBatch } from './formats/tuples.js';
import type { PgType, Row } from './formats/types.js';

const TYPES = COLUMNS.map((c) => c.type);
/** ROWS as the decoder gives them back: a float4 is the float32 the stream holds. */
const EXPECTED: Row[] = ROWS.map((r) =>
  r.map((v, i) => (TYPES[i] === 'float4' && typeof v === 'number' ? Math.fround(v) : v)),
);

/** Every batch of `stream` pushed in chunks of `chunk` bytes, `limit` rows a batch; finish() at the end. */
function decode(
  stream: Buffer,
  chunk: number,
  limit: number,
  types: readonly PgType[] = TYPES,
  maxBytes?: number,
): { batches: TupleBatch[]; rows: Row[] } {
  const d = new BinaryTupleDecoder(types, maxBytes);
  const batches: TupleBatch[] = [];
  const rows: Row[] = [];
  let at = 0;
  for (;;) {
    const b = d.take(limit);
    if (b !== undefined) {
      batches.push(b);
      // A batch is read before the next is taken (its bytes are reused after that).
      rows.push(...b.rows());
      if (d.done) break;
      continue;
    }
    if (at >= stream.length) {
      d.finish();
      break;
    }
    d.push(stream.subarray(at, at + chunk));
    at += chunk;
  }
  return { batches, rows };
}

describe('BinaryTupleDecoder', () => {
  const stream = binaryCopy(TYPES, ROWS);

  it('decodes every supported type and NULL exactly, whatever the chunks and batch sizes', () => {
    for (const chunk of [1, 2, 3, 7, 64, stream.length]) {
      for (const limit of [1, 2, 4, 100]) {
        const { batches, rows } = decode(stream, chunk, limit);
        expect(rows, `chunk ${chunk}, limit ${limit}`).toEqual(EXPECTED);
        // Batches of exactly `limit` rows but the last.
        const sizes = batches.map((b) => b.length).filter((n) => n > 0);
        expect(sizes.slice(0, -1).every((n) => n === limit)).toBe(true);
        expect(sizes.reduce((a, n) => a + n, 0)).toBe(ROWS.length);
      }
    }
    // -0 and NaN keep their identity (toEqual tells -0 from 0).
    expect(Object.is(EXPECTED[4]?.[3], -0)).toBe(true);
    expect(Number.isNaN(EXPECTED[1]?.[3])).toBe(true);
  });

  it('gives the value of one field, and the first n rows of a batch', () => {
    const [b] = decode(stream, stream.length, 100).batches;
    if (b === undefined) throw new Error('no batch');
    expect(b.value(1, 0)).toBe(2n ** 62n + 1n);
    expect(b.value(3, 1)).toBeNull();
    expect(b.value(2, 7)).toBe('unicode: é 東京 😀');
    expect(b.head(2).rows()).toEqual(EXPECTED.slice(0, 2));
    expect(b.head(2).length).toBe(2);
    expect(b.head(99)).toBe(b);
  });

  it('reads an empty result (header and trailer) as one empty batch, and skips a header extension', () => {
    const { batches, rows } = decode(binaryCopy(TYPES, []), 5, 10);
    expect(batches.map((b) => b.length)).toEqual([0]);
    expect(rows).toEqual([]);
    expect(decode(binaryCopy(TYPES, ROWS, 9), 3, 2).rows).toEqual(EXPECTED);
  });

  it('ends a batch early at a whole tuple once it holds maxBatchBytes, one tuple at least', () => {
    const types: PgType[] = ['int4', 'text'];
    const rows: Row[] = Array.from({ length: 50 }, (_, i) => [i, 'x'.repeat(i % 7 === 0 ? 300 : 10)]);
    const { batches, rows: got } = decode(binaryCopy(types, rows), 128, 1000, types, 100);
    expect(got).toEqual(rows);
    for (const b of batches.slice(0, -1)) {
      expect(b.length).toBeGreaterThan(0);
      expect(b.bytes.length).toBeGreaterThanOrEqual(100);
      // Its last tuple (field count and length words before its first field) began under the bound.
      const lastStart = (b.fields[2 * (b.length - 1) * 2] ?? 0) - 6;
      expect(lastStart).toBeLessThan(100);
    }
    expect(batches.some((b) => b.length === 1)).toBe(true);
  });

  it('says where a stream was cut short: in the header, inside a row, or before the trailer', () => {
    const cut = (n: number): unknown => {
      try {
        decode(stream.subarray(0, n), 16, 3);
        return undefined;
      } catch (err) {
        return err;
      }
    };
    expect(cut(10)).toBeInstanceOf(BinaryCopyError);
    expect(String(cut(10))).toContain('binary COPY: the stream ended inside its header (10 bytes)');
    expect(String(cut(19 + 5))).toContain('binary COPY: the stream ended inside row 1 (5 bytes of it)');
    expect(String(cut(stream.length - 2))).toContain(
      `binary COPY: the stream ended after row ${ROWS.length} without its trailer`,
    );
    // Every cut before the trailer is an error, none passes as a shorter result.
    for (let n = 0; n < stream.length - 1; n++) expect(cut(n), `cut at ${n}`).toBeInstanceOf(BinaryCopyError);
    expect(cut(stream.length)).toBeUndefined();
  });

  it('refuses a stream that is not the columns: signature, OIDs, field count, a fixed-width size', () => {
    const refuse = (s: Buffer, types: readonly PgType[] = TYPES): string => {
      try {
        decode(s, s.length, 100, types);
      } catch (err) {
        expect(err).toBeInstanceOf(BinaryCopyError);
        return String(err);
      }
      throw new Error('accepted');
    };
    const bad = Buffer.from(stream);
    bad[0] = 0x51;
    expect(refuse(bad)).toContain('does not start with the PGCOPY signature');
    const oids = Buffer.from(stream);
    oids.writeUInt32BE(1 << 16, 11);
    expect(refuse(oids)).toContain('tuples with OIDs are not supported');
    expect(refuse(stream, TYPES.slice(1))).toContain(
      `row 1 has ${TYPES.length} fields for ${TYPES.length - 1} columns`,
    );
    // The first column read as int4: the stream's 8-byte int8 does not fit.
    expect(refuse(stream, ['int4', ...TYPES.slice(1)])).toContain(
      'row 1, column 1 (int4) has 8 bytes, not 4',
    );
    const two: PgType[] = ['int8', 'float8'];
    const s = binaryCopy(['int8', 'float4'], [[1n, 1.5]]);
    expect(refuse(s, two)).toContain('row 1, column 2 (float8) has 4 bytes, not 8');
  });

  it('reuses its two buffers in turn: a long stream allocates nothing per batch once warm', () => {
    const types: PgType[] = ['int8', 'float8', 'text'];
    const rows: Row[] = Array.from({ length: 20_000 }, (_, i) => [BigInt(i), i / 3, `row ${i}`]);
    const s = binaryCopy(types, rows);
    const d = new BinaryTupleDecoder(types);
    const buffers = new Set<ArrayBufferLike>();
    let n = 0;
    let at = 0;
    while (!d.done) {
      const b = d.take(1000);
      if (b === undefined) {
        d.push(s.subarray(at, at + 65_536));
        at += 65_536;
        continue;
      }
      buffers.add(b.bytes.buffer);
      // Checked before the next take: the batch holds its own rows.
      if (b.length > 0) expect(b.value(0, 0)).toBe(BigInt(n));
      n += b.length;
    }
    expect(n).toBe(rows.length);
    // Two buffers in turn, a few more while the first batches grew them.
    expect(buffers.size).toBeLessThanOrEqual(4);
  });
});
