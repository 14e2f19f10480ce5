// The TAP quick path's latency: 1,000-row cone searches (ADQL CONTAINS/POINT/CIRCLE, VOTable, MAXREC
// 1,000 pushed down) through /sync of a TAP service in this process, end to end over HTTP, at random
// centres in the sample catalog's footprint. Prints p50/p99 (target p50 ≤ 100 ms) beside a baseline measured
// in the same run: the same translated SQL with the same LIMIT run by a bare pg client (no HTTP, no writer).
//   tsx services/tap/bench/quick.bench.ts [--url postgres://user@host:port/db --table des_sample] [--rows 1000000]
// Without --url it starts its own PostgreSQL and loads --rows sample rows. `npm run bench:query` runs it
// with --url on the database it has just benchmarked.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { adqlToSql } from '@skyport/query-runner/dist/src/adql.js';
import { loadSample } from '@skyport/query-runner/dist/src/sample/load.js';
import { startPostgres, type Postgres } from '@skyport/query-runner/dist/test/support/postgres.js';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { startTap } from '../src/server.js';
import { limitSql } from '../src/sync.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    table: { type: 'string', default: 'des_sample' },
    rows: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '200' },
  },
});
const TOKEN = 'bench-token-0123456789abcdef';

/** A deterministic generator (mulberry32), so every run asks the same cones. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pct = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function main(): Promise<void> {
  let server: Postgres | undefined;
  let url = values.url;
  if (url === undefined) {
    server = await startPostgres();
    url = server.url;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const t0 = performance.now();
    await loadSample(c, { table: values.table, rows: Number(values.rows) });
    await c.end();
    console.log(
      `Loaded ${Number(values.rows).toLocaleString('en-US')} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'skyport-bench-tap-'));
  writeFileSync(join(dir, 'tokens'), `bench ${TOKEN}\n`);
  writeFileSync(join(dir, 'key'), 'b'.repeat(40));
  const u = new URL(url);
  const cfg = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    PGHOST: u.hostname,
    PGPORT: u.port,
    PGDATABASE: u.pathname.slice(1),
    PGUSER: decodeURIComponent(u.username),
    TAP_TOKENS_FILE: join(dir, 'tokens'),
    TAP_SIGNING_KEY_FILE: join(dir, 'key'),
    TAP_RESULTS_DIR: join(dir, 'results'),
  });
  const tap = await startTap(cfg, { sweepIntervalMs: 0 });
  const bare = new pg.Client({ connectionString: url });
  await bare.connect();
  try {
    const next = random(13);
    const n = Number(values.queries);
    const times: number[] = [];
    const baseline: number[] = [];
    let rows = 0;
    for (let i = 0; i < n + 10; i++) {
      // Inside the footprint (RA 300°→100° through 0, Dec −65°…+5°), 2° from its edges.
      const ra = (302 + next() * 156) % 360;
      const dec = -63 + next() * 66;
      const query =
        `SELECT coadd_object_id, ra, dec, mag_auto_g, mag_auto_r, mag_auto_i, mag_auto_z, mag_auto_y FROM ${values.table} ` +
        `WHERE CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', ${ra.toFixed(4)}, ${dec.toFixed(4)}, 2)) = 1`;
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${tap.port}${cfg.basePath}/sync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ LANG: 'ADQL', QUERY: query, MAXREC: '1000' }).toString(),
      });
      const body = await res.text();
      const ms = performance.now() - t0;
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${body.slice(0, 500)}`);
      const sql = limitSql(await adqlToSql(query), 1000);
      const b0 = performance.now();
      await bare.query(sql);
      const bms = performance.now() - b0;
      if (i < 10) continue; // warm-up: connections, plans, the page cache
      times.push(ms);
      baseline.push(bms);
      rows += (body.match(/<TR>/g) ?? []).length;
    }
    times.sort((a, b) => a - b);
    baseline.sort((a, b) => a - b);
    console.log(
      `TAP /sync quick path: ${n} cone searches (r = 2°, MAXREC 1,000, VOTable), mean ${Math.round(rows / n)} rows: ` +
        `p50 ${pct(times, 50).toFixed(1)} ms, p99 ${pct(times, 99).toFixed(1)} ms (target p50 ≤ 100 ms) | ` +
        `the same SQL by a bare pg client: p50 ${pct(baseline, 50).toFixed(1)} ms, p99 ${pct(baseline, 99).toFixed(1)} ms | ` +
        `TAP/bare p50 ${(pct(times, 50) / pct(baseline, 50)).toFixed(2)}×`,
    );
  } finally {
    await bare.end();
    await tap.close();
    rmSync(dir, { recursive: true, force: true });
    await server?.stop();
  }
}

await main();
