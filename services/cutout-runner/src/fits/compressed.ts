// Tile-compressed images (the FITS tiled image convention, as fpack and astropy write `.fits.fz`): a
// BINTABLE with ZIMAGE = T whose rows are the image's tiles. Read: RICE_1 and GZIP_1 tiles, tiles stored
// in GZIP_COMPRESSED_DATA / UNCOMPRESSED_DATA, quantized floats with NO_DITHER, SUBTRACTIVE_DITHER_1 and
// _2 (the dither sequence of the convention), ZBLANK nulls. Write: RICE_1, integers losslessly and floats
// quantized with SUBTRACTIVE_DITHER_1.

import { gunzipSync, inflateSync } from 'node:zlib';
import { FitsError, Header, TFORM_BYTES } from './header.js';
import {
  allocPixels,
  bitpixOf,
  hduBytes,
  imageHeader,
  type Bitpix,
  type Image,
  type Pixels,
} from './image.js';
import { riceDecode, riceEncode, type Bytepix } from './rice.js';

const N_RANDOM = 10000;
const ZERO_VALUE = -2147483646;
const DEFAULT_ZBLANK = -2147483648;

/** The convention's dither sequence: 10,000 float32 values of the Park–Miller generator. */
const RANDOMS = ((): Float32Array => {
  const r = new Float32Array(N_RANDOM);
  const a = 16807;
  const m = 2147483647;
  let seed = 1;
  for (let i = 0; i < N_RANDOM; i++) {
    const temp = a * seed;
    seed = temp - m * Math.trunc(temp / m);
    r[i] = seed / m;
  }
  // The convention's check value for a correct sequence.
  if (seed !== 1043618065) throw new Error('dither sequence check failed');
  return r;
})();

interface Column {
  readonly offset: number;
  readonly code: string;
  /** For P/Q descriptors: the element type in the heap. */
  readonly heapType: string;
}

const SIZES = TFORM_BYTES;

function columns(h: Header, where: string): Map<string, Column> {
  const out = new Map<string, Column>();
  let offset = 0;
  for (let i = 1; i <= h.number('TFIELDS'); i++) {
    const form = h.string(`TFORM${i}`);
    const m = /^(\d*)([LXBIJKAEDCMPQ])([A-Z]?)/.exec(form.trim());
    if (!m) throw new FitsError('BadHeader', `${where}: TFORM${i} = ${JSON.stringify(form)}`);
    const repeat = m[1] === '' ? 1 : Number(m[1]);
    const code = m[2] ?? '';
    out.set(h.string(`TTYPE${i}`, `COL${i}`).toUpperCase(), { offset, code, heapType: m[3] ?? '' });
    offset += code === 'X' ? Math.ceil(repeat / 8) : repeat * (SIZES[code] ?? 0);
  }
  return out;
}

/** The value of the ZNAMEi/ZVALi parameter `name`, or `fallback`. */
function zparam(h: Header, name: string, fallback: number): number {
  for (let i = 1; h.has(`ZNAME${i}`); i++) {
    if (h.string(`ZNAME${i}`).toUpperCase() === name) return h.number(`ZVAL${i}`);
  }
  return fallback;
}

const TABLE_ONLY =
  /^(XTENSION|BITPIX|NAXIS\d*|PCOUNT|GCOUNT|TFIELDS|TTYPE\d+|TFORM\d+|TUNIT\d+|TDIM\d+|THEAP|ZIMAGE|ZSIMPLE|ZTENSION|ZEXTEND|ZBLOCKED|ZBITPIX|ZNAXIS\d*|ZTILE\d+|ZCMPTYPE|ZNAME\d+|ZVAL\d+|ZQUANTIZ|ZDITHER0|ZPCOUNT|ZGCOUNT|ZHECKSUM|ZDATASUM|ZBLANK|ZSCALE|ZZERO|CHECKSUM|DATASUM)$/;

