// Clients no one here wrote, against the service on real PostgreSQL: pyvo (TAPService.run_sync,
// run_async, submit_job + wait + fetch_result, tables) and astroquery's TapPlus (launch_job,
// launch_job_async, list_async_jobs), in the PyPI venv of test/support/requirements-compat.txt. Every table
// they return must equal the database's rows for the same query, value for value.

import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TABLE, TOKENS, startFixture, type Fixture } from './support/fixture.js';

const HERE = import.meta.dirname;
type Row = [string, number, number, number | null, string];

let f: Fixture;
let python: string;

beforeAll(async () => {
  const venv = execFileSync(
    'bash',
    [
      join(HERE, '..', '..', '..', 'scripts', 'compat-venv.sh'),
      join(HERE, 'support', 'requirements-compat.txt'),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  ).trim();
  python = join(venv, 'bin', 'python');
  f = await startFixture({ rows: 5000 });
});
afterAll(async () => {
  await f?.close();
});

it('pyvo and astroquery get exactly the database rows, units and UCDs, overflow, errors, jobs and tables', async () => {
  const db = new pg.Client({ connectionString: f.dbUrl });
  await db.connect();
  const centre = (
    await db.query<{ ra: number; dec: number }>(
      `SELECT ra, dec FROM ${TABLE} ORDER BY coadd_object_id LIMIT 1`,
    )
  ).rows[0]!;
  const cone = `CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', ${centre.ra}, ${centre.dec}, 15)) = 1`;
  const query = `SELECT TOP 60 coadd_object_id, ra, dec, mag_auto_i, tilename FROM ${TABLE} WHERE ${cone} ORDER BY coadd_object_id`;
  const want = (
    await db.query<{ id: string; ra: number; dec: number; mag: number | null; tilename: string }>(
      `SELECT coadd_object_id::text AS id, ra, dec, mag_auto_i AS mag, tilename FROM ${TABLE}
        WHERE degrees(2 * asin(sqrt(sin(radians(dec - $2) / 2) ^ 2 + cos(radians(dec)) * cos(radians($2)) * sin(radians(ra - $1) / 2) ^ 2))) <= 15
        ORDER BY coadd_object_id LIMIT 60`,
      [centre.ra, centre.dec],
    )
  ).rows.map((r): Row => [r.id, r.ra, r.dec, r.mag === null ? null : Math.fround(r.mag), r.tilename]);
  const nulls = (
    await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${TABLE} WHERE mag_auto_i IS NULL`)
  ).rows[0]?.n;
  await db.end();
  expect(want.length).toBe(60);
  expect(nulls).toBeGreaterThan(0);

  // Asynchronously: the service answers from this process's event loop.
  const { stdout, stderr } = await promisify(execFile)(
    python,
    [join(HERE, 'support', 'clients.py'), f.base, TOKENS.alice, query],
    { encoding: 'utf8', timeout: 200_000 },
  );
  // astroquery logs to stdout too: the JSON is the last line.
  const out = JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '') as Record<string, unknown>;
  expect(stderr).not.toMatch(/Traceback/);

  for (const k of ['pyvo_sync', 'pyvo_async', 'astroquery_sync', 'astroquery_async'])
    expect([k, out[k]]).toEqual([k, want]);
  expect(out['pyvo_job']).toEqual(want.slice(0, 20));
  expect(out['pyvo_sync_units']).toMatchObject({ ra: 'deg', dec: 'deg', mag_auto_i: 'mag' });
  expect(out['pyvo_sync_ucds']).toMatchObject({
    ra: 'pos.eq.ra;meta.main',
    coadd_object_id: 'meta.id;meta.main',
  });
  // pyvo 1.10 reads OVERFLOW and warns only when a service cut below the maxrec the client asked for.
  expect(out['pyvo_overflow']).toEqual({ rows: 7, status: 'OVERFLOW', warned: false });
  expect([out['pyvo_job_phase_before'], out['pyvo_job_phase_after']]).toEqual(['PENDING', 'COMPLETED']);
  expect(out['pyvo_error']).toMatch(/INTERSECTS/);
  const tables = out['pyvo_tables'] as Record<
    string,
    Record<string, { unit: string | null; ucd: string | null; datatype: string }>
  >;
  expect(Object.keys(tables)).toEqual([`public.${TABLE}`]);
  expect(tables[`public.${TABLE}`]?.['ra']).toEqual({
    unit: 'deg',
    ucd: 'pos.eq.ra;meta.main',
    datatype: 'DOUBLE',
  });
  expect(tables[`public.${TABLE}`]?.['tilename']?.datatype).toBe('VARCHAR');
  // list_async_jobs sees the astroquery job (pyvo's was deleted), and only alice's jobs.
  const jobs = out['astroquery_jobs'] as string[];
  expect(jobs).toContain(out['astroquery_async_id']);
  expect(jobs).not.toContain(out['pyvo_job_id']);
  expect((await f.tap.store.list('alice', {})).map((j) => j.id).sort()).toEqual([...jobs].sort());
}, 240_000);
