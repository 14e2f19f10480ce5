// The operator's two calls to a catalog's database. The EXPLAIN quote at submit: the operator connects to the catalog's database as its read-only role (the Secret
// in the QueryJob's namespace), asks the planner (EXPLAIN, never ANALYZE: nothing runs), and refuses a query over
// the catalog's limits. A database that cannot be reached is a TransientError (retried with backoff).
import { classify } from '@skyport/query-runner/errors';
import { checkQuote, QuoteError, quoteQuery, type Quote } from '@skyport/query-runner/quote';
import pg from 'pg';
import type { Catalog } from '../../api/v1alpha1/index.js';
import { parseQuantity } from '../../api/units.js';
import { TransientError } from '../../errors.js';
import { SubmitError } from './submit.js';

/** The read-only role's user name and password, read from the catalog's Secret. */
export interface Credentials {
  readonly user: string;
  readonly password: string;
}

/** Runs EXPLAIN on the catalog's database; how the operator quotes (replaced by a fake in unit tests). */
export type Quoter = (catalog: Catalog, creds: Credentials, sql: string) => Promise<Quote>;

/** Cancels the backends whose application_name is `appName`; how many it cancelled. */
export type Canceller = (catalog: Catalog, creds: Credentials, appName: string) => Promise<number>;

/** How long the planner may take before the quote is given up (a transient failure). */
export const QUOTE_TIMEOUT_MS = 10_000;

/** The real quoter: one short-lived connection per quote. */
function newClient(catalog: Catalog, creds: Credentials, appName: string): pg.Client {
  const db = catalog.spec.database;
  const c = new pg.Client({
    host: db.host,
    port: db.port,
    database: db.database,
    user: creds.user,
    password: creds.password,
    application_name: appName,
    connectionTimeoutMillis: QUOTE_TIMEOUT_MS,
  });
  // An error event after connect (server gone) must not crash the operator.
  c.on('error', () => undefined);
  return c;
}

export const pgQuoter: Quoter = async (catalog, creds, sql) => {
  const client = newClient(catalog, creds, 'skyport-operator-quote');
  try {
    await client.connect();
    return await quoteQuery(client, sql, QUOTE_TIMEOUT_MS);
  } finally {
    await client.end().catch(() => undefined);
  }
};

/**
 * Quotes `sql` and checks it against the catalog's limits. Throws a SubmitError (phase ERROR) for a query the
 * database refuses to plan (a missing table, no permission) or one over a limit, a TransientError when the
 * database cannot answer now.
 */
export async function quoteAndCheck(
  quoter: Quoter,
  catalog: Catalog,
  creds: Credentials,
  sql: string,
): Promise<Quote> {
  let q: Quote;
  try {
    q = await quoter(catalog, creds, sql);
  } catch (err) {
    const e = classify(err);
    if (e.type === 'transient' || e.code === 'InternalError' || e.code === 'QueryCanceled')
      throw new TransientError('CatalogUnavailable', `quote: ${e.message}`, { cause: err });
    throw new SubmitError(e.code, `spec.query: ${e.message}`);
  }
  const lim = catalog.spec.limits;
  try {
    checkQuote(q, {
      maxBytes: parseQuantity(lim.maxResultBytes),
      ...(lim.maxEstimatedRows === undefined ? {} : { maxRows: lim.maxEstimatedRows }),
      ...(lim.maxCost === undefined ? {} : { maxCost: lim.maxCost }),
    });
  } catch (err) {
    if (err instanceof QuoteError) throw new SubmitError(err.code, `spec.query: ${err.message}`);
    throw err;
  }
  return q;
}

/**
 * ABORT's database half: pg_cancel_backend of the job's runner backend, found by its application_name. The
 * read-only role may cancel its own sessions (the runner runs as the same role). The runner, told to stop by its
 * pod's SIGTERM, cancels it too; this covers a runner that cannot (killed, node lost).
 */
export const pgCanceller: Canceller = async (catalog, creds, appName) => {
  const client = newClient(catalog, creds, 'skyport-operator-abort');
  try {
    await client.connect();
    const r = await client.query<{ cancelled: boolean }>(
      'SELECT pg_cancel_backend(pid) AS cancelled FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
      [appName],
    );
    return r.rows.filter((row) => row.cancelled).length;
  } catch (err) {
    throw new TransientError('CatalogUnavailable', `abort: ${(err as Error).message}`, { cause: err });
  } finally {
    await client.end().catch(() => undefined);
  }
};
