// The runner's command line against a real PostgreSQL, run as a child process the way a Job's pod runs it:
// results and provenance with column metadata from COMMENTs, refusals before the database runs anything,
// the deadline killing a long query with its backend gone, a transient exit code when the server is
// unreachable, and a SIGKILL mid-stream followed by a rerun giving the uninterrupted run's bytes.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type Postgres } from './support/postgres.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'main.ts');
const ROOT = join(import.meta.dirname, '..', '..', '..');

let server: Postgres;
let admin: pg.Client;
let conn: { host: string; port: number; database: string; user: string };
const tmp = mkdtempSync(join(tmpdir(), 'skyport-runner-'));
let n = 0;

beforeAll(async () => {
  server = await startPostgres();
  const u = new URL(server.url);
  conn = { host: u.hostname, port: Number(u.port), database: 'postgres', user: u.username };
  admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`
    CREATE TABLE obj (id int8, ra float8, dec float8, tilename varchar(12));
    INSERT INTO obj SELECT i, i / 1000.0, -50 + i / 10000.0, 'DES' || lpad(i::text, 9, '0')
      FROM generate_series(1, 2000) AS s(i);
    COMMENT ON COLUMN obj.ra IS '{"unit": "deg", "ucd": "pos.eq.ra;meta.main", "description": "Right ascension"}';
    COMMENT ON COLUMN obj.tilename IS 'Coadd tile name';`);
}, 60_000);
afterAll(async () => {
  await admin?.end();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  readonly code: number | null;
  readonly events: Record<string, unknown>[];
  readonly dir: string;
}

function start(spec: object): { child: ChildProcess; lines: string[] } {
  const file = join(tmp, `spec-${n++}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--spec', file], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  return { child, lines };
}

function spec(
  query: string,
  extra: Record<string, unknown> = {},
  dir = mkdtempSync(join(tmp, 'out-')),
): object {
  return {
    query,
    catalog: { name: 'test', release: 'T1' },
    connection: conn,
    output: { dir, format: 'csv' },
    executionDurationSeconds: 60,
    ...extra,
  };
}

async function run(s: object): Promise<Run> {
  const { child, lines } = start(s);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const dir = (s as { output: { dir: string } }).output.dir;
  return { code, events: lines.map((l) => JSON.parse(l) as Record<string, unknown>), dir };
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const json = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

describe('skyport-query-runner', () => {
  it('writes the result, its sha256 and a provenance manifest with column metadata from COMMENTs', async () => {
    const passwordFile = join(tmp, 'password');
    writeFileSync(passwordFile, 'unused-with-trust\n');
    const r = await run(
      spec('SELECT id, ra, tilename FROM obj WHERE id <= 1500 ORDER BY id', {
        connection: { ...conn, passwordFile },
        output: { dir: mkdtempSync(join(tmp, 'out-')), format: 'fits', splitMaxBytes: 2880 * 8 },
        batchRows: 100,
        maxRecords: 1000,
      }),
    );
    expect(r.code).toBe(0);
    expect(r.events.map((e) => e['event'])).toEqual(['started', 'progress', 'completed']);
    expect(r.events.at(-1)).toMatchObject({ rows: 1000, overflow: true });
    const m = json(join(r.dir, 'result.provenance.json'));
    expect(m).toMatchObject({
      query: 'SELECT id, ra, tilename FROM obj WHERE id <= 1500 ORDER BY id',
      catalog: { name: 'test', release: 'T1' },
      format: 'fits',
      rows: 1000,
      overflow: true,
      runner: { name: '@skyport/query-runner', version: '0.1.0' },
    });
    expect(m['columns']).toEqual([
      { name: 'id', type: 'int8' },
      { name: 'ra', type: 'float8', unit: 'deg', ucd: 'pos.eq.ra;meta.main', description: 'Right ascension' },
      { name: 'tilename', type: 'varchar', description: 'Coadd tile name' },
    ]);
    const files = m['files'] as { name: string; sha256: string; bytes: number; rows: number }[];
    expect(files.length).toBeGreaterThan(1);
    expect(files.reduce((a, f) => a + f.rows, 0)).toBe(1000);
    for (const f of files) expect(sha(join(r.dir, f.name))).toBe(f.sha256);
    const header = readFileSync(join(r.dir, files[0]?.name ?? '')).toString('latin1', 2880, 2880 * 2);
    expect(header).toContain("TUNIT2  = 'deg     '");
    expect(header).toContain("TUCD2   = 'pos.eq.ra;meta.main'");
    expect(readdirSync(r.dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it.each([
    ['DROP TABLE obj', 'QueryNotSelectOnly'],
    ['INSERT INTO obj VALUES (1, 2, 3, null)', 'QueryNotSelectOnly'],
    ['SELECT pg_sleep(3600)', 'QueryFunctionDenied'],
    ['SELECT 1; SELECT 2', 'QueryNotSingleStatement'],
  ])('refuses %j before the database runs it (fatal, exit 1, error file)', async (query, code) => {
    const t0 = Date.now();
    const r = await run(spec(query));
    expect(r.code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(json(join(r.dir, 'result.error.json'))).toMatchObject({ type: 'fatal', code });
    expect((await admin.query('SELECT count(*)::int AS n FROM obj')).rows[0]).toEqual({ n: 2000 });
  });

  it('reports PostgreSQL refusals with their SQLSTATE, fatal', async () => {
    const r = await run(spec('SELECT * FROM missing_table'));
    expect(r.code).toBe(1);
    expect(json(join(r.dir, 'result.error.json'))).toMatchObject({ type: 'fatal', code: 'UndefinedTable' });
  });

  it('names every bad field of a malformed spec (exit 2)', async () => {
    const r = await run({
      query: '',
      catalog: {},
      connection: { port: 'x' },
      output: { dir: join(tmp, 'nowhere'), format: 'xlsx', compression: 'zip' },
      executionDurationSeconds: 0,
      extra: 1,
    });
    expect(r.code).toBe(2);
    const msg = String(r.events[0]?.['message']);
    for (const f of [
      'spec.extra: unknown field',
      'spec.query: must be a non-empty string',
      'spec.catalog.name: required',
      'spec.connection.port: must be an integer',
      "spec.output.format: 'xlsx' is not one of",
      "spec.output.compression: 'zip'",
      'spec.executionDurationSeconds: must be an integer ≥ 1, got 0',
    ])
      expect(msg).toContain(f);
  });

  it('exits 75 (transient) when the server cannot be reached', async () => {
    const r = await run(spec('SELECT 1', { connection: { ...conn, port: 1 } }));
    expect(r.code).toBe(75);
    expect(json(join(r.dir, 'result.error.json'))).toMatchObject({
      type: 'transient',
      code: 'ConnectionLost',
    });
  });

  it('stops a query still streaming at executionDuration, cancels it, and leaves no backend behind', async () => {
    // Each row costs the server a few ms: the subquery depends on i, so it runs per row (an uncorrelated one
    // is an InitPlan run once, and 10^7 cheap rows once finished inside the 3 s). The run's deadline (or
    // statement_timeout, which bounds the whole COPY) stops it at 3 s, as ExecutionDurationExceeded either way.
    const slow =
      'SELECT i, (SELECT count(*) FROM generate_series(i, i + 20000)) AS c FROM generate_series(1, 10000000) AS s(i)';
    const t0 = Date.now();
    const r = await run(spec(slow, { executionDurationSeconds: 3, batchRows: 10 }));
    const took = Date.now() - t0;
    expect(r.code).toBe(1);
    expect(json(join(r.dir, 'result.error.json'))).toMatchObject({
      type: 'fatal',
      code: 'ExecutionDurationExceeded',
    });
    expect(took).toBeGreaterThan(3000);
    expect(took).toBeLessThan(20_000);
    const left = await admin.query(
      "SELECT pid, state, query FROM pg_stat_activity WHERE application_name = 'skyport-query-runner'",
    );
    expect(left.rows).toEqual([]);
    expect(readdirSync(r.dir).sort()).toEqual(['result.error.json']);
  });

  it('after a SIGKILL mid-stream leaves no final file, and a rerun writes the uninterrupted bytes', async () => {
    const query =
      'SELECT i, (i * 0.5)::float8 AS x, md5(i::text) AS h FROM generate_series(1, 400000) AS s(i) ORDER BY i';
    const whole = await run(
      spec(query, {
        batchRows: 1000,
        output: { dir: mkdtempSync(join(tmp, 'out-')), format: 'csv', compression: 'gzip' },
      }),
    );
    expect(whole.code, JSON.stringify(whole.events)).toBe(0);
    const expected = sha(join(whole.dir, 'result.csv.gz'));

    const dir = mkdtempSync(join(tmp, 'out-'));
    const s = spec(query, { batchRows: 1000, output: { dir, format: 'csv', compression: 'gzip' } });
    const { child, lines } = start(s);
    // Killed once it has written rows: the first progress event.
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (lines.some((l) => l.includes('"progress"'))) {
          clearInterval(t);
          child.kill('SIGKILL');
          resolve();
        }
        if (child.exitCode !== null) {
          clearInterval(t);
          reject(new Error('the runner finished before it could be killed'));
        }
      }, 5);
    });
    await new Promise((resolve) => child.once('exit', resolve));
    const after = readdirSync(dir);
    expect(after.some((f) => f.endsWith('.partial'))).toBe(true);
    expect(existsSync(join(dir, 'result.csv.gz'))).toBe(false);

    const again = await run(s);
    expect(again.code).toBe(0);
    expect(sha(join(dir, 'result.csv.gz'))).toBe(expected);
    expect(readdirSync(dir).sort()).toEqual(['result.csv.gz', 'result.provenance.json']);
    const m = json(join(dir, 'result.provenance.json'));
    expect((m['files'] as { sha256: string }[])[0]?.sha256).toBe(expected);
    expect(m['rows']).toBe(400000);
  });
});
