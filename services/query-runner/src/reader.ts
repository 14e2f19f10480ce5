// The query reader: runs one SELECT in a READ ONLY transaction with a statement_timeout and streams its
// rows in batches, so the runner holds one batch at a time however large the result. A query without bind
// parameters is described first (its columns, nothing executed) and read through `COPY (…) TO STDOUT
// (FORMAT binary)`, in batches of the binary tuples as they came (copy.ts, formats/tuples.ts: no object per
// row); anything else through a server-side cursor (pg-cursor: a portal fetched `batchRows` at a time), in
// batches of rows. Columns come from PostgreSQL's row description.

import { connect } from 'node:net';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { BinaryTupleDecoder, describe, MAX_BATCH_BYTES } from './copy.js';
import { CopyOutReader } from './copy-out.js';
import {
  FormatError,
  TupleBatch,
  type Batch,
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
  /**
   * Rows per batch (the memory bound): DEFAULT_BATCH_ROWS (4,096) by default. A batch from COPY also ends
   * at MAX_BATCH_BYTES (copy.ts) of tuples.
   */
  readonly batchRows?: number;
  /**
   * PostgreSQL's statement_timeout for the transaction, in ms. Through COPY it bounds the whole query (one
   * statement); through the cursor each fetch (the extended protocol restarts the timer per Execute). The
   * runner's deadline bounds the whole run either way.
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
  /** TupleBatches from COPY, rows from the cursor: `asRows` (formats/tuples.ts) decodes either. */
  readonly batches: AsyncIterable<Batch>;
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

/** A result column from its row-description field; a type the writers cannot take is a FormatError naming it. */
export function columnOf(f: pg.FieldDef, i: number): Column {
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
export function wrap(err: unknown): Error {
  if (err instanceof pg.DatabaseError)
    return new QueryError(err.code ?? 'XX000', err.message, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}

/** Refuses options PostgreSQL or the cursor would take wrongly, naming the option. */
export function checkOptions(opts: QueryOptions): void {
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

/** Rows per batch when the options name none: small enough that a batch's values stay a few MB. */
export const DEFAULT_BATCH_ROWS = 4096;

/**
 * Opens `opts.sql` on `client` (which it owns until the batches end: BEGIN READ ONLY … COMMIT, or
 * ROLLBACK on error). The first batch is read here, so the columns are known and a query the server
 * refuses fails here, before any byte is written.
 *
 * A query without bind parameters that describes as rows is read through `COPY (…) TO STDOUT (FORMAT
 * binary)` (`copy.ts`); anything else — bind parameters, a statement returning no rows (which the server
 * then refuses, e.g. 25006 in the read-only transaction), a text COPY cannot wrap (a trailing `;`) —
 * through the server-side cursor.
 */
export async function openQuery(client: pg.Client, opts: QueryOptions): Promise<QueryStream> {
  checkOptions(opts);
  const batchRows = opts.batchRows ?? DEFAULT_BATCH_ROWS;
  const max = opts.maxRecords ?? Infinity;
  let cursor: Cursor<Value[]> | undefined;
  try {
    // One round trip (simple protocol, several statements): READ ONLY — even a query that slipped past
    // validation cannot write (SQLSTATE 25006) —, the timeout (SET cannot take a bind parameter; the value is
    // an integer, checkOptions) and, for the COPY attempt below, the savepoint it falls back to. On a quick
    // query each round trip saved is a visible share of the time (services/tap/README.md, benchmark).
    await client.query(
      `BEGIN TRANSACTION READ ONLY; SET LOCAL statement_timeout = ${opts.statementTimeoutMs}` +
        (opts.params === undefined ? '; SAVEPOINT skyport_copy' : ''),
    );
    if (opts.params === undefined) {
      const fields = await describe(client, opts.sql);
      if (fields !== null) {
        const columns = fields.map(columnOf);
        const copied = await openCopy(client, opts.sql, columns, batchRows, max);
        if (copied !== undefined) return { ...copied, sources: sourcesOf(fields) };
      }
    }
    cursor = client.query(
      new Cursor<Value[]>(opts.sql, opts.params ? [...opts.params] : undefined, {
        rowMode: 'array',
        types: { getTypeParser: ((oid: number) => parser(oid)) as pg.CustomTypesConfig['getTypeParser'] },
      }),
    );
    const asked = Math.min(batchRows, max === Infinity ? batchRows : max + 1);
    const first = await read(cursor, asked);
    const columns = first.fields.map(columnOf);
    return {
      ...stream(client, cursor, columns, { rows: first.rows, asked }, batchRows, max),
      sources: sourcesOf(first.fields),
    };
  } catch (err) {
    await cursor?.close().catch(() => undefined);
    await client.query('ROLLBACK').catch(() => undefined);
    throw wrap(err);
  }
}

export function sourcesOf(fields: readonly pg.FieldDef[]): (ColumnSource | undefined)[] {
  return fields.map((f) =>
    f.tableID > 0 && f.columnID > 0 ? { table: f.tableID, column: f.columnID } : undefined,
  );
}

/**
 * Starts `COPY (sql) TO STDOUT (FORMAT binary)` — with maxRecords, of `SELECT * FROM (sql) LIMIT max + 1`
 * (the extra row is the overflow flag) — and reads the first batch. Undefined when COPY cannot wrap the
 * text (a syntax error only the wrapping made: the statement described fine): the caller falls back to
 * the cursor, the transaction rolled back to the savepoint `skyport_copy` the caller set before.
 */
async function openCopy(
  client: pg.Client,
  sql: string,
  columns: readonly Column[],
  batchRows: number,
  max: number,
): Promise<Omit<QueryStream, 'sources'> | undefined> {
  // Newlines around the text: a trailing line comment must not swallow the closing parenthesis.
  const query =
    max === Infinity ? `\n${sql}\n` : `SELECT * FROM (\n${sql}\n) AS skyport_query LIMIT ${max + 1}`;
  // SAVEPOINT skyport_copy was set with BEGIN (openQuery).
  const decoder = new BinaryTupleDecoder(columns.map((c) => c.type));
  // The socket pauses once the decoder holds a batch's bytes bound (and no one waits for more).
  const sink = {
    push: (chunk: Buffer, from: number, to: number) => decoder.push(chunk, from, to),
    full: () => decoder.held >= MAX_BATCH_BYTES,
  };
  const copy = new CopyOutReader(`COPY (${query}) TO STDOUT (FORMAT binary)`, sink);
  void client.query(copy as unknown as pg.QueryConfig);
  /** Up to `limit` rows: fewer only at the end of the stream or at the batch bytes bound. */
  const next = async (limit: number): Promise<Batch> => {
    let batch: Batch | undefined;
    while ((batch = decoder.take(limit)) === undefined) {
      if (copy.copyDone) decoder.finish(); // throws: the stream ended before its trailer
      await copy.more(); // throws the server's error, which ended the COPY: nothing to cancel
    }
    // Read to the stream's end: CopyDone, or the error the server sent after the last row.
    if (decoder.done) while (!copy.ended) await copy.more();
    return batch;
  };
  /** Ends the reading early: the server streams until the COPY ends, so cancel it and read up to the error. */
  const stop = async (): Promise<void> => {
    if (copy.ended) return;
    copy.discard = true;
    await cancelRequest(client);
    try {
      while (!copy.ended) await copy.more();
    } catch {
      // 57014, the cancel (or the error that stopped the stream already).
    }
  };
  /** After the last row wanted: with maxRecords the LIMIT ends the stream one row later, so read to its end. */
  const finish = async (): Promise<void> => {
    if (copy.ended) return;
    while (!decoder.done) if ((await next(1)).length === 0) break;
  };
  let first: Batch;
  try {
    first = await next(Math.min(batchRows, max + 1));
  } catch (err) {
    if (err instanceof pg.DatabaseError && err.code === '42601') {
      await client.query('ROLLBACK TO SAVEPOINT skyport_copy');
      return undefined;
    }
    await stop();
    throw err;
  }
  return source(client, columns, first, next, () => decoder.done, finish, stop, batchRows, max);
}

/** The backend's cancel key (pg keeps it from BackendKeyData). */
interface CancelKey {
  readonly processID: number;
  readonly secretKey: number;
  readonly host: string;
  readonly port: number;
}

/** Sends a CancelRequest for `client`'s backend on a new connection and waits for the server to close it. */
export function cancelRequest(client: pg.Client): Promise<void> {
  const k = client as unknown as CancelKey;
  return new Promise((resolve) => {
    const path = k.host.startsWith('/') ? `${k.host}/.s.PGSQL.${k.port}` : undefined;
    const socket = path !== undefined ? connect(path) : connect(k.port, k.host);
    socket.once('connect', () => {
      const msg = Buffer.alloc(16);
      msg.writeInt32BE(16, 0);
      msg.writeInt32BE(80877102, 4);
      msg.writeInt32BE(k.processID, 8);
      msg.writeInt32BE(k.secretKey, 12);
      socket.end(msg);
    });
    socket.once('error', () => resolve());
    socket.once('close', () => resolve());
    socket.setTimeout(5000, () => socket.destroy());
  });
}

/**
 * The batches of a query being read: `next(n)` gives up to n rows (fewer at the end, or from COPY at the
 * batch bytes bound), `atEnd()` says whether the last batch was the stream's last, `stop()` ends the
 * reading early. The same rows make the same batches: a rerun splits the rows alike.
 */
function source(
  client: pg.Client,
  columns: readonly Column[],
  firstRows: Batch,
  next: (n: number) => Promise<Batch>,
  atEnd: () => boolean,
  finish: () => Promise<void>,
  stop: () => Promise<void>,
  batchRows: number,
  max: number,
): Omit<QueryStream, 'sources'> {
  let overflow = false;
  /** Set once the transaction has ended, by COMMIT after the last batch or by ROLLBACK. */
  let ended = false;
  const rollback = async (): Promise<void> => {
    if (ended) return;
    ended = true;
    await stop().catch(() => undefined);
    await client.query('ROLLBACK').catch(() => undefined);
  };
  async function* batches(): AsyncGenerator<Batch> {
    let sent = 0;
    let rows = firstRows;
    try {
      for (;;) {
        if (sent + rows.length > max) {
          // One row past maxRecords was asked for: its arrival is the truthful overflow flag.
          overflow = true;
          rows = head(rows, max - sent);
        }
        if (rows.length > 0) yield rows;
        sent += rows.length;
        if (overflow || atEnd()) break;
        rows = await next(Math.min(batchRows, max - sent + 1));
      }
      await finish();
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

function stream(
  client: pg.Client,
  cursor: Cursor<Value[]>,
  columns: readonly Column[],
  first: { rows: Value[][]; asked: number },
  batchRows: number,
  max: number,
): Omit<QueryStream, 'sources'> {
  // The portal is done when a fetch gives fewer rows than asked.
  let short = first.rows.length < first.asked;
  const next = async (n: number): Promise<Row[]> => {
    const rows = (await read(cursor, n)).rows;
    short = rows.length < n;
    return rows;
  };
  const close = (): Promise<void> => cursor.close();
  return source(client, columns, first.rows, next, () => short, close, close, batchRows, max);
}

/** The first `n` rows of a batch. */
function head(batch: Batch, n: number): Batch {
  return batch instanceof TupleBatch ? batch.head(n) : batch.slice(0, n);
}