/** The header of the image a compressed HDU holds (structural cards from the Z keywords). */
export function uncompressedHeader(h: Header): Header {
  const where = 'compressed image header';
  const kept = new Header(h.cards.filter((c) => !TABLE_ONLY.test(c.slice(0, 8).trimEnd())));
  if (h.number('ZNAXIS') !== 2)
    throw new FitsError('NotTwoDimensional', `${where}: ZNAXIS = ${h.number('ZNAXIS')}`);
  return imageHeader(
    kept,
    bitpixOf(h.get('ZBITPIX'), where),
    h.number('ZNAXIS1'),
    h.number('ZNAXIS2'),
    h.has('ZSIMPLE'),
  );
}

function bigEndianInts(bytes: Uint8Array, n: number, where: string): Int32Array | Int16Array | Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length === n * 4) return Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i));
  if (bytes.length === n * 2) return Int16Array.from({ length: n }, (_, i) => view.getInt16(2 * i));
  if (bytes.length === n) return bytes;
  throw new FitsError('BadTile', `${where}: ${bytes.length} bytes for ${n} pixels`);
}

function bigEndianFloats(bytes: Uint8Array, n: number, bitpix: Bitpix): Float32Array | Float64Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return bitpix === -64
    ? Float64Array.from({ length: n }, (_, i) => view.getFloat64(8 * i))
    : Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i));
}

function gunzip(bytes: Uint8Array): Uint8Array {
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : inflateSync(bytes);
}

/** Cells and heap arrays of the BINTABLE that stores a compressed image. */
class Table {
  private readonly view: DataView;
  private readonly rowBytes: number;
  private readonly heap: number;

  constructor(
    h: Header,
    private readonly data: Uint8Array,
    readonly cols: Map<string, Column>,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.rowBytes = h.number('NAXIS1');
    this.heap = h.number('THEAP', this.rowBytes * h.number('NAXIS2'));
  }

  cell(name: string, row: number): number | undefined {
    const c = this.cols.get(name);
    if (c === undefined) return undefined;
    const at = row * this.rowBytes + c.offset;
    if (c.code === 'D') return this.view.getFloat64(at);
    return c.code === 'E' ? this.view.getFloat32(at) : this.view.getInt32(at);
  }

  heapBytes(name: string, row: number): Uint8Array {
    const c = this.cols.get(name);
    if (c === undefined) return new Uint8Array(0);
    const at = row * this.rowBytes + c.offset;
    const [len, off] =
      c.code === 'Q'
        ? [Number(this.view.getBigInt64(at)), Number(this.view.getBigInt64(at + 8))]
        : [this.view.getInt32(at), this.view.getInt32(at + 4)];
    const size = len * (SIZES[c.heapType] ?? 1);
    return this.data.subarray(this.heap + off, this.heap + off + size);
  }
}

interface Settings {
  readonly bitpix: Bitpix;
  readonly cmp: string;
  readonly blocksize: number;
  readonly bytepix: Bytepix;
  /** 0 none, 1 SUBTRACTIVE_DITHER_1, 2 SUBTRACTIVE_DITHER_2. */
  readonly dither: 0 | 1 | 2;
  readonly seed0: number;
}

function settings(h: Header, where: string): Settings {
  const cmp = h.string('ZCMPTYPE');
  if (!['RICE_1', 'RICE_ONE', 'GZIP_1'].includes(cmp)) {
    throw new FitsError(
      'UnsupportedCompression',
      `${where}: ZCMPTYPE ${cmp} is not supported (RICE_1, GZIP_1 are)`,
    );
  }
  const bytepix = zparam(h, 'BYTEPIX', 4);
  if (bytepix !== 1 && bytepix !== 2 && bytepix !== 4) {
    throw new FitsError('BadHeader', `${where}: BYTEPIX ${bytepix}`);
  }
  const quantiz = h.string('ZQUANTIZ', 'NO_DITHER');
  return {
    bitpix: bitpixOf(h.get('ZBITPIX'), where),
    cmp,
    blocksize: zparam(h, 'BLOCKSIZE', 32),
    bytepix,
    dither: quantiz === 'SUBTRACTIVE_DITHER_1' ? 1 : quantiz === 'SUBTRACTIVE_DITHER_2' ? 2 : 0,
    seed0: h.number('ZDITHER0', 0),
  };
}

