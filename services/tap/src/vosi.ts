// VOSI: /availability, /capabilities (TAPRegExt: languages, output formats, limits) and /tables (the
// exposed schemas' tables and columns from information_schema, with units, UCDs and descriptions from the
// columns' COMMENTs as the query-runner reads them) — the XML pyvo's vosi parsers read.

import { parseComment } from '@skyport/query-runner/dist/src/comments.js';
import type pg from 'pg';
import type { TapConfig } from './config.js';
import { OUTPUT_FORMATS } from './params.js';
import { el, esc, XML_DECL } from './xml.js';

export function availabilityXml(available: boolean, note: string): string {
  return (
    XML_DECL +
    '<vosi:availability xmlns:vosi="http://www.ivoa.net/xml/VOSIAvailability/v1.0">\n' +
    `  ${el('vosi:available', String(available))}\n  ${el('vosi:note', note)}\n</vosi:availability>\n`
  );
}

function vosiCapability(standard: string, url: string): string {
  return (
    `  <capability standardID="ivo://ivoa.net/std/VOSI#${standard}">\n` +
    `    <interface xsi:type="vs:ParamHTTP"><accessURL use="full">${esc(url)}</accessURL></interface>\n` +
    '  </capability>\n'
  );
}

/** The capabilities document; `base` is the TAP base URL as the client reached it. */
export function capabilitiesXml(cfg: TapConfig, base: string): string {
  const formats = OUTPUT_FORMATS.map(
    (f) => `    <outputFormat>${el('mime', f.mime)}${el('alias', f.alias)}</outputFormat>\n`,
  ).join('');
  return (
    XML_DECL +
    '<vosi:capabilities xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0"' +
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' +
    ' xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1"' +
    ' xmlns:tr="http://www.ivoa.net/xml/TAPRegExt/v1.0">\n' +
    '  <capability standardID="ivo://ivoa.net/std/TAP" xsi:type="tr:TableAccess">\n' +
    `    <interface xsi:type="vs:ParamHTTP" role="std" version="1.1"><accessURL use="base">${esc(base)}</accessURL></interface>\n` +
    '    <language><name>ADQL</name><version ivo-id="ivo://ivoa.net/std/ADQL#v2.0">2.0</version>' +
    '<description>A subset: TOP, CONTAINS(POINT, CIRCLE), DISTANCE; other geometry is refused by name</description></language>\n' +
    '    <language><name>PG-SQL</name><version>1</version><description>One PostgreSQL SELECT</description></language>\n' +
    formats +
    `    <retentionPeriod><default>${cfg.destructionDefaultSeconds}</default><hard>${cfg.destructionHardSeconds}</hard></retentionPeriod>\n` +
    `    <executionDuration><default>${cfg.executionDurationDefault}</default><hard>${cfg.executionDurationHard}</hard></executionDuration>\n` +
    `    <outputLimit><default unit="row">${cfg.maxrecDefault}</default><hard unit="row">${cfg.maxrecHard}</hard></outputLimit>\n` +
    '  </capability>\n' +
    vosiCapability('capabilities', `${base}/capabilities`) +
    vosiCapability('availability', `${base}/availability`) +
    vosiCapability('tables', `${base}/tables`) +
    '</vosi:capabilities>\n'
  );
}

/** information_schema data_type → VODataService TAPType. */
const TAP_TYPES: Readonly<Record<string, string>> = {
  smallint: 'SMALLINT',
  integer: 'INTEGER',
  bigint: 'BIGINT',
  real: 'REAL',
  'double precision': 'DOUBLE',
  boolean: 'BOOLEAN',
  text: 'VARCHAR',
  'character varying': 'VARCHAR',
  character: 'CHAR',
  'timestamp without time zone': 'TIMESTAMP',
  'timestamp with time zone': 'TIMESTAMP',
};

interface ColumnRow {
  schema: string;
  table: string;
  table_type: string;
  table_comment: string | null;
  column: string;
  data_type: string;
  width: number | null;
  comment: string | null;
  indexed: boolean;
}

/** The exposed schemas' tables and views with their columns, in schema, table and column order. */
export async function tablesXml(pool: pg.Pool, schemas: readonly string[]): Promise<string> {
  const r = await pool.query<ColumnRow>(
    `SELECT c.table_schema AS schema, c.table_name AS table, t.table_type,
            obj_description(format('%I.%I', c.table_schema, c.table_name)::regclass, 'pg_class') AS table_comment,
            c.column_name AS column, c.data_type, c.character_maximum_length AS width,
            col_description(format('%I.%I', c.table_schema, c.table_name)::regclass, c.ordinal_position) AS comment,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = format('%I.%I', c.table_schema, c.table_name)::regclass
                      AND c.ordinal_position = ANY (i.indkey::int2[])) AS indexed
       FROM information_schema.columns c
       JOIN information_schema.tables t USING (table_schema, table_name)
      WHERE c.table_schema = ANY ($1)
      ORDER BY c.table_schema, c.table_name, c.ordinal_position`,
    [schemas],
  );
  const bySchema = new Map<string, Map<string, ColumnRow[]>>();
  for (const row of r.rows) {
    const tables = bySchema.get(row.schema) ?? new Map<string, ColumnRow[]>();
    bySchema.set(row.schema, tables);
    tables.set(row.table, [...(tables.get(row.table) ?? []), row]);
  }
  let out =
    XML_DECL +
    '<vosi:tableset xmlns:vosi="http://www.ivoa.net/xml/VOSITables/v1.0"' +
    ' xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1"' +
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n';
  for (const schema of schemas) {
    out += `  <schema>${el('name', schema)}\n`;
    for (const [table, cols] of bySchema.get(schema) ?? []) {
      const first = cols[0];
      const type = first?.table_type === 'VIEW' ? 'view' : 'table';
      const desc = first?.table_comment ?? undefined;
      out += `    <table type="${type}">${el('name', `${schema}.${table}`)}${desc === undefined ? '' : el('description', desc)}\n`;
      for (const c of cols) out += `      ${columnXml(c)}\n`;
      out += '    </table>\n';
    }
    out += '  </schema>\n';
  }
  return out + '</vosi:tableset>\n';
}

function columnXml(c: ColumnRow): string {
  const meta = c.comment === null ? {} : parseComment(c.comment);
  const tapType = TAP_TYPES[c.data_type] ?? 'VARCHAR';
  const size = c.width === null ? undefined : String(c.width);
  return (
    '<column>' +
    el('name', c.column) +
    (meta.description === undefined ? '' : el('description', meta.description)) +
    (meta.unit === undefined ? '' : el('unit', meta.unit)) +
    (meta.ucd === undefined ? '' : el('ucd', meta.ucd)) +
    el('dataType', tapType, { 'xsi:type': 'vs:TAPType', size }) +
    (c.indexed ? el('flag', 'indexed') : '') +
    '</column>'
  );
}
