// npm run bench:query — the runner against its baselines, side by side in one run on one PostgreSQL:
// 10^6 rows of the sample catalog to CSV, Parquet and FITS by the runner (the compiled CLI, as a pod runs
// it), to CSV by `psql \copy` (the server's own COPY: the limit), and by pandas read_sql + to_csv /
// to_parquet / astropy FITS (what a scientist would write). Prints rows/s, the ratios against the
// targets (CSV ≥ 0.5× \copy, every format ≥ 2× pandas) and the runner's peak RSS (target ≤ 150 MB).
// Then the TAP quick path on the same table: p50/p99 of 1,000-row cone searches through /sync
// (services/tap/bench/quick.bench.ts, a separate process: the query-runner does not import the TAP service).
//   npm run bench:query [-- --rows 1000000]

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadSample } from '../src/sample/load.js';
import { astropyPython } from '../test/support/astropy.js';
import { startPostgres } from '../test/support/postgres.js';

const HERE = import.meta.dirname;
const ROOT = join(HERE, '..', '..', '..');
const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' } } });
const ROWS = Number(values.rows);
const QUERY = 'SELECT * FROM des_sample';
/** As images/query-runner/Dockerfile runs the runner. */
const RUNNER_NODE_FLAGS = ['--max-semi-space-size=1'];

function psqlBin(): string {
  const root = '/usr/lib/postgresql';
  const major = readdirSync(root)
    .filter((d) => existsSync(join(root, d, 'bin', 'psql')))
    .sort((a, b) => Number(b) - Number(a))[0];
  if (major === undefined) throw new Error('psql not found: apt-get install -y postgresql-client');
  return join(root, major, 'bin', 'psql');
}

interface RunnerResult {
  seconds: number;
  rows: number;
  bytes: number;
  maxRssBytes: number;
}

async function runner(url: URL, dir: string, format: string): Promise<RunnerResult> {
  const spec = {
    query: QUERY,
    catalog: { name: 'bench' },
    connection: { host: url.hostname, port: Number(url.port), database: 'postgres', user: url.username },
    output: { dir, stem: `runner-${format}`, format },
    executionDurationSeconds: 3600,
  };
  const file = join(dir, `spec-${format}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const t0 = performance.now();
  // The node flags of the image's command (images/query-runner/Dockerfile).
  const child = spawn(
    process.execPath,
    [...RUNNER_NODE_FLAGS, join(HERE, '..', 'dist', 'src', 'main.js'), '--spec', file],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const seconds = (performance.now() - t0) / 1000;
  const done = out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((e) => e['event'] === 'completed');
  if (code !== 0 || done === undefined) throw new Error(`runner ${format} failed (exit ${code}): ${out}`);
  return {
    seconds,
    rows: done['rows'] as number,
    bytes: done['bytes'] as number,
    maxRssBytes: done['maxRssBytes'] as number,
  };
}

function psqlCopy(url: string, dir: string): number {
  const t0 = performance.now();
  execFileSync(psqlBin(), [
    url,
    '-X',
    '-q',
    '-c',
    `\\copy (${QUERY}) TO '${join(dir, 'copy.csv')}' WITH CSV HEADER`,
  ]);
  return (performance.now() - t0) / 1000;
}

interface PandasResult {
  rows: number;
  read_s: number;
  write_s: Record<string, number>;
}

function pandas(python: string, url: string, dir: string): PandasResult {
  const out = execFileSync(python, [join(HERE, 'pandas_baseline.py'), url, QUERY, dir], { encoding: 'utf8' });
  return JSON.parse(out) as PandasResult;
}

const rate = (rows: number, s: number): string => `${Math.round(rows / s).toLocaleString('en-US')} rows/s`;

async function main(): Promise<void> {
  console.log('Building the runner (tsc -b) and the Python venv…');
  execFileSync('npx', ['tsc', '-b'], { cwd: ROOT, stdio: 'inherit' });
  const python = astropyPython();
  const server = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'skyport-bench-query-'));
  try {
    const url = new URL(server.url);
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    const t0 = performance.now();
    await loadSample(client, { table: 'des_sample', rows: ROWS });
    await client.end();
    console.log(
      `Loaded ${ROWS.toLocaleString('en-US')} sample rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    const copy = psqlCopy(server.url, dir);
    const pd = pandas(python, server.url, dir);
    const results: Record<string, RunnerResult> = {};
    for (const f of ['csv', 'parquet', 'fits']) results[f] = await runner(url, dir, f);

    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(`\n${ROWS.toLocaleString('en-US')} rows, ${QUERY} (load average at the end: ${load})`);
    console.log(`psql \\copy CSV: ${copy.toFixed(2)} s, ${rate(ROWS, copy)}`);
    console.log(`pandas read_sql: ${pd.read_s.toFixed(2)} s (then each write)`);
    let peak = 0;
    for (const f of ['csv', 'parquet', 'fits']) {
      const r = results[f];
      if (r === undefined || r.rows !== ROWS)
        throw new Error(`runner ${f}: ${r?.rows} rows, expected ${ROWS}`);
      peak = Math.max(peak, r.maxRssBytes);
      const p = pd.read_s + (pd.write_s[f] ?? NaN);
      const vsPandas = p / r.seconds;
      const vsCopy = f === 'csv' ? `, ${(copy / r.seconds).toFixed(2)}× \\copy (target ≥ 0.5)` : '';
      console.log(
        `${f.padEnd(8)} runner ${r.seconds.toFixed(2)} s ${rate(ROWS, r.seconds)}, ${(r.bytes / 1e6).toFixed(1)} MB, ` +
          `RSS ${(r.maxRssBytes / 2 ** 20).toFixed(0)} MiB | pandas ${p.toFixed(2)} s ${rate(ROWS, p)} | ` +
          `${vsPandas.toFixed(2)}× pandas (target ≥ 2)${vsCopy}`,
      );
    }
    console.log(`runner peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (target ≤ 150 MB)`);
    const quick = execFileSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'services', 'tap', 'bench', 'quick.bench.ts'), '--url', server.url],
      { encoding: 'utf8', cwd: ROOT },
    );
    console.log(quick.trimEnd());
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