/** One tile's stored values; `lossless` when they are the pixels themselves (not quantized integers). */
function tileValues(
  s: Settings,
  t: Table,
  row: number,
  n: number,
  where: string,
): { tile: ArrayLike<number>; lossless: boolean } {
  const cbytes = t.heapBytes('COMPRESSED_DATA', row);
  if (cbytes.length === 0) {
    // A tile that did not quantize well is stored losslessly in one of the fallback columns.
    const gz = t.heapBytes('GZIP_COMPRESSED_DATA', row);
    const raw = gz.length > 0 ? gunzip(gz) : t.heapBytes('UNCOMPRESSED_DATA', row);
    return {
      tile: s.bitpix < 0 ? bigEndianFloats(raw, n, s.bitpix) : bigEndianInts(raw, n, where),
      lossless: true,
    };
  }
  if (s.cmp === 'GZIP_1') {
    const raw = gunzip(cbytes);
    const floats = s.bitpix < 0 && !t.cols.has('ZSCALE');
    return {
      tile: floats ? bigEndianFloats(raw, n, s.bitpix) : bigEndianInts(raw, n, where),
      lossless: !t.cols.has('ZSCALE'),
    };
  }
  return { tile: riceDecode(cbytes, n, s.blocksize, s.bytepix, where), lossless: !t.cols.has('ZSCALE') };
}

/** Quantized integers back to floats, with the dither sequence restarting per tile. */
function unquantize(
  s: Settings,
  tile: ArrayLike<number>,
  row: number,
  q: { scale: number; zero: number; zblank: number | undefined },
  put: (i: number, v: number) => void,
): void {
  // The sequence starts at (tile number + ZDITHER0 − 1) mod 10,000, tile numbers counted from 1.
  let iseed = (((row + s.seed0 - 1) % N_RANDOM) + N_RANDOM) % N_RANDOM;
  let next = Math.trunc(Math.fround((RANDOMS[iseed] ?? 0) * 500));
  for (let i = 0; i < tile.length; i++) {
    const v = tile[i] ?? 0;
    if (v === q.zblank) put(i, NaN);
    else if (s.dither === 0) put(i, v * q.scale + q.zero);
    else if (s.dither === 2 && v === ZERO_VALUE) put(i, 0);
    else put(i, (v - (RANDOMS[next] ?? 0) + 0.5) * q.scale + q.zero);
    if (s.dither !== 0 && ++next === N_RANDOM) {
      iseed = (iseed + 1) % N_RANDOM;
      next = Math.trunc(Math.fround((RANDOMS[iseed] ?? 0) * 500));
    }
  }
}

/** Reads a whole compressed image from its HDU's header and data area (table + heap). */
export function decompressImage(h: Header, data: Uint8Array, where: string): Image {
  const header = uncompressedHeader(h);
  const s = settings(h, where);
  const width = h.number('ZNAXIS1');
  const height = h.number('ZNAXIS2');
  const tw = h.number('ZTILE1', width);
  const th = h.number('ZTILE2', 1);
  const t = new Table(h, data, columns(h, where));
  const blankCard = h.has('ZBLANK') ? 'ZBLANK' : 'BLANK';
  const zblankHeader = (blankCard === 'ZBLANK' ? h : header).get(blankCard);
  const out = allocPixels(s.bitpix, width * height);
  let row = 0;
  for (let y0 = 0; y0 < height; y0 += th) {
    for (let x0 = 0; x0 < width; x0 += tw, row++) {
      const w = Math.min(tw, width - x0);
      const n = w * Math.min(th, height - y0);
      const { tile, lossless } = tileValues(s, t, row, n, `${where} tile ${row + 1}`);
      const zblank = t.cell('ZBLANK', row) ?? (typeof zblankHeader === 'number' ? zblankHeader : undefined);
      const scale = t.cell('ZSCALE', row);
      const put = placer(out, width, x0, y0, w);
      if (s.bitpix < 0 && !lossless && scale !== undefined) {
        unquantize(s, tile, row, { scale, zero: t.cell('ZZERO', row) ?? 0, zblank }, put);
      } else {
        if (w === width && ArrayBuffer.isView(tile)) out.set(tile, y0 * width);
        else for (let i = 0; i < n; i++) put(i, tile[i] ?? 0);
      }
    }
  }
  return { header, bitpix: s.bitpix, width, height, data: out };
}

