// The catalog's PostgreSQL as the TAP process uses it: a small pool for /sync and the table metadata, and
// the same connection settings handed to the query-runner for async jobs.

import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { DbConfig } from './config.js';

export const APPLICATION_NAME = 'skyport-tap';

/** pg client settings for `db` (the password read from its file now). */
export function clientConfig(db: DbConfig): pg.ClientConfig {
  const password =
    db.passwordFile === undefined ? undefined : readFileSync(db.passwordFile, 'utf8').replace(/[\r\n]+$/, '');
  return {
    ...(db.host !== undefined && { host: db.host }),
    ...(db.port !== undefined && { port: db.port }),
    ...(db.database !== undefined && { database: db.database }),
    ...(db.user !== undefined && { user: db.user }),
    ...(password !== undefined && { password }),
    application_name: APPLICATION_NAME,
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  };
}

export function createPool(db: DbConfig, max = 8): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(db), max, idleTimeoutMillis: 30_000 });
  // An idle client's error (the server restarted) must not crash the process; the pool drops it.
  pool.on('error', () => undefined);
  return pool;
}
