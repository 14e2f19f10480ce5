// VOTable 1.4 writer, TABLEDATA or BINARY2 serialization. FIELD datatype from the shared type table
// (text is unicodeChar arraysize="*": VOTable char is ASCII only), with unit, ucd and DESCRIPTION.
//
// QUERY_STATUS: an INFO value="OK" precedes the TABLE (written before any row, when nothing else is
// known); when the runner reports overflow at the end, a second INFO value="OVERFLOW" follows the TABLE,
// the placement DALI allows for a streamed result (pyvo and astropy read both).
//
// NULL: in BINARY2 the row's null bitmap; in TABLEDATA an empty TD — which for text is also the empty
// string (TABLEDATA has no other NULL for a char array; use BINARY2 to keep them apart). Characters
// beyond the BMP are UTF-16 surrogate pairs in BINARY2 (astropy reads them back; strict UCS-2 readers see
// two characters). XML 1.0 cannot hold control characters other than tab, LF and CR: they are refused.

import {
  boolValue,
  checkColumns,
  checkRowLength,
  FormatError,
  formatFloat,
  intValue,
  putNumber,
  textValue,
  TYPES,
  valueError,
  type Column,
  type Patch,
  type ResultStatus,
  type ResultWriter,
  type Row,
  type Value,
  floatValue,
} from './types.js';
import { asRows, type Batch } from './tuples.js';

export type VotableSerialization = 'tabledata' | 'binary2';

const ILLEGAL_XML =
  // eslint-disable-next-line no-control-regex -- the control characters XML 1.0 forbids
  /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** XML-escapes text for element content or a double-quoted attribute; CR (and in attributes tab and LF)
 * as character references so an XML parser's line-end and attribute normalization cannot change them. */
function xml(s: string, attribute: boolean): string {
  let out = s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('\r', '&#13;');
  if (attribute) out = out.replaceAll('"', '&quot;').replaceAll('\t', '&#9;').replaceAll('\n', '&#10;');
  return out;
}

function checkXml(s: string, what: () => FormatError): string {
  if (ILLEGAL_XML.test(s)) throw what();
  return s;
}

/** Streaming VOTable writer. */
export class VotableWriter implements ResultWriter {
  readonly mediaType: string;
  private count = 0;
  /** BINARY2: bytes not yet base64-encoded (fewer than 3), carried to the next batch. */
  private carry: Buffer = Buffer.alloc(0);

  constructor(
    private readonly columns: readonly Column[],
    private readonly serialization: VotableSerialization = 'tabledata',
  ) {
    checkColumns(columns);
    this.mediaType = `application/x-votable+xml;serialization=${serialization.toUpperCase()}`;
  }

