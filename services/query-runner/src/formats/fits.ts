// FITS BINTABLE writer: an empty primary HDU, then one BINTABLE extension holding the result, big-endian,
// in 2880-byte blocks. Types from the shared table: int2/int4/int8 → I/J/K with TNULLn (the type's
// minimum) for NULL, float4/float8 → E/D with NaN for NULL, bool → L (0 byte for NULL), text/varchar →
// `wA` with w the column's declared width (NULL is the empty string).
//
// Binary COPY tuples (formats/tuples.ts) are copied field by field: PostgreSQL's binary numbers are big-endian
// as FITS's are, so a value's bytes go as they are; a value the checks would refuse (an integer equal to
// TNULL, text not printable ASCII or wider than the column) is decoded and refused exactly as a row's.
//
// NAXIS2 (the row count) is known only at the end: the header is written with NAXIS2 = -1, which every
// reader refuses, and patches() gives the 20 bytes to write over it once the rows are counted. A FITS
// result therefore goes to a seekable file (sink.ts applies the patch); it cannot stream to a socket.

import { BLOCK, headerBytes, intCard, primaryHeader, stringCards } from './fits-header.js';
import {
  boolValue,
  checkColumns,
  checkRowLength,
  floatValue,
  FormatError,
  sentinelInt,
  putNumber,
  textValue,
  TYPES,
  valueError,
  type Column,
  type Patch,
  type ResultStatus,
  type ResultWriter,
  type Row,
} from './types.js';
import { TupleBatch, type Batch } from './tuples.js';

/** Where NAXIS2's value field sits: after the primary HDU, the 5th card of the extension, column 11. */
const NAXIS2_OFFSET = BLOCK + 4 * 80 + 10;

/** Streaming FITS BINTABLE writer; apply patches() to the file after end(). */
export class FitsWriter implements ResultWriter {
  readonly mediaType = 'application/fits';
  private readonly widths: readonly number[];
  /** NAXIS1: the declared widths' sum (ResultWriter.rowBytes: the sink bounds rows() calls by it). */
  readonly rowBytes: number;
  /** Each column's bytes for NULL (TNULL, NaN, 0 for bool and text), big-endian. */
  private readonly nulls: readonly Uint8Array[];
  private count = 0;
  /** rows()'s output buffer, reused: a batch's bytes are valid until the next rows() call. */
  private scratch = Buffer.alloc(0);

  constructor(private readonly columns: readonly Column[]) {
    checkColumns(columns);
    this.widths = columns.map((c, i) => {
      if (TYPES[c.type].kind !== 'text') return TYPES[c.type].fitsBytes;
      if (c.width === undefined) {
        throw new FormatError(
          'WidthRequired',
          `column ${i + 1} '${c.name}': FITS needs a declared width for ${c.type} (the header precedes the rows)`,
        );
      }
      return c.width;
    });
    this.rowBytes = this.widths.reduce((a, b) => a + b, 0);
    this.nulls = columns.map((c, i) => {
      const b = Buffer.alloc(this.widths[i] ?? 0);
      put(new DataView(b.buffer, b.byteOffset, b.byteLength), b, 0, null, c, 0, b.length);
      return b;
    });
  }

  begin(): Uint8Array {
    const cards = [
      `XTENSION= 'BINTABLE'`.padEnd(80, ' '),
      intCard('BITPIX', 8),
      intCard('NAXIS', 2),
      intCard('NAXIS1', this.rowBytes, 'bytes per row'),
      intCard('NAXIS2', -1, 'rows: patched when the result is complete'),
      intCard('PCOUNT', 0),
      intCard('GCOUNT', 1),
      intCard('TFIELDS', this.columns.length),
    ];
    this.columns.forEach((c, i) => {
      const n = i + 1;
      const what = (k: string): string => `column ${n} '${c.name}' ${k}`;
      const t = TYPES[c.type];
      cards.push(...stringCards(`TTYPE${n}`, c.name, what('TTYPE')));
      cards.push(
        ...stringCards(`TFORM${n}`, `${t.kind === 'text' ? this.widths[i] : 1}${t.tform}`, what('TFORM')),
      );
      if (t.tnull !== undefined) cards.push(intCard(`TNULL${n}`, t.tnull));
      if (c.unit !== undefined) cards.push(...stringCards(`TUNIT${n}`, c.unit, what('TUNIT')));
      if (c.ucd !== undefined) cards.push(...stringCards(`TUCD${n}`, c.ucd, what('TUCD')));
      if (c.description !== undefined) cards.push(...stringCards(`TCOMM${n}`, c.description, what('TCOMM')));
    });
    return Buffer.concat([primaryHeader(), headerBytes(cards)]);
  }

  rows(batch: Batch): Uint8Array {
    return batch instanceof TupleBatch ? this.tuples(batch) : this.valueRows(batch);
  }

