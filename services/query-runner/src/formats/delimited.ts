// CSV and TSV writers (RFC 4180): a header line of column names, one line per row, CRLF line ends, SQL
// NULL as an empty field. A field is quoted when it holds the delimiter, a quote, CR or LF, or is empty
// text — so an empty string ("") and NULL (nothing) stay distinct.

import {
  checkColumns,
  checkRowLength,
  formatText,
  type Column,
  type Patch,
  type ResultStatus,
  type ResultWriter,
  type Row,
  TYPES,
} from './types.js';

/** Streaming CSV (`,`) or TSV (tab) writer. */
export class DelimitedWriter implements ResultWriter {
  readonly mediaType: string;
  private readonly special: RegExp;
  /** Per column: whether it holds text (the only values that may need quoting). */
  private readonly text: readonly boolean[];
  private count = 0;

  constructor(
    private readonly columns: readonly Column[],
    private readonly delimiter: ',' | '\t' = ',',
  ) {
    checkColumns(columns);
    this.mediaType = delimiter === ',' ? 'text/csv; header=present' : 'text/tab-separated-values';
    this.special = delimiter === ',' ? /[",\r\n]/ : /["\t\r\n]/;
    this.text = columns.map((c) => TYPES[c.type].kind === 'text');
  }

  begin(): Uint8Array {
    return Buffer.from(this.columns.map((c) => this.quote(c.name)).join(this.delimiter) + '\r\n', 'utf8');
  }

  rows(batch: readonly Row[]): Uint8Array {
    let out = '';
    for (const r of batch) {
      const row = ++this.count;
      checkRowLength(r, this.columns, row);
      const fields: string[] = [];
      this.columns.forEach((col, i) => {
        const v = r[i] ?? null;
        // Only text can be empty or hold a delimiter, quote, CR or LF: numbers and booleans never need quoting.
        if (v === null) fields.push('');
        else if (this.text[i] === true) fields.push(this.quote(formatText(v, col, row)));
        else fields.push(formatText(v, col, row));
      });
      out += fields.join(this.delimiter) + '\r\n';
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
