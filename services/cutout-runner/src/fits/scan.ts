// The HDUs of a FITS file that is not on a local disk (an object in a bucket), from its headers alone: each header
// is read by ranged reads, up to four 2880-byte blocks at a time until its END card, and the next HDU's offset
// computed from the header (NAXISn, BITPIX, PCOUNT, GCOUNT). Reads start only at headers (a window after a short
// header may take a few KB of the data behind it); a data area is never read for itself. The same Hdu records
// FitsFile.open makes.

import { BLOCK, FitsError, Header } from './header.js';
import { dataBytes, endCardIn, kindOf, type Hdu } from './read.js';

/** Reads `length` bytes at `offset` (an S3 ranged GET); it may return fewer only at the end of the object. */
export type ReadRange = (offset: number, length: number) => Promise<Uint8Array>;

/** Blocks asked for per read: most headers fit in a few (the sample's in 1–4, a DES coadd's SCI in ~8). */
export const HEADER_READ_BLOCKS = 4;

/** What a scan read: its HDUs, and the reads and bytes it took (headers only). */
export interface Scan {
  readonly hdus: Hdu[];
  readonly reads: number;
  readonly bytesRead: number;
}

/** Walks the HDUs of a `size`-byte file through `read`, never reading a data area. */
export async function scanHdus(read: ReadRange, size: number, where: string): Promise<Scan> {
  const hdus: Hdu[] = [];
  let reads = 0;
  let bytesRead = 0;
  for (let at = 0; at < size;) {
    const here = `${where} HDU ${hdus.length}`;
    const chunks: Uint8Array[] = [];
    let found = false;
    for (let pos = at; !found && pos + BLOCK <= size;) {
      const want = Math.min(HEADER_READ_BLOCKS * BLOCK, Math.floor((size - pos) / BLOCK) * BLOCK);
      const got = await read(pos, want);
      reads++;
      bytesRead += got.length;
      if (got.length < want) throw new FitsError('Truncated', `${here}: short read at byte ${pos}`);
      for (let b = 0; b < got.length; b += BLOCK) {
        const block = got.subarray(b, b + BLOCK);
        chunks.push(block);
        if (endCardIn(block) >= 0) {
          found = true;
          break;
        }
      }
      pos += want;
    }
    if (!found)
      throw new FitsError(
        'NoEnd',
        `${here}: header has no END card (or the file is not a multiple of 2880 bytes)`,
      );
    const { header, length } = Header.parse(Buffer.concat(chunks), here);
    const bytes = dataBytes(header, here);
    const dataOffset = at + length;
    if (dataOffset + bytes > size)
      throw new FitsError('Truncated', `${here}: data run past the end of the file`);
    const name = header.get('EXTNAME');
    hdus.push({
      index: hdus.length,
      header,
      kind: kindOf(header),
      name: typeof name === 'string' ? name : '',
      dataOffset,
      dataBytes: bytes,
    });
    at = dataOffset + Math.ceil(bytes / BLOCK) * BLOCK;
  }
  if (hdus.length === 0) throw new FitsError('Empty', `${where}: no HDU`);
  return { hdus, reads, bytesRead };
}