  begin(): Uint8Array {
    const fields = this.columns.map((c, i) => {
      const bad = (k: string) => () =>
        new FormatError('NotXml', `column ${i + 1} '${c.name}' ${k}: holds a character XML 1.0 cannot`);
      const t = TYPES[c.type];
      let f = `<FIELD name="${xml(checkXml(c.name, bad('name')), true)}" datatype="${t.votable}"`;
      if (t.kind === 'text') f += ' arraysize="*"';
      if (c.unit !== undefined) f += ` unit="${xml(checkXml(c.unit, bad('unit')), true)}"`;
      if (c.ucd !== undefined) f += ` ucd="${xml(checkXml(c.ucd, bad('ucd')), true)}"`;
      if (c.description === undefined) return f + '/>';
      return `${f}><DESCRIPTION>${xml(checkXml(c.description, bad('description')), false)}</DESCRIPTION></FIELD>`;
    });
    const head = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"' +
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' +
        ' xsi:schemaLocation="http://www.ivoa.net/xml/VOTable/v1.3 http://www.ivoa.net/xml/VOTable/v1.4">',
      '<RESOURCE type="results">',
      '<INFO name="QUERY_STATUS" value="OK"/>',
      '<TABLE>',
      ...fields,
      this.serialization === 'tabledata' ? '<DATA><TABLEDATA>' : '<DATA><BINARY2><STREAM encoding="base64">',
    ];
    return Buffer.from(head.join('\n') + '\n', 'utf8');
  }

  rows(batch: Batch): Uint8Array {
    const rows = asRows(batch);
    return this.serialization === 'tabledata' ? this.tabledata(rows) : this.binary2(rows);
  }

  end(status: ResultStatus): Uint8Array {
    const tail: string[] = [];
    if (this.serialization === 'tabledata') tail.push('</TABLEDATA></DATA>');
    else {
      if (this.carry.length > 0) tail.push(this.carry.toString('base64'));
      this.carry = Buffer.alloc(0);
      tail.push('</STREAM></BINARY2></DATA>');
    }
    tail.push('</TABLE>');
    if (status.overflow) tail.push('<INFO name="QUERY_STATUS" value="OVERFLOW"/>');
    tail.push('</RESOURCE>', '</VOTABLE>');
    return Buffer.from(tail.join('\n') + '\n', 'utf8');
  }

  patches(): readonly Patch[] {
    return [];
  }

  private tabledata(batch: readonly Row[]): Uint8Array {
    let out = '';
    for (const r of batch) {
      const row = ++this.count;
      checkRowLength(r, this.columns, row);
      out += '<TR>';
      this.columns.forEach((col, i) => {
        const v = r[i] ?? null;
        out += v === null ? '<TD/>' : `<TD>${tdText(v, col, row)}</TD>`;
      });
      out += '</TR>\n';
    }
    return Buffer.from(out, 'utf8');
  }

  private binary2(batch: readonly Row[]): Uint8Array {
    const parts: Buffer[] = [this.carry];
    for (const r of batch) {
      const row = ++this.count;
      checkRowLength(r, this.columns, row);
      parts.push(binaryRow(r, this.columns, row));
    }
    const bytes = Buffer.concat(parts);
    const whole = bytes.length - (bytes.length % 3);
    this.carry = Buffer.from(bytes.subarray(whole));
    // Whitespace is allowed in base64 content: one line per batch keeps lines bounded by the batch.
    return whole === 0
      ? new Uint8Array(0)
      : Buffer.from(bytes.subarray(0, whole).toString('base64') + '\n', 'ascii');
  }
}

/** A non-NULL value as TABLEDATA text (VOTable spells infinities +Inf and -Inf). */
function tdText(v: Value, col: Column, row: number): string {
  switch (TYPES[col.type].kind) {
    case 'int':
      return intValue(v, col, row).toString();
    case 'float': {
      const x = floatValue(v, col, row);
      return x === Infinity ? '+Inf' : x === -Infinity ? '-Inf' : formatFloat(x, col.type);
    }
    case 'bool':
      return boolValue(v, col, row) ? 'T' : 'F';
    case 'text': {
      const s = textValue(v, col, row);
      return xml(
        checkXml(s, () => valueError('NotXml', row, col, 'holds a character XML 1.0 cannot')),
        false,
      );
    }
  }
}

/** One BINARY2 row: the null bitmap (first column in the high bit), then each value big-endian. */
function binaryRow(r: Row, columns: readonly Column[], row: number): Buffer {
  const parts: Buffer[] = [];
  const mask = Buffer.alloc(Math.ceil(columns.length / 8));
  parts.push(mask);
  columns.forEach((col, i) => {
    const v = r[i] ?? null;
    if (v === null) mask[i >> 3] = (mask[i >> 3] ?? 0) | (0x80 >> (i & 7));
    const t = TYPES[col.type];
    if (t.kind === 'text') {
      const s = v === null ? '' : textValue(v, col, row);
      if (LONE_SURROGATE.test(s)) throw valueError('NotUtf16', row, col, 'holds a lone UTF-16 surrogate');
      const b = Buffer.alloc(4 + 2 * s.length);
      b.writeInt32BE(s.length, 0);
      for (let k = 0; k < s.length; k++) b.writeUInt16BE(s.charCodeAt(k), 4 + 2 * k);
      parts.push(b);
      return;
    }
    const b = Buffer.alloc(t.voBytes);
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (t.kind === 'int') putNumber(view, 0, col.type, v === null ? 0n : intValue(v, col, row));
    else if (t.kind === 'float') putNumber(view, 0, col.type, v === null ? NaN : floatValue(v, col, row));
    else {
      b[0] = v === null ? 0x3f : boolValue(v, col, row) ? 0x54 : 0x46; // '?', 'T', 'F'
    }
    parts.push(b);
  });
  return Buffer.concat(parts);
}
