// CSV and TSV writers (RFC 4180): a header line of column names, one line per row, CRLF line ends, SQL
// NULL as an empty field. A field is quoted when it holds the delimiter, a quote, CR or LF, or is empty
// text — so an empty string ("") and NULL (nothing) stay distinct.

import {
  checkColumns,
  checkRowLength,
  textFormatter,
  type Column,
  type Patch,
  type ResultStatus,
  type ResultWriter,
  TYPES,
  type Value,
} from './types.js';
import { asRows, type Batch } from './tuples.js';

/** Streaming CSV (`,`) or TSV (tab) writer. */
export class DelimitedWriter implements ResultWriter {
  readonly mediaType: string;
  private readonly special: RegExp;
  /** Per column: its value's text, quoted when needed (only text can be empty or hold a special character). */
  private readonly cells: readonly ((v: Value, row: number) => string)[];
  private count = 0;

  constructor(
    private readonly columns: readonly Column[],
    private readonly delimiter: ',' | '\t' = ',',
  ) {
    checkColumns(columns);
    this.mediaType = delimiter === ',' ? 'text/csv; header=present' : 'text/tab-separated-values';
    this.special = delimiter === ',' ? /[",\r\n]/ : /["\t\r\n]/;
    this.cells = columns.map((c) => {
      const f = textFormatter(c);
      return TYPES[c.type].kind === 'text' ? (v, row) => this.quote(f(v, row)) : f;
    });
  }

  begin(): Uint8Array {
    return Buffer.from(this.columns.map((c) => this.quote(c.name)).join(this.delimiter) + '\r\n', 'utf8');
  }

  rows(b: Batch): Uint8Array {
    const batch = asRows(b);
    let out = '';
    const n = this.columns.length;
    const cells = this.cells;
    const d = this.delimiter;
    for (const r of batch) {
      const row = ++this.count;
      checkRowLength(r, this.columns, row);
      for (let i = 0; i < n; i++) {
        const v = r[i] ?? null;
        if (i > 0) out += d;
        if (v !== null) out += (cells[i] as (v: Value, row: number) => string)(v, row);
      }
      out += '\r\n';
    }
    return Buffer.from(out, 'utf8');
  }

  end(_status: ResultStatus): Uint8Array {
    return new Uint8Array(0);
  }

  patches(): readonly Patch[] {
    return [];
  }

  private quote(s: string): string {
    return s === '' || this.special.test(s) ? '"' + s.replaceAll('"', '""') + '"' : s;
  }
}
