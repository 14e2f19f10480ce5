// The first BINTABLE of a FITS file (the query runner's FITS result) as text cells, for the planner: each scalar
// cell written as the query runner's CSV writes it (integers exactly, int64 included; floats as the shortest text
// that reads back to the same float32 or float64; booleans true/false; text without its padding), a NULL (TNULLn
// of an integer column, an undefined logical, empty text) as an empty cell. Float NULLs are NaN in FITS and read
// "NaN": either way the planner settles the row as failed with its reason.

import { BLOCK, FitsError, Header, TFORM_BYTES } from '../fits/header.js';

const WIDTH = TFORM_BYTES;

interface FitsColumn {
  readonly name: string;
  readonly tform: string;
  readonly code: string;
  readonly repeat: number;
  readonly offset: number;
  readonly tnull: bigint | undefined;
  readonly scale: number;
  readonly zero: number;
}

/** A FITS binary table read as text cells. */
export interface FitsTable {
  readonly names: readonly string[];
  readonly rows: number;
  /** Why column `col` cannot give one value per row, or undefined when it can. */
  problem(col: number): string | undefined;
  /** The text of a scalar cell ('' for NULL). */
  cell(row: number, col: number): string;
}

function dataSize(h: Header): number {
  const naxis = h.number('NAXIS');
  if (naxis === 0) return 0;
  let n = 1;
  for (let i = 1; i <= naxis; i++) n *= h.number(`NAXIS${i}`);
  return (Math.abs(h.number('BITPIX')) / 8) * h.number('GCOUNT', 1) * (h.number('PCOUNT', 0) + n);
}

/** An integer card's value read from its text, so an int64 TNULL keeps every digit. */
function bigCard(h: Header, key: string): bigint | undefined {
  const i = h.index(key);
  if (i < 0) return undefined;
  const text = (h.cards[i] ?? '').slice(10).split('/')[0]?.trim() ?? '';
  return /^[-+]?\d+$/.test(text) ? BigInt(text) : undefined;
}

/** The shortest decimal text that reads back to the same float32. */
function float32Text(v: number): string {
  if (!Number.isFinite(v) || v === 0) return Object.is(v, -0) ? '-0' : String(v);
  for (let p = 1; p < 10; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return String(s);
  }
  return String(v);
}

function columns(h: Header, where: string): FitsColumn[] {
  const out: FitsColumn[] = [];
  let offset = 0;
  for (let i = 1; i <= h.number('TFIELDS'); i++) {
    const tform = h.string(`TFORM${i}`).trim();
    const m = /^(\d*)([LXBIJKAEDCMPQ])/.exec(tform);
    if (m === null) throw new FitsError('BadHeader', `${where}: TFORM${i} = '${tform}'`);
    const code = m[2] ?? '';
    const repeat = m[1] === undefined || m[1] === '' ? 1 : Number(m[1]);
    out.push({
      name: h.string(`TTYPE${i}`, `col${i}`).trim(),
      tform,
      code,
      repeat,
      offset,
      tnull: bigCard(h, `TNULL${i}`),
      scale: h.number(`TSCAL${i}`, 1),
      zero: h.number(`TZERO${i}`, 0),
    });
    offset += code === 'X' ? Math.ceil(repeat / 8) : repeat * (WIDTH[code] ?? 0);
  }
  return out;
}

/** Reads the first BINTABLE of a FITS file's bytes; `where` names the file in errors. */
export function fitsTable(bytes: Uint8Array, where: string): FitsTable {
  for (let at = 0; at < bytes.length;) {
    const { header, length } = Header.parse(bytes.subarray(at), where);
    const start = at + length;
    const size = dataSize(header);
    if (header.get('XTENSION') === 'BINTABLE') {
      const rowBytes = header.number('NAXIS1');
      const rows = header.number('NAXIS2');
      if (!Number.isInteger(rows) || rows < 0) throw new FitsError('BadHeader', `${where}: NAXIS2 = ${rows}`);
      if (start + rowBytes * rows > bytes.length)
        throw new FitsError('Truncated', `${where}: the table runs past the end of the file`);
      return table(
        columns(header, where),
        new DataView(bytes.buffer, bytes.byteOffset + start),
        rowBytes,
        rows,
      );
    }
    at = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  throw new FitsError('NoTable', `${where}: no BINTABLE extension`);
}

function table(cols: readonly FitsColumn[], view: DataView, rowBytes: number, rows: number): FitsTable {
  const text = (c: FitsColumn, at: number): string => {
    let s = '';
    for (let k = 0; k < c.repeat; k++) {
      const b = view.getUint8(at + k);
      if (b === 0) break;
      s += String.fromCharCode(b);
    }
    return s.replace(/ +$/, '');
  };
  const integer = (c: FitsColumn, raw: bigint): string => {
    if (c.tnull !== undefined && raw === c.tnull) return '';
    if (c.scale === 1 && Number.isInteger(c.zero)) return String(raw + BigInt(c.zero));
    return String(Number(raw) * c.scale + c.zero);
  };
  const float = (c: FitsColumn, v: number, f32: boolean): string => {
    const x = c.scale === 1 && c.zero === 0 ? v : v * c.scale + c.zero;
    if (Object.is(x, -0)) return '-0';
    return f32 && x === v ? float32Text(x) : String(x);
  };
  return {
    names: cols.map((c) => c.name),
    rows,
    problem(col) {
      const c = cols[col];
      if (c === undefined) return 'no such column';
      if (c.code === 'A') return undefined;
      if (!'LBIJKED'.includes(c.code) || c.repeat !== 1)
        return `its FITS format ${c.tform} is not one number per row`;
      return undefined;
    },
    cell(row, col) {
      const c = cols[col];
      if (c === undefined) return '';
      const at = row * rowBytes + c.offset;
      switch (c.code) {
        case 'A':
          return text(c, at);
        case 'L': {
          const b = view.getUint8(at);
          return b === 0x54 ? 'true' : b === 0x46 ? 'false' : '';
        }
        case 'B':
          return integer(c, BigInt(view.getUint8(at)));
        case 'I':
          return integer(c, BigInt(view.getInt16(at)));
        case 'J':
          return integer(c, BigInt(view.getInt32(at)));
        case 'K':
          return integer(c, view.getBigInt64(at));
        case 'E':
          return float(c, view.getFloat32(at), true);
        case 'D':
          return float(c, view.getFloat64(at), false);
        default:
          return '';
      }
    },
  };
}
