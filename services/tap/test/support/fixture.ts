// A TAP service on a real PostgreSQL for the integration and compatibility tests: a fresh database holding
// the DES-like sample catalog (a small row count), read through a read-only role, two users with tokens,
// a signing key, a results directory and a fake clock for creation times, destruction and URL expiry.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSample } from '@skyport/query-runner/dist/src/sample/load.js';
import { startPostgres, type Postgres } from '@skyport/query-runner/dist/test/support/postgres.js';
import pg from 'pg';
import { loadConfig, type TapConfig } from '../../src/config.js';
import { startTap, type RunningTap } from '../../src/server.js';

export const TOKENS = { alice: 'alice-token-0123456789abcdef', bob: 'bob-token-0123456789abcdef0' } as const;
export const TABLE = 'des_sample';

export interface Fixture {
  readonly pg: Postgres;
  /** Superuser URL of the test database (to compare with what the service returns). */
  readonly dbUrl: string;
  readonly tap: RunningTap;
  readonly cfg: TapConfig;
  /** http://127.0.0.1:<port>/tap */
  readonly base: string;
  readonly clock: { now: number };
  close(): Promise<void>;
}

export interface FixtureOptions {
  readonly rows: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Reuse a server (several databases on one PostgreSQL). */
  readonly pg?: Postgres;
}

let dbCounter = 0;

export async function startFixture(opts: FixtureOptions): Promise<Fixture> {
  const server = opts.pg ?? (await startPostgres());
  const db = `tap_${process.pid}_${++dbCounter}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.query(
    `DO $$ BEGIN CREATE ROLE tap_reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
  );
  await admin.end();
  const dbUrl = server.url.replace(/\/postgres$/, `/${db}`);
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  await loadSample(c, { table: TABLE, rows: opts.rows });
  await c.query(`GRANT SELECT ON ${TABLE} TO tap_reader`);
  await c.end();

  const dir = mkdtempSync(join(tmpdir(), 'skyport-tap-'));
  writeFileSync(join(dir, 'tokens'), `# user token\nalice ${TOKENS.alice}\nbob ${TOKENS.bob}\n`);
  writeFileSync(join(dir, 'key'), 'k'.repeat(48));
  const u = new URL(server.url);
  const cfg = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    PGHOST: u.hostname,
    PGPORT: u.port,
    PGDATABASE: db,
    PGUSER: 'tap_reader',
    TAP_TOKENS_FILE: join(dir, 'tokens'),
    TAP_SIGNING_KEY_FILE: join(dir, 'key'),
    TAP_RESULTS_DIR: join(dir, 'results'),
    TAP_CATALOG_NAME: 'des-sample',
    TAP_MAXREC_HARD: '100000',
    TAP_MAXREC_DEFAULT: '10000',
    ...opts.env,
  });
  const clock = { now: Date.parse('2026-12-02T12:00:00.000Z') };
  const tap = await startTap(cfg, { now: () => clock.now, sweepIntervalMs: 0, log: () => undefined });
  return {
    pg: server,
    dbUrl,
    tap,
    cfg,
    base: `http://127.0.0.1:${tap.port}${cfg.basePath}`,
    clock,
    async close() {
      await tap.close();
      if (opts.pg === undefined) await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const bearer = (user: keyof typeof TOKENS): Record<string, string> => ({
  authorization: `Bearer ${TOKENS[user]}`,
});

/** POSTs a form, not following redirects. */
export function postForm(
  url: string,
  form: Record<string, string>,
  user?: keyof typeof TOKENS,
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(user && bearer(user)) },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });
}

export function get(url: string, user?: keyof typeof TOKENS): Promise<Response> {
  return fetch(url, { headers: { ...(user && bearer(user)) }, redirect: 'manual' });
}