  private valueRows(batch: readonly Row[]): Uint8Array {
    const buf = this.output(batch.length);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let at = 0;
    for (const r of batch) {
      const row = ++this.count;
      checkRowLength(r, this.columns, row);
      this.columns.forEach((col, i) => {
        const width = this.widths[i] ?? 0;
        put(view, buf, at, r[i] ?? null, col, row, width);
        at += width;
      });
    }
    return buf;
  }

  /** Copies each field's bytes into place; NULLs and values the checks look at take the column's rule. */
  private tuples(batch: TupleBatch): Uint8Array {
    const buf = this.output(batch.length);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const { bytes: src, fields: f, width: n } = batch;
    const kinds = this.columns.map((c) => TYPES[c.type].kind);
    let at = 0;
    for (let r = 0, k = 0; r < batch.length; r++) {
      const row = ++this.count;
      for (let i = 0; i < n; i++, k += 2) {
        const width = this.widths[i] as number;
        const len = f[k + 1] as number;
        const from = f[k] as number;
        if (len < 0) {
          const nul = this.nulls[i] as Uint8Array;
          for (let j = 0; j < width; j++) buf[at + j] = nul[j] as number;
        } else {
          switch (kinds[i]) {
            case 'bool':
              buf[at] = src[from] !== 0 ? 0x54 : 0x46;
              break;
            case 'text':
              if (len <= width && printable(src, from, len)) copy(src, from, buf, at, len);
              else put(view, buf, at, batch.value(r, i), this.columns[i] as Column, row, width);
              break;
            case 'int':
              // TNULL is the type's minimum: 0x80 then zeros.
              if (src[from] === 0x80 && zeros(src, from + 1, len - 1))
                put(view, buf, at, batch.value(r, i), this.columns[i] as Column, row, width);
              else copy(src, from, buf, at, len);
              break;
            default:
              copy(src, from, buf, at, len);
          }
        }
        at += width;
      }
    }
    return buf;
  }

  /**
   * Zeroed room for `rows` rows in the reused scratch buffer (text is padded with the zeros): the output of
   * a run's many batches is one buffer, not garbage outside the heap that V8 collects late.
   */
  private output(rows: number): Buffer {
    const n = rows * this.rowBytes;
    if (this.scratch.length < n) this.scratch = Buffer.alloc(n);
    else this.scratch.fill(0, 0, n);
    return this.scratch.subarray(0, n);
  }

  end(_status: ResultStatus): Uint8Array {
    // The data area is padded with zeros to a whole block.
    const data = this.count * this.rowBytes;
    return Buffer.alloc((BLOCK - (data % BLOCK)) % BLOCK);
  }

  patches(): readonly Patch[] {
    return [{ offset: NAXIS2_OFFSET, bytes: Buffer.from(String(this.count).padStart(20, ' '), 'latin1') }];
  }
}

function copy(src: Buffer, from: number, dst: Buffer, at: number, len: number): void {
  if (len < 32) for (let j = 0; j < len; j++) dst[at + j] = src[from + j] as number;
  else src.copy(dst, at, from, from + len);
}

function zeros(b: Buffer, from: number, len: number): boolean {
  for (let j = 0; j < len; j++) if (b[from + j] !== 0) return false;
  return true;
}

/** Whether the bytes are all printable ASCII (what FITS text may hold). */
function printable(b: Buffer, from: number, len: number): boolean {
  for (let j = 0; j < len; j++) {
    const c = b[from + j] as number;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** Writes one value big-endian at `at`; `width` is the column's bytes (a text column's declared width). */
function put(
  view: DataView,
  buf: Buffer,
  at: number,
  v: Row[number],
  col: Column,
  row: number,
  width: number,
): void {
  const t = TYPES[col.type];
  switch (t.kind) {
    case 'int': {
      const b = sentinelInt(v, col, row, t.tnull ?? 0n, 'TNULL in FITS');
      putNumber(view, at, col.type, b);
      return;
    }
    case 'float': {
      putNumber(view, at, col.type, v === null ? NaN : floatValue(v, col, row));
      return;
    }
    case 'bool':
      buf[at] = v === null ? 0 : boolValue(v, col, row) ? 0x54 : 0x46;
      return;
    case 'text': {
      if (v === null) return; // zeros: the empty string
      const s = textValue(v, col, row);
      if (!/^[\x20-\x7e]*$/.test(s)) {
        throw valueError('NotAscii', row, col, `FITS text is printable ASCII only, got ${JSON.stringify(s)}`);
      }
      if (s.length > width) {
        throw valueError('TooWide', row, col, `${s.length} characters exceed the declared width ${width}`);
      }
      buf.write(s, at, 'latin1');
      return;
    }
  }
}