function placer(
  out: Pixels,
  width: number,
  x0: number,
  y0: number,
  w: number,
): (i: number, v: number) => void {
  // Tiles of whole rows (the usual 1-row tiles) are contiguous in the image: no division per pixel.
  if (w === width && x0 === 0) {
    const base = y0 * width;
    return (i, v) => {
      out[base + i] = v;
    };
  }
  return (i, v) => {
    out[(y0 + Math.floor(i / w)) * width + x0 + (i % w)] = v;
  };
}

export interface CompressOptions {
  /** Tile shape [x, y]; default one image row per tile. */
  readonly tile?: readonly [number, number];
  readonly blocksize?: number;
  /** Floats: quantization step = (noise estimate) / level; default 16. */
  readonly quantizeLevel?: number;
  /** Floats: ZDITHER0, 1–10000; default 1. */
  readonly ditherSeed?: number;
}

/** Robust noise of a tile: 1.4826 × the median absolute first difference / √2 (finite values only). */
function noise(v: ArrayLike<number>): number {
  const d: number[] = [];
  for (let i = 1; i < v.length; i++) {
    const a = v[i] ?? NaN;
    const b = v[i - 1] ?? NaN;
    if (Number.isFinite(a) && Number.isFinite(b)) d.push(Math.abs(a - b));
  }
  if (d.length === 0) return 0;
  d.sort((a, b) => a - b);
  return (1.4826 * (d[d.length >> 1] ?? 0)) / Math.SQRT2;
}

function quantizeTile(
  tile: Float64Array,
  level: number,
  iseedStart: number,
): { q: Int32Array; scale: number; zero: number; hasNull: boolean } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of tile) {
    if (Number.isFinite(v)) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const finite = Number.isFinite(min);
  const zero = finite ? (min + max) / 2 : 0;
  const sigma = noise(tile);
  const scale = sigma > 0 ? sigma / level : Math.max(Math.abs(zero) * 1e-6, 1e-6);
  if (finite && (max - min) / scale > 2 ** 31 - 16) {
    throw new FitsError('QuantizeRange', `tile range ${max - min} too large for quantization step ${scale}`);
  }
  const q = new Int32Array(tile.length);
  let iseed = iseedStart;
  let next = Math.trunc(Math.fround((RANDOMS[iseed] ?? 0) * 500));
  let hasNull = false;
  for (let i = 0; i < tile.length; i++) {
    const v = tile[i] ?? NaN;
    if (Number.isFinite(v)) {
      const x = (v - zero) / scale + (RANDOMS[next] ?? 0) - 0.5;
      q[i] = x >= 0 ? Math.trunc(x + 0.5) : Math.trunc(x - 0.5);
    } else {
      q[i] = DEFAULT_ZBLANK;
      hasNull = true;
    }
    if (++next === N_RANDOM) {
      iseed = (iseed + 1) % N_RANDOM;
      next = Math.trunc(Math.fround((RANDOMS[iseed] ?? 0) * 500));
    }
  }
  return { q, scale, zero, hasNull };
}

