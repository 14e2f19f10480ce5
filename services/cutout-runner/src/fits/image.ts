// Image HDUs: pixel arrays by BITPIX, big-endian conversion both ways, and the writer that emits an image
// HDU with NAXISn set and CHECKSUM/DATASUM filled in.

import { addSums, encodeChecksum, onesSum } from './checksum.js';
import { BLOCK, FitsError, Header } from './header.js';

export type Bitpix = 8 | 16 | 32 | -32 | -64;
export type Pixels = Uint8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A 2-D image: `data[y * width + x]`, raw values as stored (BSCALE/BZERO not applied). */
export interface Image {
  readonly header: Header;
  readonly bitpix: Bitpix;
  readonly width: number;
  readonly height: number;
  readonly data: Pixels;
}

export function bitpixOf(value: unknown, where: string): Bitpix {
  if (value === 8 || value === 16 || value === 32 || value === -32 || value === -64) return value;
  throw new FitsError('UnsupportedBitpix', `${where}: BITPIX ${String(value)} is not supported`);
}

export function allocPixels(bitpix: Bitpix, n: number): Pixels {
  switch (bitpix) {
    case 8:
      return new Uint8Array(n);
    case 16:
      return new Int16Array(n);
    case 32:
      return new Int32Array(n);
    case -32:
      return new Float32Array(n);
    case -64:
      return new Float64Array(n);
  }
}

/** Converts big-endian bytes (the FITS data area) into native pixels; `bytes` is consumed (swapped in place). */
export function pixelsFromBigEndian(bitpix: Bitpix, bytes: Uint8Array, n: number): Pixels {
  const size = Math.abs(bitpix) / 8;
  // Copy into a fresh aligned buffer: typed arrays need their element alignment.
  const own = new Uint8Array(n * size);
  own.set(bytes.subarray(0, n * size));
  const buf = Buffer.from(own.buffer, 0, own.length);
  if (size === 2) buf.swap16();
  else if (size === 4) buf.swap32();
  else if (size === 8) buf.swap64();
  switch (bitpix) {
    case 8:
      return own;
    case 16:
      return new Int16Array(own.buffer, 0, n);
    case 32:
      return new Int32Array(own.buffer, 0, n);
    case -32:
      return new Float32Array(own.buffer, 0, n);
    case -64:
      return new Float64Array(own.buffer, 0, n);
  }
}

/** The pixels as big-endian bytes padded with zeros to a whole block. */
export function pixelsToBigEndian(data: Pixels): Buffer {
  const size = data.BYTES_PER_ELEMENT;
  const bytes = data.length * size;
  // Not zeroed first: the pixels overwrite all but the padding, which is zeroed alone (one pass fewer).
  const out = Buffer.allocUnsafe(Math.ceil(bytes / BLOCK) * BLOCK);
  out.set(new Uint8Array(data.buffer, data.byteOffset, bytes));
  out.fill(0, bytes);
  const view = out.subarray(0, bytes);
  if (size === 2) view.swap16();
  else if (size === 4) view.swap32();
  else if (size === 8) view.swap64();
  return out;
}

/** Raw values to physical ones (BSCALE·raw + BZERO); BLANK pixels of integer images become NaN. */
export function physical(image: Image): Float64Array {
  const scale = image.header.number('BSCALE', 1);
  const zero = image.header.number('BZERO', 0);
  const blank = image.bitpix > 0 ? image.header.get('BLANK') : undefined;
  const out = new Float64Array(image.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = image.data[i] ?? 0;
    out[i] = blank !== undefined && v === blank ? NaN : v * scale + zero;
  }
  return out;
}

const STRUCTURAL = new Set(['SIMPLE', 'XTENSION', 'BITPIX', 'NAXIS', 'EXTEND', 'PCOUNT', 'GCOUNT']);

/**
 * The header of `image` as a 2-D image HDU: the structural cards (SIMPLE or XTENSION, BITPIX, NAXISn,
 * PCOUNT/GCOUNT) rewritten in the standard order, every other card kept verbatim and in order.
 */
export function imageHeader(
  source: Header,
  bitpix: Bitpix,
  width: number,
  height: number,
  primary: boolean,
): Header {
  const rest = source.cards.filter((c) => {
    const k = c.slice(0, 8).trimEnd();
    return !STRUCTURAL.has(k) && !/^NAXIS\d+$/.test(k) && k !== 'CHECKSUM' && k !== 'DATASUM';
  });
  const h = new Header([]);
  if (primary) h.set('SIMPLE', true, 'conforms to FITS standard');
  else h.set('XTENSION', 'IMAGE', 'image extension');
  h.set('BITPIX', bitpix, 'array data type');
  h.set('NAXIS', 2, 'number of array dimensions');
  h.set('NAXIS1', width);
  h.set('NAXIS2', height);
  if (primary) h.set('EXTEND', true);
  else {
    h.set('PCOUNT', 0, 'number of parameters');
    h.set('GCOUNT', 1, 'number of groups');
  }
  return new Header([...h.cards, ...rest]);
}

/** An empty primary HDU (the data go in extensions), with extra cards appended. */
export function emptyPrimary(extra: readonly string[] = []): Header {
  const h = new Header([]);
  h.set('SIMPLE', true, 'conforms to FITS standard');
  h.set('BITPIX', 8, 'array data type');
  h.set('NAXIS', 0, 'number of array dimensions');
  h.set('EXTEND', true);
  return new Header([...h.cards, ...extra]);
}

/**
 * The bytes of one HDU with CHECKSUM and DATASUM set (added after the last card when absent). `data` is
 * the data area already in FITS byte order and padded to a block (empty for a header-only HDU).
 */
export function hduBytes(header: Header, data: Uint8Array): Buffer {
  return Buffer.concat(hduParts(header, data));
}

/** {@link hduBytes} as its header's bytes and the data, not joined (written one after the other, no copy). */
export function hduParts(header: Header, data: Uint8Array): [Uint8Array, Uint8Array] {
  const h = header.clone();
  const datasum = onesSum(data);
  h.set('CHECKSUM', '0000000000000000', 'HDU checksum');
  h.set('DATASUM', String(datasum), 'data unit checksum');
  const sum = addSums(onesSum(h.bytes()), datasum);
  h.set('CHECKSUM', encodeChecksum(~sum >>> 0));
  return [h.bytes(), data];
}

/** One image HDU's bytes: header (NAXISn from the pixels) + big-endian data, with checksums. */
export function imageHduBytes(header: Header, image: Omit<Image, 'header'>, primary: boolean): Buffer {
  return Buffer.concat(imageHduParts(header, image, primary));
}

/** {@link imageHduBytes} as header bytes and data, not joined. */
export function imageHduParts(
  header: Header,
  image: Omit<Image, 'header'>,
  primary: boolean,
): [Uint8Array, Uint8Array] {
  if (image.data.length !== image.width * image.height) {
    throw new FitsError('BadShape', `${image.width}×${image.height} image with ${image.data.length} pixels`);
  }
  const h = imageHeader(header, image.bitpix, image.width, image.height, primary);
  return hduParts(h, pixelsToBigEndian(image.data));
}
