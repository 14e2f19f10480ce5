// The sample catalog in a real PostgreSQL: COPY loads exactly the generated rows, the (ra, dec) index
// serves a cone's bounding box, and the runner carries the COMMENTs' units and UCDs into VOTable FIELDs.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adqlToSql } from '../src/adql.js';
import { runJob } from '../src/run.js';
import { SAMPLE_COLUMNS, sampleRow } from '../src/sample/des.js';
import { loadSample } from '../src/sample/load.js';
import { parseSpec } from '../src/spec.js';
import { startPostgres, type Postgres } from './support/postgres.js';

const ROWS = 20_000;
let server: Postgres;
let client: pg.Client;
const dir = mkdtempSync(join(tmpdir(), 'skyport-sample-'));

beforeAll(async () => {
  server = await startPostgres();
  client = new pg.Client({ connectionString: server.url });
  await client.connect();
  await client.query('CREATE SCHEMA des');
  await loadSample(client, { table: 'des.sample', rows: ROWS, chunkRows: 3000 });
}, 120_000);
afterAll(async () => {
  await client?.end();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the sample catalog', () => {
  it('holds exactly the generated rows (floats bit for bit, NULLs where generated)', async () => {
    const r = await client.query<Record<string, unknown>>({
      text: 'SELECT * FROM des.sample WHERE coadd_object_id IN ($1, $2, $3) ORDER BY 1',
      values: ['100000000', '100007777', '100019999'],
      types: { getTypeParser: () => (v: string) => v },
    });
    expect((await client.query('SELECT count(*)::int AS n FROM des.sample')).rows[0]).toEqual({ n: ROWS });
    expect(r.rows).toHaveLength(3);
    [0, 7777, 19999].forEach((n, k) => {
      const want = sampleRow(1, n);
      SAMPLE_COLUMNS.forEach((c, i) => {
        const got = r.rows[k]?.[c.name] as string | null;
        const v = want[i];
        if (v === null || got === null) expect(got, c.name).toBe(v);
        else if (c.type === 'float4') expect(Math.fround(Number(got)), c.name).toBe(v);
        else if (c.type === 'float8') expect(Number(got), c.name).toBe(v);
        else expect(got, c.name).toBe(String(v));
      });
    });
  });

  it('answers a cone bounding box through the (ra, dec) index', async () => {
    const plan = await client.query<{ 'QUERY PLAN': string }>(
      'EXPLAIN SELECT coadd_object_id FROM des.sample WHERE ra BETWEEN 10 AND 10.2 AND dec BETWEEN -40 AND -39.8',
    );
    expect(plan.rows.map((p) => p['QUERY PLAN']).join('\n')).toContain('sample_radec');
    const comments = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_description WHERE objoid = 'des.sample'::regclass AND objsubid > 0",
    );
    expect(comments.rows[0]?.n).toBe(SAMPLE_COLUMNS.length);
  });

  it('answers an ADQL cone (TOP, CONTAINS, DISTANCE) with exactly the generated rows inside it', async () => {
    const deg = Math.PI / 180;
    const dist = (ra: number, dec: number, ra0: number, dec0: number): number =>
      (2 *
        Math.asin(
          Math.sqrt(
            Math.sin(((dec0 - dec) * deg) / 2) ** 2 +
              Math.cos(dec * deg) * Math.cos(dec0 * deg) * Math.sin(((ra0 - ra) * deg) / 2) ** 2,
          ),
        )) /
      deg;
    const all = Array.from({ length: ROWS }, (_, n) => sampleRow(1, n));
    // The second cone straddles RA 0/360.
    for (const [ra0, dec0, r] of [
      [20, -30, 5],
      [359, -30, 5],
    ] as const) {
      const sql = await adqlToSql(
        `SELECT TOP 100000 coadd_object_id, DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', ${ra0}, ${dec0})) AS d
           FROM des.sample WHERE CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', ${ra0}, ${dec0}, ${r})) = 1
           ORDER BY coadd_object_id`,
      );
      const got = await client.query<{ coadd_object_id: string; d: number }>(sql);
      const want = all.filter((row) => dist(row[1] as number, row[2] as number, ra0, dec0) <= r);
      expect(want.length).toBeGreaterThan(50);
      expect(got.rows.map((x) => x.coadd_object_id)).toEqual(want.map((row) => String(row[0])));
      for (const x of got.rows) expect(x.d).toBeLessThanOrEqual(r);
      const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`);
      expect(plan.rows.map((p) => p['QUERY PLAN']).join('\n')).toContain('sample_radec');
    }
  });

  it('runs through the runner into VOTable with units and UCDs from the COMMENTs', async () => {
    const u = new URL(server.url);
    const spec = parseSpec({
      query:
        'SELECT coadd_object_id, ra, dec, mag_auto_i, tilename FROM des.sample WHERE dec < -40 ORDER BY 1',
      catalog: { name: 'sample' },
      connection: { host: u.hostname, port: Number(u.port), database: 'postgres', user: u.username },
      output: { dir, format: 'votable' },
      executionDurationSeconds: 60,
    });
    const m = await runJob(spec, { emit: () => undefined });
    expect(m.rows).toBeGreaterThan(ROWS / 4);
    const vot = readFileSync(join(dir, 'result.vot'), 'utf8');
    expect(vot).toContain('name="ra" datatype="double" unit="deg" ucd="pos.eq.ra;meta.main"');
    expect(vot).toContain('name="mag_auto_i" datatype="float" unit="mag" ucd="phot.mag;em.opt.I"');
    expect(vot).toContain('<DESCRIPTION>Coadd tile name</DESCRIPTION>');
  });
});
