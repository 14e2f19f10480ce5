// TAP request parameters (TAP 1.1 §2.3, DALI): names are case-insensitive, values are not. LANG, QUERY,
// MAXREC and FORMAT/RESPONSEFORMAT are read here; the ADQL subset goes through the query-runner's
// translator, PostgreSQL SQL straight to its validator — both refuse anything but one SELECT.

import { adqlToSql } from '@skyport/query-runner/dist/src/adql.js';
import type { Format } from '@skyport/query-runner/dist/src/formats/index.js';
import { validateQuery } from '@skyport/query-runner/dist/src/validate.js';

/** A request the service refuses: HTTP 400 with a DALI error naming the parameter. */
export class ParamError extends Error {
  override readonly name = 'ParamError';
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(`${param}: ${message}`);
  }
}

/** Parameters by upper-cased name; a repeated name keeps every value in order. */
export type Params = ReadonlyMap<string, readonly string[]>;

/** Merges query-string and form parameters (objects as express parses them) into Params. */
export function collectParams(...sources: readonly unknown[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const src of sources) {
    if (src === null || typeof src !== 'object') continue;
    for (const [k, v] of Object.entries(src as Record<string, unknown>)) {
      const values = (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
      const key = k.toUpperCase();
      out.set(key, [...(out.get(key) ?? []), ...values]);
    }
  }
  return out;
}

/** The single value of `name`, or undefined; a repeated parameter is refused. */
export function one(p: Params, name: string): string | undefined {
  const v = p.get(name);
  if (v === undefined || v.length === 0) return undefined;
  if (v.length > 1) throw new ParamError(name, `given ${v.length} times; give it once`);
  return v[0];
}

/** FORMAT / RESPONSEFORMAT values (short names and media types) → the writers' formats. */
const FORMAT_NAMES: ReadonlyMap<string, Format> = new Map<string, Format>([
  ['votable', 'votable'],
  ['application/x-votable+xml', 'votable'],
  ['application/x-votable+xml;serialization=tabledata', 'votable'],
  ['text/xml', 'votable'],
  ['votable/td', 'votable'],
  ['votable/b2', 'votable-binary2'],
  ['votable-binary2', 'votable-binary2'],
  ['application/x-votable+xml;serialization=binary2', 'votable-binary2'],
  ['csv', 'csv'],
  ['text/csv', 'csv'],
  ['text/csv;header=present', 'csv'],
  ['tsv', 'tsv'],
  ['text/tab-separated-values', 'tsv'],
  ['fits', 'fits'],
  ['application/fits', 'fits'],
  ['parquet', 'parquet'],
  ['application/vnd.apache.parquet', 'parquet'],
  ['json', 'json'],
  ['application/json', 'json'],
  ['hdf5', 'hdf5'],
  ['application/x-hdf5', 'hdf5'],
]);

/** Output formats by media type, for /capabilities. */
export const OUTPUT_FORMATS: readonly { mime: string; alias: string; asyncOnly?: true }[] = [
  { mime: 'application/x-votable+xml', alias: 'votable' },
  { mime: 'application/x-votable+xml;serialization=binary2', alias: 'votable/b2' },
  { mime: 'text/csv', alias: 'csv' },
  { mime: 'text/tab-separated-values', alias: 'tsv' },
  { mime: 'application/fits', alias: 'fits' },
  { mime: 'application/vnd.apache.parquet', alias: 'parquet' },
  { mime: 'application/json', alias: 'json' },
  { mime: 'application/x-hdf5', alias: 'hdf5', asyncOnly: true },
];

export function parseFormat(p: Params): Format {
  const given = one(p, 'RESPONSEFORMAT') ?? one(p, 'FORMAT');
  if (given === undefined) return 'votable';
  const f = FORMAT_NAMES.get(given.toLowerCase().replace(/\s+/g, ''));
  if (f === undefined)
    throw new ParamError(
      'RESPONSEFORMAT',
      `'${given}' is not one of ${OUTPUT_FORMATS.map((o) => `${o.alias} (${o.mime})`).join(', ')}`,
    );
  return f;
}

/** MAXREC: default when absent; above the hard limit or not a non-negative integer is refused. */
export function parseMaxrec(p: Params, def: number, hard: number): number {
  const raw = one(p, 'MAXREC');
  if (raw === undefined || raw.trim() === '') return def;
  if (!/^\d+$/.test(raw.trim())) throw new ParamError('MAXREC', `'${raw}' is not a non-negative integer`);
  const n = Number(raw.trim());
  if (n > hard) throw new ParamError('MAXREC', `${n} is over this service's limit of ${hard} rows`);
  return n;
}

export type Lang = 'ADQL' | 'PG-SQL';

export function parseLang(p: Params): Lang {
  const raw = one(p, 'LANG');
  if (raw === undefined) throw new ParamError('LANG', 'is required (ADQL or PG-SQL)');
  const l = raw.trim().toUpperCase();
  if (l === 'ADQL' || l === 'ADQL-2.0' || l === 'ADQL-2.1') return 'ADQL';
  if (l === 'PG-SQL' || l === 'PGSQL' || l === 'SQL' || l === 'POSTGRESQL') return 'PG-SQL';
  throw new ParamError('LANG', `'${raw}' is not supported: use ADQL (a subset, see /capabilities) or PG-SQL`);
}

export function parseQuery(p: Params): string {
  const q = one(p, 'QUERY');
  if (q === undefined || q.trim() === '') throw new ParamError('QUERY', 'is required');
  return q;
}

/** The query as PostgreSQL SQL: ADQL translated, SQL validated (QueryValidationError when refused). */
export async function toSql(lang: Lang, query: string): Promise<string> {
  if (lang === 'ADQL') return adqlToSql(query);
  const sql = query.trim().replace(/;\s*$/, '');
  await validateQuery(sql);
  return sql;
}

/** REQUEST, when given, must be doQuery (TAP 1.0 clients send it). */
export function checkRequest(p: Params): void {
  const r = one(p, 'REQUEST');
  if (r !== undefined && r !== 'doQuery')
    throw new ParamError('REQUEST', `'${r}' is not supported; use doQuery`);
  if (p.has('UPLOAD')) throw new ParamError('UPLOAD', 'table upload is not supported by this service');
}
