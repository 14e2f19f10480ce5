// The runner's memory bound (issue 13: peak RSS ≤ 150 MB whatever the result's size) for wide rows, measured
// as the image runs the runner: the compiled CLI (`dist/src/main.js`, built by `npx tsc -b`) under
// `node --max-semi-space-size=1`, its peak RSS from the `completed` event (VmHWM, @skyport/service-kit/rss).
// Rows of 51 KB text to Parquet (binary COPY's CopyData read straight into the decoder, copy-out.ts) and a
// varchar(65535) column to FITS (every row 64 KB in the file whatever its value; the sink writes a batch in
// parts of at most 4 MiB, sink.ts).

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type Postgres } from './support/postgres.js';

const MAIN = join(import.meta.dirname, '..', 'dist', 'src', 'main.js');
/** As images/query-runner/Dockerfile runs the runner. */
const NODE_FLAGS = ['--max-semi-space-size=1'];
/** The bound on the runner's peak RSS. */
const BOUND = 150 * 2 ** 20;

let server: Postgres;
const tmp = mkdtempSync(join(tmpdir(), 'skyport-memory-'));
let n = 0;

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

interface Completed {
  readonly rows: number;
  readonly maxRssBytes: number;
  readonly path: string;
}

/** Runs the compiled runner on `query` into `format`; its `completed` event and the result file. */
async function run(query: string, format: string): Promise<Completed> {
  const u = new URL(server.url);
  const dir = mkdtempSync(join(tmp, 'out-'));
  const spec = {
    query,
    catalog: { name: 'memory' },
    connection: { host: u.hostname, port: Number(u.port), database: 'postgres', user: u.username },
    output: { dir, stem: 'result', format },
    executionDurationSeconds: 600,
  };
  const file = join(tmp, `spec-${n++}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const child = spawn(process.execPath, [...NODE_FLAGS, MAIN, '--spec', file], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  // The child's high-water mark seen from outside too (VmHWM only grows; the last read is at most 5 ms old).
  let polled = 0;
  const poll = setInterval(() => {
    try {
      const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m !== null) polled = Math.max(polled, Number(m[1]) * 1024);
    } catch {
      // It has exited.
    }
  }, 5);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(poll);
  const done = out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((e) => e['event'] === 'completed');
  expect({ code, done: done !== undefined, out: done === undefined ? out : '' }).toEqual({
    code: 0,
    done: true,
    out: '',
  });
  const d = done as Record<string, unknown>;
  const rss = d['maxRssBytes'] as number;
  const mib = (b: number): string => (b / 2 ** 20).toFixed(0);
  console.log(`${format}: ${d['rows'] as number} rows, peak RSS ${mib(rss)} MiB (polled ${mib(polled)} MiB)`);
  // The runner's report is its own peak, what was seen from outside (it exits a moment after reporting), not
  // the vitest worker's (getrusage's maxRSS would be the forking worker's peak when larger: heap.ts).
  expect(Math.abs(rss - polled)).toBeLessThan(8 * 2 ** 20);
  return {
    rows: d['rows'] as number,
    maxRssBytes: Math.max(rss, polled),
    path: join(dir, `result.${format}`),
  };
}

describe('the runner peak RSS for wide rows', () => {
  it('5,000 rows of 51 KB text (256 MB) to Parquet stay under 150 MB', async () => {
    const r = await run(
      'SELECT g::int4 AS g, repeat(md5(g::text), 1600) AS t FROM generate_series(1, 5000) g',
      'parquet',
    );
    expect(r.rows).toBe(5000);
    const meta = parquetMetadata(new Uint8Array(readFileSync(r.path)).buffer);
    expect(meta.row_groups.reduce((a, g) => a + Number(g.num_rows), 0)).toBe(5000);
    // Measured: 134-141 MiB with pg-copy-streams (a Buffer per row, concatenated per socket read), 115-136 now.
    expect(r.maxRssBytes).toBeLessThan(BOUND);
  }, 300_000);

  it('a varchar(65535) column to FITS: 4,000 rows of 64 KB (262 MB) stay under 150 MB', async () => {
    // Short values and NULLs in a wide declared column: a COPY batch is 4,000 rows of a few bytes, its FITS
    // rows 64 KB each. A NULL writes its whole width (zeros); a value only its own bytes.
    const r = await run(
      `SELECT g::int4 AS g, CASE WHEN g % 4 = 0 THEN md5(g::text) END::varchar(65535) AS note
       FROM generate_series(1, 4000) g`,
      'fits',
    );
    expect(r.rows).toBe(4000);
    const rowBytes = 4 + 65535;
    expect(statSync(r.path).size).toBe(Math.ceil((2 * 2880 + 4000 * rowBytes) / 2880) * 2880);
    // The last row's note, where NAXIS1 says it is (after the two header blocks), and the NULL before it.
    const fits = readFileSync(r.path);
    const last = 2 * 2880 + 3999 * rowBytes;
    expect(fits.readInt32BE(last)).toBe(4000);
    expect(fits.toString('latin1', last + 4, last + 36)).toBe('1bd69c7df3112fb9a584fbd9edfc6c90');
    expect(fits.readInt32BE(last - rowBytes)).toBe(3999);
    expect(fits.subarray(last - rowBytes + 4, last).every((b) => b === 0)).toBe(true);
    // Measured: 284-286 MiB when rows() made the whole batch's 262 MB of output at once, 116-124 now.
    expect(r.maxRssBytes).toBeLessThan(BOUND);
  }, 300_000);
});
