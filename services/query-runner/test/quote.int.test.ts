// The quote against a real PostgreSQL: EXPLAIN's estimate for a scan, an indexed cone and a cross join
// of the same table, the refusal of the join over the limits, and nothing executed or left open.

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryError } from '../src/reader.js';
import { checkQuote, quoteQuery, QuoteError } from '../src/quote.js';
import { startPostgres, type Postgres } from './support/postgres.js';

let server: Postgres;
let client: pg.Client;

beforeAll(async () => {
  server = await startPostgres();
  client = new pg.Client({ connectionString: server.url });
  await client.connect();
  await client.query(`
    CREATE TABLE obj AS SELECT i::int8 AS id, (i % 3600) / 10.0 AS ra, ((i % 1800) / 10.0) - 90 AS dec
      FROM generate_series(1, 100000) AS s(i);
    CREATE INDEX obj_radec ON obj (ra, dec);
    ANALYZE obj;`);
}, 60_000);
afterAll(async () => {
  await client?.end();
  await server?.stop();
});

describe('quoteQuery', () => {
  it('estimates a full scan near the table size and an index range far below it', async () => {
    const all = await quoteQuery(client, 'SELECT * FROM obj');
    expect(all.estimatedRows).toBe(100000);
    expect(all.estimatedBytes).toBeGreaterThan(100000 * 8);
    const cone = await quoteQuery(
      client,
      'SELECT id FROM obj WHERE ra BETWEEN 10 AND 10.5 AND dec BETWEEN -50 AND -40',
    );
    expect(cone.estimatedRows).toBeLessThan(1000);
    expect(cone.cost).toBeLessThan(all.cost);
  });

  it('estimates a cross join at 10^10 rows and refuses it over the limits, naming the limit', async () => {
    const q = await quoteQuery(client, 'SELECT a.id, b.id FROM obj a CROSS JOIN obj b');
    expect(q.estimatedRows).toBe(1e10);
    expect(() => checkQuote(q, { maxRows: 10_000_000 })).toThrow(QuoteError);
    expect(() => checkQuote(q, { maxRows: 10_000_000 })).toThrow(
      "the planner estimates 10,000,000,000 rows, over the catalog's maxRows of 10,000,000",
    );
    expect(() => checkQuote(q, { maxCost: 1e6 })).toThrow('maxCost');
    expect(() => checkQuote(q, { maxRows: 2e10, maxCost: 1e12, maxBytes: 1e13 })).not.toThrow();
  });

  it('plans without executing (pg_sleep would take an hour) and leaves no transaction open', async () => {
    const t0 = Date.now();
    await quoteQuery(client, 'SELECT pg_sleep(3600)');
    expect(Date.now() - t0).toBeLessThan(5000);
    const r = await client.query<{ s: string }>("SELECT current_setting('transaction_read_only') AS s");
    expect(r.rows[0]?.s).toBe('off');
  });

  it('gives the server error with its SQLSTATE for an unknown table', async () => {
    const err = await quoteQuery(client, 'SELECT * FROM nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryError);
    expect((err as QueryError).code).toBe('42P01');
  });
});
