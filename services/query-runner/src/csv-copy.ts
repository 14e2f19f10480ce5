// The CSV/TSV fast path: PostgreSQL formats the rows itself — `COPY (SELECT … FROM (<query>) q) TO STDOUT
// (FORMAT csv, HEADER)` — and the runner only moves bytes (csv-output.ts: record boundaries, parts, gzip,
// sha256). The wrapping SELECT makes the bytes what pandas and astropy read back as the values: booleans
// as `true`/`false` (COPY writes `t`/`f`, which readers keep as text). Floats are PostgreSQL's shortest
// round-trip text (extra_float_digits = 1, set here whatever the role's default), int8 exact, NULL an
// empty field and the empty string `""`. Columns are checked exactly as the other formats' (a type the
// writers cannot take is a FormatError naming it), from a Describe before anything runs.

import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { describe } from './copy.js';
import { checkColumns, type Column } from './formats/types.js';
import {
  cancelRequest,
  checkOptions,
  columnOf,
  sourcesOf,
  wrap,
  type ColumnSource,
  type QueryOptions,
} from './reader.js';

/** A query being copied as CSV/TSV text. */
export interface CsvCopy {
  readonly columns: readonly Column[];
  readonly sources: readonly (ColumnSource | undefined)[];
  /**
   * COPY's bytes (header line first), iterate once; the transaction commits after the last chunk. With
   * maxRecords the stream holds one record more than wanted when the result overflows.
   */
  readonly chunks: AsyncIterable<Buffer>;
  /** Ends a copy not read to its end (cancel, ROLLBACK); a no-op after the last chunk. Call it in a finally. */
  close(): Promise<void>;
}

/** A PostgreSQL identifier, quoted. */
const ident = (name: string): string => '"' + name.replaceAll('"', '""') + '"';

/** The SELECT that COPY formats: each column by name, booleans as true/false; LIMIT max + 1 with maxRecords. */
export function csvSelect(sql: string, columns: readonly Column[], maxRecords?: number): string {
  const list = columns
    .map((c) => {
      const q = `q.${ident(c.name)}`;
      return c.type === 'bool'
        ? `CASE WHEN ${q} THEN 'true' WHEN NOT ${q} THEN 'false' END AS ${ident(c.name)}`
        : q;
    })
    .join(', ');
  // Newlines around the text: a trailing line comment must not swallow the closing parenthesis.
  const limit = maxRecords === undefined ? '' : ` LIMIT ${maxRecords + 1}`;
  return `SELECT ${list} FROM (\n${sql}\n) AS q${limit}`;
}

/** The COPY statement for `select` with `delimiter` (`,` or tab). */
export function csvCopyStatement(select: string, delimiter: ',' | '\t'): string {
  const d = delimiter === ',' ? "','" : "E'\\t'";
  return `COPY (${select}) TO STDOUT (FORMAT csv, HEADER, DELIMITER ${d})`;
}

/**
 * Opens `opts.sql` as CSV/TSV text on `client` (BEGIN READ ONLY, statement_timeout over the whole COPY) and
 * reads the first chunk, so a query the server refuses fails here, before any file exists. Undefined —
 * with the transaction rolled back — when COPY cannot take the query (it returns no rows, or only the
 * wrapping made a syntax error, e.g. a trailing `;`): the caller reads it the general way.
 */
export async function openCsvCopy(
  client: pg.Client,
  opts: Omit<QueryOptions, 'params' | 'batchRows'> & { readonly delimiter: ',' | '\t' },
): Promise<CsvCopy | undefined> {
  checkOptions(opts);
  await client.query('BEGIN TRANSACTION READ ONLY');
  let ended = false;
  const rollback = async (): Promise<void> => {
    if (ended) return;
    ended = true;
    await client.query('ROLLBACK').catch(() => undefined);
  };
  let columns: Column[];
  let fields: pg.FieldDef[] | null;
  try {
    // SET cannot take a bind parameter; the value is an integer (checkOptions).
    await client.query(`SET LOCAL statement_timeout = ${opts.statementTimeoutMs}`);
    // PostgreSQL 12+: any value above 0 prints the shortest text that reads back to the same float.
    await client.query('SET LOCAL extra_float_digits = 1');
    fields = await describe(client, opts.sql);
    columns = fields === null ? [] : fields.map(columnOf);
    checkColumns(columns);
  } catch (err) {
    await rollback();
    throw wrap(err);
  }
  if (fields === null) {
    await rollback();
    return undefined;
  }
  const select = csvSelect(opts.sql, columns, opts.maxRecords);
  const copy = client.query(copyTo(csvCopyStatement(select, opts.delimiter)));
  const it = copy[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  /** Set once the COPY stream has ended (its end, or the server's error). */
  let finished = false;
  const pull = async (): Promise<Buffer | undefined> => {
    try {
      const c = await it.next();
      if (c.done === true) finished = true;
      return c.done === true ? undefined : c.value;
    } catch (err) {
      finished = true;
      throw err;
    }
  };
  let first: Buffer | undefined;
  try {
    first = await pull();
  } catch (err) {
    await rollback();
    if (err instanceof pg.DatabaseError && err.code === '42601') return undefined;
    throw wrap(err);
  }
  const close = async (): Promise<void> => {
    if (ended) return;
    if (!finished) {
      // The server streams until the COPY ends: cancel it and read up to its error.
      finished = true;
      await cancelRequest(client);
      try {
        while ((await it.next()).done !== true);
      } catch {
        // 57014, the cancel.
      }
    }
    await rollback();
  };
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for (let c = first; c !== undefined; c = await pull()) {
        first = undefined;
        yield c;
      }
      await client.query('COMMIT');
      ended = true;
    } catch (err) {
      throw wrap(err);
    } finally {
      await close();
    }
  }
  return { columns, sources: sourcesOf(fields), chunks: chunks(), close };
}