/** A RICE_1 tile-compressed image HDU (an extension) holding `image`, with CHECKSUM/DATASUM. */
export function compressedHduBytes(image: Image, options: CompressOptions = {}): Buffer {
  const { width, height, bitpix } = image;
  const [tw, th] = options.tile ?? [width, 1];
  const blocksize = options.blocksize ?? 32;
  const float = bitpix < 0;
  const bytepix: Bytepix = float ? 4 : bitpix === 8 ? 1 : bitpix === 16 ? 2 : 4;
  const seed0 = options.ditherSeed ?? 1;
  const tiles: Uint8Array[] = [];
  const scales: number[] = [];
  const zeros: number[] = [];
  let anyNull = false;
  for (let y0 = 0, row = 0; y0 < height; y0 += th) {
    for (let x0 = 0; x0 < width; x0 += tw, row++) {
      const w = Math.min(tw, width - x0);
      const hgt = Math.min(th, height - y0);
      const tile = new Float64Array(w * hgt);
      for (let y = 0; y < hgt; y++) {
        for (let x = 0; x < w; x++) tile[y * w + x] = image.data[(y0 + y) * width + x0 + x] ?? 0;
      }
      if (!float) {
        tiles.push(riceEncode(tile, blocksize, bytepix));
        continue;
      }
      const q = quantizeTile(tile, options.quantizeLevel ?? 16, (row + seed0 - 1) % N_RANDOM);
      anyNull ||= q.hasNull;
      tiles.push(riceEncode(q.q, blocksize, 4));
      scales.push(q.scale);
      zeros.push(q.zero);
    }
  }
  const rowBytes = float ? 24 : 8;
  const maxLen = tiles.reduce((m, t) => Math.max(m, t.length), 0);
  const heapSize = tiles.reduce((s, t) => s + t.length, 0);
  const table = Buffer.alloc(rowBytes * tiles.length + heapSize);
  let heapAt = 0;
  tiles.forEach((t, i) => {
    table.writeInt32BE(t.length, i * rowBytes);
    table.writeInt32BE(heapAt, i * rowBytes + 4);
    if (float) {
      table.writeDoubleBE(scales[i] ?? 1, i * rowBytes + 8);
      table.writeDoubleBE(zeros[i] ?? 0, i * rowBytes + 16);
    }
    table.set(t, rowBytes * tiles.length + heapAt);
    heapAt += t.length;
  });
  const h = new Header([]);
  h.set('XTENSION', 'BINTABLE', 'binary table extension');
  h.set('BITPIX', 8);
  h.set('NAXIS', 2);
  h.set('NAXIS1', rowBytes, 'width of table in bytes');
  h.set('NAXIS2', tiles.length, 'number of rows in table');
  h.set('PCOUNT', heapSize, 'size of special data area');
  h.set('GCOUNT', 1);
  h.set('TFIELDS', float ? 3 : 1);
  h.set('TTYPE1', 'COMPRESSED_DATA', 'label for field 1');
  h.set('TFORM1', `1PB(${maxLen})`, 'data format of field: variable length array');
  if (float) {
    h.set('TTYPE2', 'ZSCALE', 'label for field 2');
    h.set('TFORM2', '1D');
    h.set('TTYPE3', 'ZZERO', 'label for field 3');
    h.set('TFORM3', '1D');
  }
  h.set('ZIMAGE', true, 'extension contains compressed image');
  h.set('ZTENSION', 'IMAGE', 'image extension');
  h.set('ZBITPIX', bitpix, 'data type of original image');
  h.set('ZNAXIS', 2, 'dimension of original image');
  h.set('ZNAXIS1', width, 'length of original image axis');
  h.set('ZNAXIS2', height, 'length of original image axis');
  h.set('ZPCOUNT', 0);
  h.set('ZGCOUNT', 1);
  h.set('ZTILE1', tw, 'size of tiles to be compressed');
  h.set('ZTILE2', th, 'size of tiles to be compressed');
  h.set('ZCMPTYPE', 'RICE_1', 'compression algorithm');
  h.set('ZNAME1', 'BLOCKSIZE', 'compression block size');
  h.set('ZVAL1', blocksize, 'pixels per block');
  h.set('ZNAME2', 'BYTEPIX', 'bytes per pixel (1, 2, 4, or 8)');
  h.set('ZVAL2', bytepix, 'bytes per pixel (1, 2, 4, or 8)');
  if (float) {
    h.set('ZQUANTIZ', 'SUBTRACTIVE_DITHER_1', 'Pixel Quantization Algorithm');
    h.set('ZDITHER0', seed0, 'dithering offset when quantizing floats');
    if (anyNull) h.set('ZBLANK', DEFAULT_ZBLANK, 'null value in the compressed integer array');
  }
  const skip = /^(SIMPLE|XTENSION|BITPIX|NAXIS\d*|EXTEND|PCOUNT|GCOUNT|CHECKSUM|DATASUM)$/;
  const rest = image.header.cards.filter((c) => !skip.test(c.slice(0, 8).trimEnd()));
  const padded = Buffer.alloc(Math.ceil(table.length / 2880) * 2880);
  padded.set(table);
  return hduBytes(new Header([...h.cards, ...rest]), padded);
}
