// Rice coding of integer pixels as the FITS tiled-image convention defines RICE_1 (Pence, White &
// Seaman 2010; the algorithm of R. White's rcomp/rdecomp): differences of adjacent pixels mapped to
// unsigned values, coded in blocks of `blocksize` pixels, each block starting with an FS code of
// `fsbits` bits — all-zero block, Rice code with FS low bits, or (FS = fsmax) raw `8·bytepix`-bit values.
// Written from the description of the algorithm; arithmetic wraps at the pixel width like the C code's.

import { FitsError } from './header.js';

export type Bytepix = 1 | 2 | 4;
export type RicePixels = Uint8Array | Int16Array | Int32Array;

const PARAMS = {
  1: { fsbits: 3, fsmax: 6 },
  2: { fsbits: 4, fsmax: 14 },
  4: { fsbits: 5, fsmax: 25 },
} as const;

/** Number of significant bits in a byte (0 for 0). */
const NONZERO = new Uint8Array(256);
for (let i = 1; i < 256; i++) NONZERO[i] = 32 - Math.clz32(i);

/** Decodes `n` pixels of `bytepix` bytes from `src`; `where` names the tile in errors. */
export function riceDecode(
  src: Uint8Array,
  n: number,
  blocksize: number,
  bytepix: Bytepix,
  where: string,
): RicePixels {
  const { fsbits, fsmax } = PARAMS[bytepix];
  const bbits = 8 * bytepix;
  const wrap = bytepix === 4 ? 0 : bytepix === 2 ? 0xffff : 0xff;
  const out = new Int32Array(n);
  if (src.length < bytepix + 1)
    throw new FitsError('BadTile', `${where}: compressed tile of ${src.length} bytes`);
  let c = 0;
  let lastpix = 0;
  for (let i = 0; i < bytepix; i++) lastpix = (lastpix << 8) | (src[c++] ?? 0);
  const end = src.length;
  // Bytes past the end read as 0 (typed-array reads out of range are undefined → 0 under `|`); the check
  // after each block then reports the truncation, as the reference decoder does.
  let b = src[c++] ?? 0;
  let nbits = 8;
  for (let i = 0; i < n;) {
    nbits -= fsbits;
    while (nbits < 0) {
      b = (b << 8) | (src[c++] as number);
      nbits += 8;
    }
    const fs = (b >>> nbits) - 1;
    b &= (1 << nbits) - 1;
    const imax = Math.min(i + blocksize, n);
    if (fs < 0) {
      for (; i < imax; i++) out[i] = lastpix;
    } else if (fs === fsmax) {
      for (; i < imax; i++) {
        // bbits raw bits: the nbits left in b, then whole bytes, then the top of one more byte.
        let k = bbits - nbits;
        let diff = nbits > 0 ? (b << k) >>> 0 : 0;
        for (k -= 8; k >= 0; k -= 8) {
          b = src[c++] as number;
          diff = (diff | (b << k)) >>> 0;
        }
        if (nbits > 0) {
          b = src[c++] as number;
          diff = (diff | (b >>> -k)) >>> 0;
          b &= (1 << nbits) - 1;
        } else b = 0;
        lastpix = unmap(diff, lastpix, wrap);
        out[i] = lastpix;
      }
    } else {
      for (; i < imax; i++) {
        while (b === 0) {
          if (c >= end) throw truncated(where, n);
          nbits += 8;
          b = src[c++] as number;
        }
        const nzero = nbits - (NONZERO[b] as number);
        nbits -= nzero + 1;
        b ^= 1 << nbits;
        nbits -= fs;
        while (nbits < 0) {
          b = (b << 8) | (src[c++] as number);
          nbits += 8;
        }
        const diff = ((nzero << fs) | (b >>> nbits)) >>> 0;
        b &= (1 << nbits) - 1;
        lastpix = unmap(diff, lastpix, wrap);
        out[i] = lastpix;
      }
    }
    if (c > end) throw truncated(where, n);
  }
  if (bytepix === 4) return out;
  return bytepix === 2 ? Int16Array.from(out) : Uint8Array.from(out);
}

