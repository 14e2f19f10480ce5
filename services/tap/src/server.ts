// Wires a TAP process together (pool, job store, signer, users, app), starts listening and sweeps expired
// jobs once a minute.

import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import { readSigningKey, type TapConfig } from './config.js';
import { createPool } from './db.js';
import { InProcessJobStore } from './inprocess.js';
import { Signer, type Clock } from './signing.js';
import { Users } from './users.js';

export interface RunningTap {
  readonly server: Server;
  readonly port: number;
  readonly store: InProcessJobStore;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly now?: Clock;
  /** How often expired jobs are swept (ms); 60,000 by default, 0 = never (tests call store.sweep()). */
  readonly sweepIntervalMs?: number;
  readonly log?: (msg: string, err?: unknown) => void;
}

export async function startTap(cfg: TapConfig, opts: StartOptions = {}): Promise<RunningTap> {
  const now = opts.now ?? Date.now;
  const users = Users.parse(readFileSync(cfg.tokensFile, 'utf8'), cfg.tokensFile);
  const signer = new Signer(readSigningKey(cfg.signingKeyFile), cfg.resultUrlSeconds, now);
  await mkdir(cfg.resultsDir, { recursive: true });
  const pool = createPool(cfg.db);
  const store = new InProcessJobStore({
    dir: cfg.resultsDir,
    db: cfg.db,
    catalog: cfg.catalog,
    pool,
    maxConcurrentPerUser: cfg.maxConcurrentJobsPerUser,
    now,
  });
  const log = opts.log ?? ((msg: string, err?: unknown) => console.error(msg, err ?? ''));
  const app = createApp({
    cfg,
    pool,
    store,
    users,
    signer,
    now,
    onError: (err, req) => log(`${req.method} ${req.path} failed`, err),
  });
  const server = app.listen(cfg.port, cfg.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const every = opts.sweepIntervalMs ?? 60_000;
  const sweeper =
    every > 0
      ? setInterval(() => {
          store.sweep().catch((err: unknown) => log('sweep failed', err));
        }, every)
      : undefined;
  sweeper?.unref();
  return {
    server,
    port: (server.address() as AddressInfo).port,
    store,
    async close() {
      if (sweeper !== undefined) clearInterval(sweeper);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
      await pool.end();
    },
  };
}
