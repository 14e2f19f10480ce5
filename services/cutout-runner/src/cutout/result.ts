// A QueryJob's result as positions (a CutoutJob's `spec.positions.fromQueryJob`): the result's files (CSV, TSV
// or a FITS binary table as the query runner writes them, gzipped or not) read in order as one table, and the
// chosen RA, Dec and ID columns mapped onto the planner's records. A bad cell (NULL, NaN, text) is left for the planner to settle as
// a failed row with its reason; only what makes the whole result unusable — a column missing, an unreadable
// format, parts whose headers differ — is an error, naming the field.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FitsError } from '../fits/header.js';
import { fitsTable } from './fits-table.js';
import { csvRecords, type TableRecord } from './positions.js';

/** The result's columns a job reads, as `spec.positions.fromQueryJob` names them. */
export interface ColumnMap {
  readonly raColumn: string;
  readonly decColumn: string;
  readonly idColumn?: string;
}

/** The result cannot give positions at all; `field` is the ColumnMap field (or `files`) at fault. */
export class ResultError extends Error {
  readonly code = 'BadPositions';
  override readonly name = 'ResultError';
  constructor(
    readonly field: keyof ColumnMap | 'files',
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Result formats the planner reads, by file name extension (before `.gz`). */
export const RESULT_FORMATS = { '.csv': 'csv', '.tsv': 'tsv', '.fits': 'fits' } as const;
/** A format the planner reads. */
export type ResultFormat = (typeof RESULT_FORMATS)[keyof typeof RESULT_FORMATS];
/** What the planner reads, for messages. */
export const READABLE = 'csv, tsv or fits (gzipped or not)';

/** The format of a result file by its name, or undefined for one this runner cannot read. */
export function resultFormat(name: string): ResultFormat | undefined {
  const stem = name.endsWith('.gz') ? name.slice(0, -3) : name;
  for (const [ext, f] of Object.entries(RESULT_FORMATS)) if (stem.endsWith(ext)) return f;
  return undefined;
}

/** A file's bytes, gunzipped when they start with the gzip magic (whatever its name says). */
export function gunzipped(bytes: Uint8Array): Buffer {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b;
}

/** A file's text, gunzipped when gzipped. */
export function resultText(bytes: Uint8Array): string {
  return gunzipped(bytes).toString('utf8');
}

const MAX_LISTED = 40;

function listed(names: readonly string[]): string {
  const shown = names.slice(0, MAX_LISTED).map((n) => JSON.stringify(n));
  return names.length > MAX_LISTED
    ? `${shown.join(', ')} and ${names.length - MAX_LISTED} more`
    : shown.join(', ');
}

/**
 * The index of column `want` in `header`: its exact name, else its only case-insensitive match (PostgreSQL folds
 * unquoted names to lower case, so the default `RA` finds `ra`).
 */
export function findColumn(header: readonly string[], want: string, field: keyof ColumnMap): number {
  const exact = header.indexOf(want);
  if (exact >= 0) return exact;
  const folded = header.flatMap((h, i) => (h.toLowerCase() === want.toLowerCase() ? [i] : []));
  if (folded.length === 1) return folded[0] ?? -1;
  if (folded.length > 1)
    throw new ResultError(
      field,
      `column ${JSON.stringify(want)} matches ${listed(folded.map((i) => header[i] ?? ''))} ignoring case; name one exactly`,
    );
  throw new ResultError(field, `column ${JSON.stringify(want)} not in the result; it has ${listed(header)}`);
}

/** One file of a result: its name (for the format and the reasons) and its text or bytes (maybe gzipped). */
export interface ResultFile {
  readonly name: string;
  readonly data: string | Uint8Array;
}

/** A file's data rows with its column names; `where` set when a row is not known by its line. */
interface FileRows {
  readonly header: readonly string[];
  readonly records: readonly TableRecord[];
}

function delimitedRows(f: ResultFile, delimiter: ',' | '\t'): FileRows {
  const records = csvRecords(typeof f.data === 'string' ? f.data : resultText(f.data), delimiter);
  const header = (records[0]?.fields ?? []).map((h) => h.trim());
  if (records.length === 0 || (header.length === 1 && header[0] === ''))
    throw new ResultError('files', `${f.name}: no header line`);
  return { header, records: records.slice(1) };
}

/** A FITS table's rows (`row N` in the reasons); only the mapped columns are read, each one value per row. */
function fitsRows(f: ResultFile, map: ColumnMap, several: boolean): FileRows {
  let t;
  try {
    if (typeof f.data === 'string')
      throw new FitsError('NotText', `${f.name}: a FITS file is bytes, not text`);
    t = fitsTable(gunzipped(f.data), f.name);
  } catch (e) {
    if (e instanceof FitsError) throw new ResultError('files', e.message);
    throw e;
  }
  const header = [...t.names];
  const cols = mapColumns(header, map);
  const mapped = [cols.ra, cols.dec, cols.id];
  for (const [k, field] of (['raColumn', 'decColumn', 'idColumn'] as const).entries()) {
    const col = mapped[k] ?? -1;
    const problem = col < 0 ? undefined : t.problem(col);
    if (problem !== undefined)
      throw new ResultError(field, `column ${JSON.stringify(header[col])}: ${problem}`);
  }
  const records: TableRecord[] = [];
  for (let r = 0; r < t.rows; r++) {
    const fields = header.map((_, i) => (mapped.includes(i) ? t.cell(r, i) : ''));
    records.push({
      fields,
      line: r + 1,
      where: several ? `${basename(f.name)} row ${r + 1}` : `row ${r + 1}`,
    });
  }
  return { header, records };
}

interface Columns {
  readonly ra: number;
  readonly dec: number;
  readonly id: number;
}

function mapColumns(header: readonly string[], map: ColumnMap): Columns {
  return {
    ra: findColumn(header, map.raColumn, 'raColumn'),
    dec: findColumn(header, map.decColumn, 'decColumn'),
    id: map.idColumn === undefined ? -1 : findColumn(header, map.idColumn, 'idColumn'),
  };
}

/**
 * The planner's records of a result: a header `RA,DEC,ID`, then one record per data row of every file in order,
 * its fields the mapped cells as written (the planner refuses what is not a number in range). A CSV row whose
 * field count differs from its header's is kept, with that reason. With several files a reason names its file.
 */
export function resultRecords(files: readonly ResultFile[], map: ColumnMap): TableRecord[] {
  if (files.length === 0) throw new ResultError('files', 'the QueryJob lists no result file');
  const out: TableRecord[] = [{ fields: ['RA', 'DEC', 'ID'], line: 1 }];
  let first: readonly string[] | undefined;
  for (const f of files) {
    const format = resultFormat(f.name);
    if (format === undefined)
      throw new ResultError('files', `${f.name}: not a format the planner reads (${READABLE})`);
    const { header, records } =
      format === 'fits'
        ? fitsRows(f, map, files.length > 1)
        : delimitedRows(f, format === 'csv' ? ',' : '\t');
    if (first === undefined) first = header;
    else if (header.join('\u0000') !== first.join('\u0000'))
      throw new ResultError('files', `${f.name}: its columns differ from the first file's`);
    const { ra, dec, id } = mapColumns(header, map);
    for (const rec of records) {
      const where = rec.where ?? (files.length > 1 ? `${basename(f.name)} line ${rec.line}` : undefined);
      const fields = [rec.fields[ra] ?? '', rec.fields[dec] ?? '', id < 0 ? '' : (rec.fields[id] ?? '')];
      const error =
        rec.fields.length === header.length
          ? {}
          : { error: `${rec.fields.length} fields, the header has ${header.length}` };
      out.push({ fields, line: rec.line, ...(where !== undefined && { where }), ...error });
    }
  }
  return out;
}

/** {@link resultRecords} of files on disk (gunzipped when gzipped). */
export function readResult(paths: readonly string[], map: ColumnMap): TableRecord[] {
  return resultRecords(
    paths.map((p) => ({ name: basename(p), data: readFileSync(p) })),
    map,
  );
}
