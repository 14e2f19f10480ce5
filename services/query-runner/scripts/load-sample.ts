// Loads the DES-like sample catalog (src/sample/des.ts) into PostgreSQL.
//   npm run sample:load -w services/query-runner -- [--rows 1000000] [--table des_sample] [--seed 1]
//     [--url postgres://user@host:port/db] [--replace]
// Without --url the connection comes from libpq's environment (PGHOST, PGPORT, PGUSER, PGDATABASE, …).

import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadSample } from '../src/sample/load.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    table: { type: 'string', default: 'des_sample' },
    seed: { type: 'string', default: '1' },
    url: { type: 'string' },
    replace: { type: 'boolean', default: false },
  },
});
const client = new pg.Client(values.url !== undefined ? { connectionString: values.url } : {});
await client.connect();
const t0 = performance.now();
try {
  await loadSample(client, {
    table: values.table,
    rows: Number(values.rows),
    seed: Number(values.seed),
    replace: values.replace,
  });
  const s = (performance.now() - t0) / 1000;
  console.log(`Loaded ${values.rows} rows into ${values.table} in ${s.toFixed(1)} s`);
} finally {
  await client.end();
}
