// Loads the DES-like sample catalog into PostgreSQL: CREATE TABLE, COPY FROM STDIN in chunks (the
// generator's text straight into the COPY stream, so memory holds one chunk), then the (ra, dec) index,
// the primary key, the column COMMENTs (JSON: unit, UCD, description) and ANALYZE, in one transaction.

import { once } from 'node:events';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { SAMPLE_COLUMNS, sampleCopyText, sampleDdl, sampleIndexAndComments } from './des.js';

export interface LoadOptions {
  /** Table name, optionally schema-qualified: lower-case letters, digits and `_`. */
  readonly table: string;
  readonly rows: number;
  readonly seed?: number;
  /** Drop the table first when it exists (otherwise an existing table is an error). */
  readonly replace?: boolean;
  /** Rows per COPY chunk: 10,000 by default. */
  readonly chunkRows?: number;
}

const NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;

export async function loadSample(client: pg.Client, opts: LoadOptions): Promise<void> {
  if (!NAME.test(opts.table))
    throw new RangeError(`table: '${opts.table}' must be [schema.]name in a-z, 0-9, _`);
  if (!(Number.isSafeInteger(opts.rows) && opts.rows >= 0))
    throw new RangeError(`rows: must be a non-negative integer, got ${opts.rows}`);
  const seed = opts.seed ?? 1;
  const chunk = opts.chunkRows ?? 10_000;
  const index = `${opts.table.replace('.', '_')}_radec`.split('.').at(-1) ?? 'radec';
  await client.query('BEGIN');
  try {
    if (opts.replace === true) await client.query(`DROP TABLE IF EXISTS ${opts.table}`);
    for (const sql of sampleDdl(opts.table)) await client.query(sql);
    const copy = client.query(
      copyFrom(`COPY ${opts.table} (${SAMPLE_COLUMNS.map((c) => c.name).join(', ')}) FROM STDIN`),
    );
    const done = once(copy, 'finish');
    for (let n = 0; n < opts.rows; n += chunk) {
      const text = sampleCopyText(seed, n, Math.min(opts.rows, n + chunk));
      if (!copy.write(text)) await once(copy, 'drain');
    }
    copy.end();
    await done;
    for (const sql of sampleIndexAndComments(opts.table, index)) await client.query(sql);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
