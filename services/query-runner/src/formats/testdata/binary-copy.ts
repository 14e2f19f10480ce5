// PostgreSQL's binary COPY format written from rows, for the unit tests of the tuple decoder (copy.ts) and
// of the writers' tuple paths: the header (signature, flags, extension length), per tuple its field count
// and each field as a 32-bit length (-1: NULL) and the type's send-function bytes, big-endian; the trailer
// -1. The integration tests check the decoder against a real server's stream.

import { TupleBatch } from '../tuples.js';
import type { Column, PgType, Row, Value } from '../types.js';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** One value's bytes as PostgreSQL's send function writes it. */
function field(type: PgType, v: Value): Buffer {
  if (v === null) throw new Error('field: NULL has no bytes');
  const b = Buffer.alloc(type === 'int8' || type === 'float8' ? 8 : type === 'int2' ? 2 : 4);
  switch (type) {
    case 'bool':
      return Buffer.from([v === true ? 1 : 0]);
    case 'int2':
      b.writeInt16BE(Number(v));
      return b;
    case 'int4':
      b.writeInt32BE(Number(v));
      return b;
    case 'int8':
      b.writeBigInt64BE(BigInt(v));
      return b;
    case 'float4':
      b.writeFloatBE(Number(v));
      return b;
    case 'float8':
      b.writeDoubleBE(Number(v));
      return b;
    case 'text':
    case 'varchar':
      return Buffer.from(String(v), 'utf8');
  }
}

/** The tuples of `rows` (no header, no trailer). */
function tuples(types: readonly PgType[], rows: readonly Row[]): Buffer[] {
  const parts: Buffer[] = [];
  for (const r of rows) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(types.length);
    parts.push(count);
    types.forEach((t, i) => {
      const v = r[i] ?? null;
      const len = Buffer.alloc(4);
      if (v === null) {
        len.writeInt32BE(-1);
        parts.push(len);
        return;
      }
      const bytes = field(t, v);
      len.writeInt32BE(bytes.length);
      parts.push(len, bytes);
    });
  }
  return parts;
}

/** A whole binary COPY stream of `rows`: header (with `extension` bytes of header extension), tuples, trailer. */
export function binaryCopy(types: readonly PgType[], rows: readonly Row[], extension = 0): Buffer {
  const head = Buffer.alloc(8 + extension);
  head.writeUInt32BE(0, 0); // flags
  head.writeUInt32BE(extension, 4);
  return Buffer.concat([SIGNATURE, head, ...tuples(types, rows), Buffer.from([0xff, 0xff])]);
}

/** `rows` as one TupleBatch, built here (not by the decoder), for the writers' tests. */
export function tupleBatch(columns: readonly Column[], rows: readonly Row[]): TupleBatch {
  const types = columns.map((c) => c.type);
  const bytes = Buffer.concat(tuples(types, rows));
  const fields = new Int32Array(2 * rows.length * types.length);
  let at = 0;
  let k = 0;
  for (let r = 0; r < rows.length; r++) {
    at += 2;
    for (let i = 0; i < types.length; i++, k += 2) {
      const len = bytes.readInt32BE(at);
      at += 4;
      fields[k] = at;
      fields[k + 1] = len;
      if (len > 0) at += len;
    }
  }
  return new TupleBatch(types, bytes, fields, rows.length);
}
