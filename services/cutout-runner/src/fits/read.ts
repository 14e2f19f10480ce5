// Reads FITS files HDU by HDU with positional reads: opening a file reads only its headers, and an image
// is read when asked for, so a tile's other HDUs never occupy memory. Tile-compressed images (a BINTABLE
// with ZIMAGE = T) read as the image they hold.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { decompressImage, uncompressedHeader } from './compressed.js';
import { BLOCK, FitsError, Header } from './header.js';
import { bitpixOf, pixelsFromBigEndian, type Image } from './image.js';

export type HduKind = 'image' | 'compressed-image' | 'table' | 'empty';

export interface Hdu {
  /** 0-based position in the file. */
  readonly index: number;
  readonly header: Header;
  readonly kind: HduKind;
  /** EXTNAME, or '' (astropy's name for an unnamed primary is PRIMARY; ours is ''). */
  readonly name: string;
  readonly dataOffset: number;
  readonly dataBytes: number;
}

/** Bytes of an HDU's data area (without the block padding): BITPIX, NAXISn, PCOUNT and GCOUNT. */
export function dataBytes(h: Header, where: string): number {
  const bitpix = h.number('BITPIX');
  const naxis = h.number('NAXIS');
  if (naxis === 0) return 0;
  let n = 1;
  for (let i = 1; i <= naxis; i++) {
    const len = h.number(`NAXIS${i}`);
    if (!Number.isInteger(len) || len < 0) throw new FitsError('BadHeader', `${where}: NAXIS${i} = ${len}`);
    n *= len;
  }
  return (Math.abs(bitpix) / 8) * h.number('GCOUNT', 1) * (h.number('PCOUNT', 0) + n);
}

/** What an HDU holds, from its header. */
export function kindOf(h: Header): HduKind {
  if (h.get('ZIMAGE') === true) return 'compressed-image';
  const x = h.get('XTENSION');
  if (x === 'BINTABLE' || x === 'TABLE') return 'table';
  return h.number('NAXIS') === 0 ? 'empty' : 'image';
}

/** An open FITS file; call close() when done. */
export class FitsFile {
  readonly hdus: readonly Hdu[];

  private constructor(
    private readonly fd: number,
    readonly path: string,
    hdus: Hdu[],
  ) {
    this.hdus = hdus;
  }

  static open(path: string): FitsFile {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const hdus: Hdu[] = [];
      for (let at = 0; at < size;) {
        const where = `${path} HDU ${hdus.length}`;
        const header = readHeader(fd, at, size, where);
        const bytes = dataBytes(header.header, where);
        const dataOffset = at + header.length;
        if (dataOffset + bytes > size)
          throw new FitsError('Truncated', `${where}: data run past the end of the file`);
        const kind = kindOf(header.header);
        const name = header.header.get('EXTNAME');
        hdus.push({
          index: hdus.length,
          header: header.header,
          kind,
          name: typeof name === 'string' ? name : '',
          dataOffset,
          dataBytes: bytes,
        });
        at = dataOffset + Math.ceil(bytes / BLOCK) * BLOCK;
      }
      if (hdus.length === 0) throw new FitsError('Empty', `${path}: no HDU`);
      return new FitsFile(fd, path, hdus);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** The HDU named `name` (EXTNAME, case-insensitive) or at position `name` when it is a number. */
  hdu(name: string | number): Hdu {
    const hdu =
      typeof name === 'number'
        ? this.hdus[name]
        : this.hdus.find((h) => h.name.toUpperCase() === name.toUpperCase());
    if (hdu === undefined) throw new FitsError('NoSuchHdu', `${this.path}: no HDU ${JSON.stringify(name)}`);
    return hdu;
  }

  /** The raw bytes of an HDU's data area (without the block padding). */
  readData(hdu: Hdu): Uint8Array {
    const buf = new Uint8Array(hdu.dataBytes);
    readFully(this.fd, buf, hdu.dataOffset);
    return buf;
  }

  /** The 2-D image an HDU holds, decompressed when it is tile-compressed. */
  readImage(name: string | number): Image {
    const hdu = this.hdu(name);
    const where = `${this.path} HDU ${hdu.index}${hdu.name ? ` (${hdu.name})` : ''}`;
    if (hdu.kind === 'compressed-image') {
      return decompressImage(hdu.header, this.readData(hdu), where);
    }
    if (hdu.kind !== 'image') throw new FitsError('NotAnImage', `${where}: not an image HDU`);
    const h = hdu.header;
    if (h.number('NAXIS') !== 2)
      throw new FitsError('NotTwoDimensional', `${where}: NAXIS = ${h.number('NAXIS')}`);
    const bitpix = bitpixOf(h.get('BITPIX'), where);
    const width = h.number('NAXIS1');
    const height = h.number('NAXIS2');
    const data = pixelsFromBigEndian(bitpix, this.readData(hdu), width * height);
    return { header: h, bitpix, width, height, data };
  }

  /** The header an HDU's image has (for a compressed image: the header of the image it holds). */
  imageHeader(name: string | number): Header {
    const hdu = this.hdu(name);
    return hdu.kind === 'compressed-image' ? uncompressedHeader(hdu.header) : hdu.header;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function readFully(fd: number, buf: Uint8Array, position: number): void {
  for (let done = 0; done < buf.length;) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new FitsError('Truncated', 'unexpected end of file');
    done += n;
  }
}

function readHeader(fd: number, at: number, size: number, where: string): { header: Header; length: number } {
  const chunks: Uint8Array[] = [];
  for (let pos = at; pos + BLOCK <= size; pos += BLOCK) {
    const block = new Uint8Array(BLOCK);
    readFully(fd, block, pos);
    chunks.push(block);
    // END sits at the start of some 80-byte card in the last block read.
    if (endCardIn(block) >= 0) return Header.parse(Buffer.concat(chunks), where);
  }
  throw new FitsError(
    'NoEnd',
    `${where}: header has no END card (or the file is not a multiple of 2880 bytes)`,
  );
}

/** The offset just past the END card in a 2880-byte block, or -1 when the block has none. */
export function endCardIn(block: Uint8Array): number {
  for (let c = 0; c < BLOCK; c += 80) {
    if (block[c] === 0x45 && block[c + 1] === 0x4e && block[c + 2] === 0x44 && isBlankTail(block, c + 3))
      return c + 80;
  }
  return -1;
}

function isBlankTail(block: Uint8Array, from: number): boolean {
  for (let i = from; i < from + 5; i++) if (block[i] !== 0x20) return false;
  return true;
}
