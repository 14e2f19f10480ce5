// A QueryJob's result as positions (a CutoutJob's `spec.positions.fromQueryJob`): the result's files (CSV or
// TSV as the query runner writes them, gzipped or not) read in order as one table, and the chosen RA, Dec and
// ID columns mapped onto the planner's records. A bad cell (NULL, NaN, text) is left for the planner to settle as
// a failed row with its reason; only what makes the whole result unusable — a column missing, an unreadable
// format, parts whose headers differ — is an error, naming the field.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
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

/** Result formats the planner reads, by file name (before `.gz`). */
export const RESULT_FORMATS = { '.csv': ',', '.tsv': '\t' } as const;

/** The delimiter of a result file, or undefined for a format this runner cannot read. */
export function resultDelimiter(name: string): ',' | '\t' | undefined {
  const stem = name.endsWith('.gz') ? name.slice(0, -3) : name;
  for (const [ext, d] of Object.entries(RESULT_FORMATS)) if (stem.endsWith(ext)) return d;
  return undefined;
}

/** A file's text: gunzipped when it starts with the gzip magic (whatever its name says). */
export function resultText(bytes: Buffer): string {
  const raw = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  return raw.toString('utf8');
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

/** One file of a result: its name (for the format and the reasons) and its text. */
export interface ResultFile {
  readonly name: string;
  readonly text: string;
}

/**
 * The planner's records of a result: a header `RA,DEC,ID`, then one record per data row of every file in order,
 * its fields the mapped cells as written (the planner refuses what is not a number in range). A row whose field
 * count differs from its header's is kept, with that reason. With several files a reason names its file.
 */
export function resultRecords(files: readonly ResultFile[], map: ColumnMap): TableRecord[] {
  if (files.length === 0) throw new ResultError('files', 'the QueryJob lists no result file');
  const out: TableRecord[] = [{ fields: ['RA', 'DEC', 'ID'], line: 1 }];
  let first: readonly string[] | undefined;
  for (const f of files) {
    const delimiter = resultDelimiter(f.name);
    if (delimiter === undefined)
      throw new ResultError(
        'files',
        `${f.name}: not a format the planner reads (csv or tsv, gzipped or not)`,
      );
    const records = csvRecords(f.text, delimiter);
    const header = (records[0]?.fields ?? []).map((h) => h.trim());
    if (records.length === 0 || (header.length === 1 && header[0] === ''))
      throw new ResultError('files', `${f.name}: no header line`);
    if (first === undefined) first = header;
    else if (header.join('\u0000') !== first.join('\u0000'))
      throw new ResultError('files', `${f.name}: its columns differ from the first file's`);
    const ra = findColumn(header, map.raColumn, 'raColumn');
    const dec = findColumn(header, map.decColumn, 'decColumn');
    const id = map.idColumn === undefined ? -1 : findColumn(header, map.idColumn, 'idColumn');
    for (const rec of records.slice(1)) {
      const where = files.length > 1 ? { where: `${basename(f.name)} line ${rec.line}` } : {};
      const fields = [rec.fields[ra] ?? '', rec.fields[dec] ?? '', id < 0 ? '' : (rec.fields[id] ?? '')];
      const error =
        rec.fields.length === header.length
          ? {}
          : { error: `${rec.fields.length} fields, the header has ${header.length}` };
      out.push({ fields, line: rec.line, ...where, ...error });
    }
  }
  return out;
}

/** {@link resultRecords} of files on disk (gunzipped when gzipped). */
export function readResult(paths: readonly string[], map: ColumnMap): TableRecord[] {
  return resultRecords(
    paths.map((p) => ({ name: basename(p), text: resultText(readFileSync(p)) })),
    map,
  );
}