function truncated(where: string, n: number): FitsError {
  return new FitsError('BadTile', `${where}: compressed data end before ${n} pixels`);
}

/** Undoes the mapping of a difference to an unsigned value and adds it to the previous pixel. */
function unmap(diff: number, lastpix: number, wrap: number): number {
  const d = (diff & 1) === 0 ? diff >>> 1 : ~(diff >>> 1);
  const v = (d + lastpix) | 0;
  return wrap === 0 ? v : v & wrap;
}

/** Appends bits to a growing byte buffer, most significant bit first. */
class BitWriter {
  private buf: Uint8Array;
  private pos = 0;
  private acc = 0;
  private nacc = 0;

  constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
  }

  private byte(v: number): void {
    if (this.pos === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.pos++] = v;
  }

  /** Writes the low `n` bits of `v` (n ≤ 32). */
  bits(v: number, n: number): void {
    if (n > 16) {
      this.bits(v >>> 16, n - 16);
      this.bits(v & 0xffff, 16);
      return;
    }
    this.acc = (this.acc << n) | (v & ((1 << n) - 1));
    this.nacc += n;
    while (this.nacc >= 8) {
      this.nacc -= 8;
      this.byte((this.acc >>> this.nacc) & 0xff);
    }
    this.acc &= (1 << this.nacc) - 1;
  }

  /** `count` zero bits then a one. */
  unary(count: number): void {
    for (; count >= 16; count -= 16) this.bits(0, 16);
    this.bits(1, count + 1);
  }

  finish(): Uint8Array {
    if (this.nacc > 0) this.bits(0, 8 - this.nacc);
    return this.buf.subarray(0, this.pos);
  }
}

/** Rice-codes integer pixels (values taken at the pixel width of `bytepix`). */
export function riceEncode(pixels: ArrayLike<number>, blocksize: number, bytepix: Bytepix): Uint8Array {
  const { fsbits, fsmax } = PARAMS[bytepix];
  const bbits = 8 * bytepix;
  const n = pixels.length;
  const w = new BitWriter(n * bytepix + Math.ceil(n / blocksize) + 16);
  const width = (v: number): number =>
    bytepix === 4 ? v | 0 : bytepix === 2 ? (v << 16) >> 16 : (v << 24) >> 24;
  let lastpix = width(pixels[0] ?? 0);
  w.bits(lastpix >>> 0, bbits);
  const diff = new Uint32Array(blocksize);
  for (let i = 0; i < n; i += blocksize) {
    const block = Math.min(blocksize, n - i);
    let pixelsum = 0;
    for (let j = 0; j < block; j++) {
      const next = width(pixels[i + j] ?? 0);
      const pdiff = width(next - lastpix);
      diff[j] = (pdiff < 0 ? ~(pdiff << 1) : pdiff << 1) >>> 0;
      pixelsum += diff[j] ?? 0;
      lastpix = next;
    }
    let dpsum = (pixelsum - Math.floor(block / 2) - 1) / block;
    if (dpsum < 0) dpsum = 0;
    let psum = Math.trunc(dpsum) >>> 1;
    let fs = 0;
    for (; psum > 0; fs++) psum = Math.floor(psum / 2);
    if (fs >= fsmax) {
      w.bits(fsmax + 1, fsbits);
      for (let j = 0; j < block; j++) w.bits(diff[j] ?? 0, bbits);
    } else if (fs === 0 && pixelsum === 0) {
      w.bits(0, fsbits);
    } else {
      w.bits(fs + 1, fsbits);
      const mask = (1 << fs) - 1;
      for (let j = 0; j < block; j++) {
        const v = diff[j] ?? 0;
        w.unary(Math.floor(v / 2 ** fs));
        if (fs > 0) w.bits(v & mask, fs);
      }
    }
  }
  return w.finish();
}
