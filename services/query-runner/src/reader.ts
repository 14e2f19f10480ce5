// The query reader: runs one SELECT in a READ ONLY transaction with a statement_timeout and streams its
// rows through a server-side cursor (pg-cursor: a portal fetched `batchRows` at a time), so the runner
// holds one batch at a time however large the result. Columns come from PostgreSQL's row description.

import pg from 'pg';
import Cursor from 'pg-cursor';
import {
  FormatError,
  type Column,
  type PgType,
  type ResultStatus,
  type Row,
  type Value,
} from './formats/index.js';

/** What to run and how much of it. */
export interface QueryOptions {
  readonly sql: string;
  readonly params?: readonly unknown[];
  /** Rows per cursor fetch (the memory bound): 10,000 by default. */
  readonly batchRows?: number;
  /**
   * PostgreSQL's statement_timeout for the transaction, in ms. With a cursor it bounds each fetch, not
   * the whole query (the extended protocol restarts the timer per Execute); the whole-query limit is
   * the runner's deadline (and the Job's activeDeadlineSeconds).
   */
  readonly statementTimeoutMs: number;
  /** Stop after this many rows; status().overflow then says whether more were available. */
  readonly maxRecords?: number;
}

/** An open query: its columns, its rows in batches (iterate once), and how it ended. */
export interface QueryStream {
  readonly columns: readonly Column[];
  /** Where each column comes from (table OID, column number), when it is a plain table column. */
  readonly sources: readonly (ColumnSource | undefined)[];
  readonly batches: AsyncIterable<readonly Row[]>;
  /** Valid once `batches` is exhausted. */
  status(): ResultStatus;
  /**
   * Ends the transaction (ROLLBACK) when the rows were not all read — e.g. the writer refused the columns
   * before the first batch; a no-op after the last batch. Call it in a finally.
   */
  close(): Promise<void>;
}

/** A result column's table (pg_class OID) and column number (pg_attribute.attnum). */
export interface ColumnSource {
  readonly table: number;
  readonly column: number;
}

