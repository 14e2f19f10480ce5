// JSON writer. The shape (documented in the README):
//   {"columns":[{"name","datatype","unit"?,"ucd"?,"description"?}, …],
//    "data":[[v, …], …], "rowCount":n, "queryStatus":"OK"|"OVERFLOW"}
// Integers are exact JSON numbers (int8 beyond 2^53 too: JSON has no precision limit, Python reads them
// exactly; JavaScript's JSON.parse rounds them); floats are their shortest exact decimal; NaN, Infinity and
// -Infinity, which JSON cannot hold, are the strings "NaN", "Infinity", "-Infinity"; SQL NULL is null.

import {
  checkColumns,
  checkRowLength,
  formatText,
  TYPES,
  type Column,
  type Patch,
  type ResultStatus,
  type ResultWriter,
} from './types.js';
import { asRows, type Batch } from './tuples.js';

/** Streaming JSON writer: the data array grows one batch at a time. */
export class JsonWriter implements ResultWriter {
  readonly mediaType = 'application/json';
  private count = 0;

  constructor(private readonly columns: readonly Column[]) {
    checkColumns(columns);
  }

  begin(): Uint8Array {
    const cols = this.columns.map((c) => ({
      name: c.name,
      datatype: c.type,
      ...(c.unit !== undefined && { unit: c.unit }),
      ...(c.ucd !== undefined && { ucd: c.ucd }),
      ...(c.description !== undefined && { description: c.description }),
    }));
    return Buffer.from(`{"columns":${JSON.stringify(cols)},\n"data":[`, 'utf8');
  }

  rows(b: Batch): Uint8Array {
    const batch = asRows(b);
    let out = '';
    for (const r of batch) {
      const row = ++this.count;
      checkRowLength(r, this.columns, row);
      const vals = this.columns.map((col, i) => {
        const v = r[i] ?? null;
        if (v === null) return 'null';
        const s = formatText(v, col, row);
        const kind = TYPES[col.type].kind;
        if (kind === 'text' || (kind === 'float' && !Number.isFinite(v))) return JSON.stringify(s);
        return s;
      });
      out += (row === 1 ? '\n[' : ',\n[') + vals.join(',') + ']';
    }
    return Buffer.from(out, 'utf8');
  }

  end(status: ResultStatus): Uint8Array {
    const qs = status.overflow ? 'OVERFLOW' : 'OK';
    return Buffer.from(`\n],\n"rowCount":${this.count},"queryStatus":"${qs}"}\n`, 'utf8');
  }

  patches(): readonly Patch[] {
    return [];
  }
}
