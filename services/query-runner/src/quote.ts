// The quote: PostgreSQL's own estimate of a query before it runs (EXPLAIN, never ANALYZE), inside a READ
// ONLY transaction with a statement_timeout, and the refusal of a query whose estimate exceeds the
// catalog's limits. Planning does not execute the query, so a validated SELECT is safe to explain.

import type pg from 'pg';
import { QueryError } from './reader.js';

/** The planner's estimate for the whole query (its top plan node). */
export interface Quote {
  readonly estimatedRows: number;
  /** Total cost in the planner's units (seq_page_cost = 1 by default). */
  readonly cost: number;
  /** Estimated bytes of the result: rows × the planner's average row width. */
  readonly estimatedBytes: number;
}

/** A catalog's limits on a quote; a missing limit is not checked. */
export interface QuoteLimits {
  readonly maxRows?: number;
  readonly maxCost?: number;
  readonly maxBytes?: number;
}

/** A query refused on its estimate: code QuoteOverLimit, naming the limit and both numbers. */
export class QuoteError extends Error {
  override readonly name = 'QuoteError';
  readonly code = 'QuoteOverLimit';
  constructor(
    readonly limit: keyof QuoteLimits,
    message: string,
  ) {
    super(message);
  }
}

interface PlanNode {
  readonly 'Plan Rows': number;
  readonly 'Total Cost': number;
  readonly 'Plan Width': number;
}

/**
 * EXPLAIN (FORMAT JSON) of `sql` on `client`: the top node's rows, cost and width. Validate the query
 * first (validate.ts): EXPLAIN of a statement that is not a SELECT would still only plan it, but the
 * runner's contract is that nothing else reaches the database.
 */
export async function quoteQuery(
  client: pg.Client,
  sql: string,
  statementTimeoutMs = 10_000,
): Promise<Quote> {
  if (!(Number.isSafeInteger(statementTimeoutMs) && statementTimeoutMs > 0)) {
    throw new RangeError(`statementTimeoutMs: must be a positive integer (ms), got ${statementTimeoutMs}`);
  }
  await client.query('BEGIN TRANSACTION READ ONLY');
  try {
    await client.query(`SET LOCAL statement_timeout = ${statementTimeoutMs}`);
    const r = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (FORMAT JSON) ${sql}`);
    const plan = r.rows[0]?.['QUERY PLAN'][0]?.Plan;
    if (plan === undefined) throw new Error('EXPLAIN returned no plan');
    return {
      estimatedRows: plan['Plan Rows'],
      cost: plan['Total Cost'],
      estimatedBytes: plan['Plan Rows'] * plan['Plan Width'],
    };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    throw typeof e.code === 'string' ? new QueryError(e.code, e.message ?? String(err), { cause: err }) : err;
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

/** Throws a QuoteError when the quote exceeds a limit (rows first, then bytes, then cost). */
export function checkQuote(q: Quote, limits: QuoteLimits): void {
  const over = (limit: keyof QuoteLimits, what: string, got: number, max: number | undefined): void => {
    if (max !== undefined && got > max) {
      throw new QuoteError(
        limit,
        `the planner estimates ${Math.round(got).toLocaleString('en-US')} ${what}, over the catalog's ` +
          `${limit} of ${max.toLocaleString('en-US')}: narrow the query (a WHERE on an indexed column, a LIMIT)`,
      );
    }
  };
  over('maxRows', 'rows', q.estimatedRows, limits.maxRows);
  over('maxBytes', 'bytes', q.estimatedBytes, limits.maxBytes);
  over('maxCost', 'cost units', q.cost, limits.maxCost);
}
