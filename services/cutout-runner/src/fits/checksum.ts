// The FITS checksum convention (FITS 4.0 Appendix J): DATASUM is the 32-bit ones' complement sum of the
// data blocks as big-endian words, CHECKSUM the 16-character ASCII encoding of the complement of the
// whole HDU's sum, chosen so that the HDU (header with CHECKSUM filled in, plus data) sums to -0.

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Ones' complement sum of `bytes` (a multiple of 4 long) as big-endian 32-bit words, added to `sum`. */
export function onesSum(bytes: Uint8Array, sum = 0): number {
  if (bytes.length % 4 !== 0) throw new RangeError('checksum input must be a multiple of 4 bytes');
  // Two 16-bit halves accumulate separately (exact below 2^37 words); carries fold at the end.
  let hi = sum >>> 16;
  let lo = sum & 0xffff;
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) {
    // One 32-bit load per word (the hot path: every cutout's data); its bytes are b0 | b1 << 8 | b2 << 16 | b3 << 24.
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    for (let i = 0; i < words.length; i++) {
      const v = words[i] ?? 0;
      hi += ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
      lo += ((v >>> 8) & 0xff00) | (v >>> 24);
    }
  } else {
    for (let i = 0; i < bytes.length; i += 4) {
      hi += ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
      lo += ((bytes[i + 2] ?? 0) << 8) | (bytes[i + 3] ?? 0);
    }
  }
  ({ hi, lo } = fold(hi, lo));
  return ((hi << 16) | lo) >>> 0;
}

function fold(hi: number, lo: number): { hi: number; lo: number } {
  for (;;) {
    const hc = Math.floor(hi / 0x10000);
    const lc = Math.floor(lo / 0x10000);
    if (hc === 0 && lc === 0) return { hi, lo };
    hi = (hi % 0x10000) + lc;
    lo = (lo % 0x10000) + hc;
  }
}

/** Adds two ones' complement 32-bit sums. */
export function addSums(a: number, b: number): number {
  let s = a + b;
  while (s > 0xffffffff) s = (s % 0x100000000) + Math.floor(s / 0x100000000);
  return s >>> 0;
}

const EXCLUDE = new Set([0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x60]);

/** The 16-character encoding of a 32-bit value (Appendix J, with the one-character right rotation). */
export function encodeChecksum(value: number): string {
  const asc = new Array<number>(16).fill(0);
  for (let i = 0; i < 4; i++) {
    const byte = (value >>> ((3 - i) * 8)) & 0xff;
    const quotient = Math.floor(byte / 4) + 0x30;
    const ch = [quotient + (byte % 4), quotient, quotient, quotient];
    // Move pairs away from punctuation, keeping each pair's sum.
    for (let again = true; again;) {
      again = false;
      for (let j = 0; j < 4; j += 2) {
        if (EXCLUDE.has(ch[j] ?? 0) || EXCLUDE.has(ch[j + 1] ?? 0)) {
          ch[j] = (ch[j] ?? 0) + 1;
          ch[j + 1] = (ch[j + 1] ?? 0) - 1;
          again = true;
        }
      }
    }
    for (let j = 0; j < 4; j++) asc[4 * j + i] = ch[j] ?? 0;
  }
  return String.fromCharCode(...asc.map((_, i) => asc[(i + 15) % 16] ?? 0));
}
