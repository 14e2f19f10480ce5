// Conversions between Redis buffers and float64 matrices (copies into aligned memory; Buffers may be unaligned).

import type { Matrix } from '../engine/contract.js';

/** Copies a little-endian float64 buffer into a fresh, aligned Float64Array. */
export function bufferToFloat64(buf: Uint8Array): Float64Array {
  if (buf.byteLength % 8 !== 0) throw new Error(`binary length ${buf.byteLength} is not a multiple of 8`);
  const out = new Float64Array(buf.byteLength / 8);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/** Views a Float64Array as bytes for a Redis SET (no copy). */
export function float64ToBuffer(a: Float64Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Concatenates row chunks of equal width into one matrix. */
export function concatRows(chunks: readonly Float64Array[], cols: number): Matrix {
  let total = 0;
  for (const c of chunks) total += c.length;
  const data = new Float64Array(total);
  let off = 0;
  for (const c of chunks) {
    data.set(c, off);
    off += c.length;
  }
  return { data, rows: cols === 0 ? 0 : total / cols, cols };
}