/** A query PostgreSQL refused or stopped: its SQLSTATE and message (57014: statement_timeout). */
export class QueryError extends Error {
  override readonly name = 'QueryError';
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** pg_type OIDs of the types the writers take (pg_type.dat; stable across PostgreSQL versions). */
const OID_TYPES: ReadonlyMap<number, PgType> = new Map<number, PgType>([
  [16, 'bool'],
  [20, 'int8'],
  [21, 'int2'],
  [23, 'int4'],
  [25, 'text'],
  [700, 'float4'],
  [701, 'float8'],
  [1043, 'varchar'],
]);

/** Text-format parsers: int8 as bigint (exact beyond 2^53), the rest as the writers expect. */
function parser(oid: number): (text: string) => Value {
  switch (OID_TYPES.get(oid)) {
    case 'int8':
      return (t) => BigInt(t);
    case 'int2':
    case 'int4':
      return (t) => Number(t);
    case 'float4':
      // PostgreSQL (12+, extra_float_digits 1) prints the shortest decimal that reads back to the same
      // float32; rounding it to float32 gives the stored value exactly.
      return (t) => Math.fround(Number(t));
    case 'float8':
      // Number() reads NaN, Infinity and -Infinity as PostgreSQL prints them.
      return (t) => Number(t);
    case 'bool':
      return (t) => t === 't';
    default:
      return (t) => t;
  }
}

function columnOf(f: pg.FieldDef, i: number): Column {
  const type = OID_TYPES.get(f.dataTypeID);
  if (type === undefined) {
    throw new FormatError(
      'UnsupportedType',
      `column ${i + 1} '${f.name}': PostgreSQL type oid ${f.dataTypeID} is not supported (cast it to one of ` +
        `${[...OID_TYPES.values()].join(', ')})`,
    );
  }
  // varchar(n) reports n + 4 as its type modifier (VARHDRSZ); -1 means no declared length.
  const width = type === 'varchar' && f.dataTypeModifier > 4 ? f.dataTypeModifier - 4 : undefined;
  return { name: f.name, type, ...(width !== undefined && { width }) };
}

function read(cursor: Cursor<Value[]>, n: number): Promise<{ rows: Value[][]; fields: pg.FieldDef[] }> {
  return new Promise((resolve, reject) => {
    // A finished cursor answers with no result object.
    cursor.read(n, (err, rows, result) =>
      err ? reject(err) : resolve({ rows, fields: (result as pg.QueryResult | undefined)?.fields ?? [] }),
    );
  });
}

/** A server error becomes a QueryError with its SQLSTATE; anything else (a FormatError) passes as is. */
function wrap(err: unknown): Error {
  if (err instanceof pg.DatabaseError)
    return new QueryError(err.code ?? 'XX000', err.message, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}

/** Refuses options PostgreSQL or the cursor would take wrongly, naming the option. */
function checkOptions(opts: QueryOptions): void {
  const bad = (field: string, must: string, v: number): RangeError =>
    new RangeError(`${field}: must be ${must}, got ${v}`);
  const t = opts.statementTimeoutMs;
  if (!(Number.isSafeInteger(t) && t > 0)) throw bad('statementTimeoutMs', 'a positive integer (ms)', t);
  const b = opts.batchRows;
  if (b !== undefined && !(Number.isSafeInteger(b) && b > 0)) throw bad('batchRows', 'a positive integer', b);
  const m = opts.maxRecords;
  if (m !== undefined && !(Number.isSafeInteger(m) && m >= 0))
    throw bad('maxRecords', 'a non-negative integer', m);
}

/**
 * Opens `opts.sql` on `client` (which it owns until the batches end: BEGIN READ ONLY … COMMIT, or
 * ROLLBACK on error). The first fetch happens here so the columns are known before any byte is written.
 */
export async function openQuery(client: pg.Client, opts: QueryOptions): Promise<QueryStream> {
  checkOptions(opts);
  const batchRows = opts.batchRows ?? 10_000;
  const max = opts.maxRecords ?? Infinity;
  // READ ONLY: even a query that slipped past validation cannot write (SQLSTATE 25006).
  await client.query('BEGIN TRANSACTION READ ONLY');
  let cursor: Cursor<Value[]> | undefined;
  try {
    // SET cannot take a bind parameter; the value is an integer (checkOptions).
    await client.query(`SET LOCAL statement_timeout = ${opts.statementTimeoutMs}`);
    cursor = client.query(
      new Cursor<Value[]>(opts.sql, opts.params ? [...opts.params] : undefined, {
        rowMode: 'array',
        types: { getTypeParser: ((oid: number) => parser(oid)) as pg.CustomTypesConfig['getTypeParser'] },
      }),
    );
    const first = await read(cursor, Math.min(batchRows, max === Infinity ? batchRows : max + 1));
    const columns = first.fields.map(columnOf);
    const sources = first.fields.map((f) =>
      f.tableID > 0 && f.columnID > 0 ? { table: f.tableID, column: f.columnID } : undefined,
    );
    return { ...stream(client, cursor, columns, first.rows, batchRows, max), sources };
  } catch (err) {
    await cursor?.close().catch(() => undefined);
    await client.query('ROLLBACK').catch(() => undefined);
    throw wrap(err);
  }
}

function stream(
  client: pg.Client,
  cursor: Cursor<Value[]>,
  columns: readonly Column[],
  firstRows: Value[][],
  batchRows: number,
  max: number,
): Omit<QueryStream, 'sources'> {
  let overflow = false;
  /** Set once the transaction has ended, by COMMIT after the last batch or by ROLLBACK. */
  let ended = false;
  const rollback = async (): Promise<void> => {
    if (ended) return;
    ended = true;
    await cursor.close().catch(() => undefined);
    await client.query('ROLLBACK').catch(() => undefined);
  };
  async function* batches(): AsyncGenerator<readonly Row[]> {
    let sent = 0;
    let rows = firstRows;
    try {
      for (;;) {
        if (sent + rows.length > max) {
          // One row past maxRecords was asked for: its arrival is the truthful overflow flag.
          overflow = true;
          rows = rows.slice(0, max - sent);
        }
        if (rows.length > 0) yield rows;
        sent += rows.length;
        if (overflow || rows.length === 0) break;
        rows = (await read(cursor, Math.min(batchRows, max - sent + 1))).rows;
      }
      await cursor.close();
      await client.query('COMMIT');
      ended = true;
    } catch (err) {
      throw wrap(err);
    } finally {
      // An error or a consumer that stopped early (break) leaves the transaction open: end it.
      await rollback();
    }
  }
  return {
    columns,
    batches: batches(),
    status: () => ({ overflow }),
    // A generator never started does not run its finally: close() ends the transaction itself.
    close: rollback,
  };
}
