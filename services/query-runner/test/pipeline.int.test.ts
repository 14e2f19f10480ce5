// The whole path a result takes: a real PostgreSQL table with every supported type and NULLs, read by
// the streaming reader, written in every format, read back by astropy (pyarrow for Parquet) and compared
// with the rows the database returns to a plain query. CSV and TSV also through the runner's fast path:
// PostgreSQL's own COPY text (csv-copy.ts) written by csv-output.ts. And the reader's two ways — binary COPY
// tuples the writers read as they are, and the cursor's rows — write the same files.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWriter,
  TupleBatch,
  writeToFile,
  type Batch,
  type Row,
  type Value,
} from '../src/formats/index.js';
import { openCsvCopy } from '../src/csv-copy.js';
import { writeCsvResult } from '../src/csv-output.js';
import { openQuery } from '../src/reader.js';
import { astropyPython, readWithAstropy } from './support/astropy.js';
import { compare } from './support/astropy-rules.js';
import { startPostgres, type Postgres } from './support/postgres.js';

const TABLE = `
  CREATE TABLE objects (coadd_object_id int8, flags int2, nepochs int4, mag_auto_g float4, ra float8,
                        extended bool, tilename varchar(12), comment text);
  INSERT INTO objects VALUES
    (4611686018427387905, 32767, 2147483647, 21.5, 0.30000000000000004, true, 'DES0001-4914', 'plain'),
    (-9223372036854775807, -32767, -2147483647, 'NaN', '-Infinity', false, 'it''s', E'a "q", b\\r\\nc\\td <&>'),
    (9223372036854775807, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (NULL, 0, 0, 'Infinity', 5e-324, true, '', 'é 東京 😀'),
    (42, -1, 1, 0.1, 1.7976931348623157e308, false, 'x y', ''),
    (7, 5, 6, '-0', '-0', NULL, 'neg zero', NULL);`;

let server: Postgres;
let python = '';
const dir = mkdtempSync(join(tmpdir(), 'skyport-pipeline-'));

beforeAll(async () => {
  python = astropyPython();
  server = await startPostgres();
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  await c.query(TABLE);
  await c.end();
}, 600_000);
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The table as PostgreSQL prints it (text protocol, no type parsing), turned into writer values. */
async function databaseRows(client: pg.Client, sql: string): Promise<Row[]> {
  const r = await client.query<Record<string, string | null>>({
    text: sql,
    types: { getTypeParser: () => (t: string) => t },
  });
  const types = r.fields.map((f) => f.dataTypeID);
  return r.rows.map((row) =>
    r.fields.map((f, i): Value => {
      const t = row[f.name] ?? null;
      if (t === null) return null;
      switch (types[i]) {
        case 20:
          return BigInt(t);
        case 21:
        case 23:
        case 701:
          return Number(t);
        case 700:
          return Math.fround(Number(t));
        case 16:
          return t === 't';
        default:
          return t;
      }
    }),
  );
}

describe('PostgreSQL → reader → writer → astropy', () => {
  for (const format of ['csv', 'tsv', 'fits', 'votable', 'votable-binary2', 'parquet']) {
    it(`${format}: astropy shows the database's rows`, async () => {
      // FITS text is ASCII with a declared width: the free-text column stays out of it.
      const sql = `SELECT ${format === 'fits' ? 'coadd_object_id, flags, nepochs, mag_auto_g, ra, extended, tilename' : '*'} FROM objects ORDER BY ctid`;
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        const expected = await databaseRows(client, sql);
        const q = await openQuery(client, { sql, statementTimeoutMs: 10_000, batchRows: 2 });
        try {
          const path = join(dir, `objects.${format}`);
          await writeToFile(path, createWriter(format, q.columns), q.batches, () => q.status());
          const got = readWithAstropy(python, format, path);
          expect(got.columns.length).toBe(q.columns.length);
          compare(got, q.columns, expected, format);
        } finally {
          await q.close();
        }
      } finally {
        await client.end();
      }
    });
  }
});

describe('PostgreSQL COPY text → csv-output → astropy', () => {
  for (const format of ['csv', 'tsv'] as const) {
    it(`${format}: astropy shows the database's rows, as through the writer`, async () => {
      const sql = 'SELECT * FROM objects ORDER BY ctid';
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        const expected = await databaseRows(client, sql);
        const c = await openCsvCopy(client, {
          sql,
          statementTimeoutMs: 10_000,
          delimiter: format === 'csv' ? ',' : '\t',
        });
        if (c === undefined) throw new Error('COPY refused the query');
        const out = mkdtempSync(join(dir, 'copy-'));
        try {
          const r = await writeCsvResult(c.chunks, { format, dir: out, stem: 'objects' });
          expect(r.summary.rows).toBe(expected.length);
        } finally {
          await c.close();
        }
        const got = readWithAstropy(python, format, join(out, `objects.${format}`));
        expect(got.columns.map((col) => col.name)).toEqual(c.columns.map((col) => col.name));
        compare(got, c.columns, expected, format);
      } finally {
        await client.end();
      }
    });
  }
});

describe('binary COPY tuples and cursor rows → the same files', () => {
  const FITS_SELECT =
    'SELECT coadd_object_id, flags, nepochs, mag_auto_g, ra, extended, tilename FROM objects';
  const queries = [
    'SELECT * FROM objects ORDER BY ctid',
    'SELECT * FROM objects WHERE false',
    // The extremes FITS refuses (TNULL) but Parquet and the text formats hold.
    `SELECT (-9223372036854775808)::int8 AS a, (-32768)::int2 AS b, (-2147483648)::int4 AS c,
       '-0'::float4 AS d, '-Infinity'::float4 AS e, E'\\u00e9\\U0001F600'::text AS f`,
  ];
  const cases = [
    ...['parquet', 'json', 'votable', 'votable-binary2', 'csv'].flatMap((format) =>
      queries.map((sql) => ({ format, sql })),
    ),
    { format: 'fits', sql: `${FITS_SELECT} ORDER BY ctid` },
    { format: 'fits', sql: `${FITS_SELECT} WHERE false` },
  ];
  for (const { format, sql } of cases) {
    it(`${format}: ${sql.split('\n')[0]?.slice(0, 60)}`, async () => {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        const write = async (params: unknown[] | undefined, name: string): Promise<Buffer> => {
          const q = await openQuery(client, {
            sql,
            ...(params !== undefined && { params }),
            statementTimeoutMs: 10_000,
            batchRows: 2,
          });
          const kinds = new Set<string>();
          async function* seen(): AsyncGenerator<Batch> {
            for await (const b of q.batches) {
              kinds.add(b instanceof TupleBatch ? 'tuples' : 'rows');
              yield b;
            }
          }
          try {
            const path = join(dir, `${name}.${format}`);
            await writeToFile(path, createWriter(format, q.columns), seen(), () => q.status());
            // Bind parameters (none here) take the cursor; a query without them, binary COPY.
            if (kinds.size > 0) expect([...kinds]).toEqual([params === undefined ? 'tuples' : 'rows']);
            return readFileSync(path);
          } finally {
            await q.close();
          }
        };
        const viaCopy = await write(undefined, 'copy');
        const viaCursor = await write([], 'cursor');
        expect(viaCopy.equals(viaCursor)).toBe(true);
      } finally {
        await client.end();
      }
    });
  }
});
