// Record boundaries in a CSV/TSV byte stream as PostgreSQL's `COPY … (FORMAT csv)` writes it: a record
// ends at a line feed outside quotes. A quoted field may hold line feeds and doubled quotes ("" — two
// toggles, so quote parity alone says whether a byte is inside a field). The scanner keeps that parity
// across chunks, so a record (or a quoted field) may span chunks; it looks at bytes only through
// Buffer#indexOf, so a chunk without quotes costs one native search per record.

const LF = 0x0a;
const QUOTE = 0x22;

/** Finds record-ending line feeds, chunk after chunk of one stream. */
export class RecordScanner {
  /** Whether the stream so far ends inside a quoted field. */
  inQuotes = false;

  /**
   * Appends to `ends` the offsets in `b` of the line feeds that end a record (outside quotes), in order;
   * returns how many it appended.
   */
  scan(b: Uint8Array, ends: number[]): number {
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    const before = ends.length;
    let pos = 0;
    let quote = buf.indexOf(QUOTE, 0);
    let lf = buf.indexOf(LF, 0);
    for (;;) {
      if (this.inQuotes) {
        if (quote === -1) break; // the rest of the chunk is inside the field
        this.inQuotes = false;
        pos = quote + 1;
        quote = buf.indexOf(QUOTE, pos);
        continue;
      }
      // A found line feed behind `pos` was inside a quoted field: look again from here.
      if (lf !== -1 && lf < pos) lf = buf.indexOf(LF, pos);
      if (quote !== -1 && (lf === -1 || quote < lf)) {
        this.inQuotes = true;
        pos = quote + 1;
        quote = buf.indexOf(QUOTE, pos);
        continue;
      }
      if (lf === -1) break;
      ends.push(lf);
      pos = lf + 1;
    }
    return ends.length - before;
  }
}
