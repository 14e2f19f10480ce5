// Positions given by object ID only (DESaccess's `COADD_OBJECT_ID[,XSIZE,YSIZE,COLORS_FITS,…]`): the IDs are read and
// checked here, looked up in the collection's object catalogue by a QueryJob (the operator writes its SQL), and each
// input row is mapped back to its object's RA/Dec by ID, keeping its own XSIZE/YSIZE/COLORS_FITS. The result is the
// planner's records, one per input row in input order, so row numbers, limits and reasons are the RA/Dec path's:
// an ID that is not an integer is a `failed` row, an ID the catalogue does not have an `unmatched` one, and a
// duplicate ID gives every row that names it its own cutout. Used by the operator (to find the IDs to look up) and
// by the runner's `plan` command (to map the lookup's result back); one parser, so both agree on which IDs those are.
import { csvRecords, type Limits, type TableRecord } from './positions.js';

/** The ID column of DESaccess's positions. */
export const ID_COLUMN = 'COADD_OBJECT_ID';

/** Smallest and largest ID: the catalogue's IDs are PostgreSQL bigint. */
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Whether a positions CSV names its objects by ID only: its header has COADD_OBJECT_ID and neither RA nor DEC. */
export function isIdPositions(text: string): boolean {
  const header = csvRecords(firstLines(text))[0];
  if (header === undefined) return false;
  const names = header.fields.map((f) => f.trim().toUpperCase());
  return names.includes(ID_COLUMN) && !names.includes('RA') && !names.includes('DEC');
}

// The header only (a quoted newline in a header is not supported by DES either): no need to split a 1 MB list.
function firstLines(text: string): string {
  const end = text.search(/[\r\n]/);
  return end < 0 ? text : text.slice(0, end);
}

/** The canonical decimal form of an integer ID (`+007` → `7`), or undefined when it is not a bigint. */
export function canonicalId(text: string): string | undefined {
  const t = text.trim();
  if (!/^[+-]?\d{1,30}$/.test(t)) return undefined;
  const v = BigInt(t);
  return v < INT64_MIN || v > INT64_MAX ? undefined : v.toString();
}

/** One data row of ID positions: its record, and its ID when the ID is usable. */
interface IdRow {
  readonly record: { readonly fields: readonly string[]; readonly line: number };
  readonly raw: string;
  /** Canonical ID; undefined when the row is unusable (`error` says why). */
  readonly id: string | undefined;
  readonly error?: string;
}

/** ID positions parsed: the header's names (upper case), every data row, and the IDs to look up. */
export interface ParsedIds {
  readonly names: readonly string[];
  readonly rows: readonly IdRow[];
  /** Distinct usable IDs in order of first appearance, among the first `limits.maxPositions` rows. */
  readonly ids: readonly string[];
}

/** Parses ID positions (the header must name COADD_OBJECT_ID); bad rows carry their reason. */
export function parseIdPositions(text: string, limits: Limits): ParsedIds {
  const [header, ...data] = csvRecords(text);
  const names = (header?.fields ?? []).map((f) => f.trim().toUpperCase());
  const col = names.indexOf(ID_COLUMN);
  const seen = new Set<string>();
  const ids: string[] = [];
  const rows = data.map((rec, i): IdRow => {
    const raw = (rec.fields[col] ?? '').trim();
    if (rec.fields.length !== names.length)
      return {
        record: rec,
        raw,
        id: undefined,
        error: `${rec.fields.length} fields, the header has ${names.length}`,
      };
    const id = canonicalId(raw);
    if (id === undefined)
      return { record: rec, raw, id, error: `${ID_COLUMN} ${JSON.stringify(raw)} is not a 64-bit integer` };
    if (i < limits.maxPositions && !seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
    return { record: rec, raw, id };
  });
  return { names, rows, ids };
}

/** An object's position from the catalogue. */
export interface ObjectPosition {
  readonly ra: string;
  readonly dec: string;
}

/** What {@link idRecords} needs besides the positions. */
export interface IdLookup {
  /** The catalogue's answer: ID (canonical) → its RA/Dec cells as the result has them. */
  readonly found: ReadonlyMap<string, ObjectPosition>;
  /** How many of `ParsedIds.ids` (the first ones) were looked up; the rest did not fit in one query. */
  readonly queried: number;
  /** Where the IDs were looked up, for the reasons (e.g. `Catalog des-y6 table y6_gold.objects`). */
  readonly where: string;
}

/**
 * The planner's records of ID positions: a header `RA,DEC,XSIZE,YSIZE,COLORS_FITS,ID`, then one record per input
 * row in input order — the object's RA/Dec with the row's own sizes and colours; an unusable ID or field count as
 * the record's error, an ID not looked up (beyond what the lookups hold) likewise, and an ID the catalogue did not return
 * as `unmatched`.
 */
export function idRecords(parsed: ParsedIds, lookup: IdLookup): TableRecord[] {
  const col = (n: string): number => parsed.names.indexOf(n);
  const queried = new Set(parsed.ids.slice(0, lookup.queried));
  const out: TableRecord[] = [{ fields: ['RA', 'DEC', 'XSIZE', 'YSIZE', 'COLORS_FITS', 'ID'], line: 1 }];
  for (const r of parsed.rows) {
    const get = (n: string): string => (col(n) < 0 ? '' : (r.record.fields[col(n)] ?? ''));
    const opts = [get('XSIZE'), get('YSIZE'), get('COLORS_FITS')];
    const base = { line: r.record.line };
    if (r.id === undefined) {
      out.push({ ...base, fields: ['', '', ...opts, r.raw], error: r.error ?? 'unusable row' });
      continue;
    }
    const at = lookup.found.get(r.id);
    if (at !== undefined) {
      out.push({ ...base, fields: [at.ra, at.dec, ...opts, r.raw] });
      continue;
    }
    if (!queried.has(r.id)) {
      out.push({
        ...base,
        fields: ['', '', ...opts, r.raw],
        error: `${ID_COLUMN} ${r.id} not looked up: one job looks up its first ${lookup.queried} distinct IDs; submit the rest as another job`,
      });
      continue;
    }
    out.push({
      ...base,
      fields: ['', '', ...opts, r.raw],
      unmatched: `not-in-catalogue: ${ID_COLUMN} ${r.id} is not in ${lookup.where}`,
    });
  }
  return out;
}

/**
 * The lookup's answer as a map: the result's records (`RA,DEC,ID` from `cutout/result.ts`) by canonical ID. An ID
 * the catalogue holds twice keeps its first row.
 */
export function foundObjects(records: readonly TableRecord[]): Map<string, ObjectPosition> {
  const found = new Map<string, ObjectPosition>();
  for (const rec of records.slice(1)) {
    const [ra = '', dec = '', raw = ''] = rec.fields;
    const id = canonicalId(raw);
    if (id !== undefined && !found.has(id)) found.set(id, { ra, dec });
  }
  return found;
}
