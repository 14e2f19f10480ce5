// Wires a TAP process together (pool, job store, signer, users, app; with the Kubernetes store, the runner of
// quick QueryJobs), starts listening and sweeps expired jobs once a minute.

import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import { ConfigError, readSigningKey, type TapConfig } from './config.js';
import { createPool } from './db.js';
import { InProcessJobStore } from './inprocess.js';
import type { JobStore } from './jobs.js';
import { podAccess, type KubeAccess } from '@skyport/service-kit/kube-access';
import { KubeClient } from './kube.js';
import { KubernetesJobStore } from './kubernetes.js';
import { QuickRunner } from './quick.js';
import { S3Results } from './s3results.js';
import { Signer, type Clock } from '@skyport/service-kit/signing';
import { Users } from '@skyport/service-kit/users';

export interface RunningTap {
  readonly server: Server;
  readonly port: number;
  readonly store: JobStore;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly now?: Clock;
  /** How often expired jobs are swept (ms); 60,000 by default, 0 = never (tests call store.sweep()). */
  readonly sweepIntervalMs?: number;
  readonly log?: (msg: string, err?: unknown) => void;
  /** The apiserver of the kubernetes store; the pod's in-cluster access when unset. */
  readonly kube?: KubeAccess & { namespace?: string };
}

/** The key pair that signs result URLs (the Catalog's Secret by secretKeyRef); refused at start when missing. */
function s3Credentials(env: NodeJS.ProcessEnv): { accessKeyId: string; secretAccessKey: string } {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'] ?? '';
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'] ?? '';
  if (accessKeyId === '' || secretAccessKey === '')
    throw new ConfigError(
      'AWS_ACCESS_KEY_ID',
      'and AWS_SECRET_ACCESS_KEY are required with TAP_RESULTS_S3_BUCKET',
    );
  return { accessKeyId, secretAccessKey };
}

export async function startTap(cfg: TapConfig, opts: StartOptions = {}): Promise<RunningTap> {
  const now = opts.now ?? Date.now;
  const users = Users.parse(readFileSync(cfg.tokensFile, 'utf8'), cfg.tokensFile);
  const signer = new Signer(readSigningKey(cfg.signingKeyFile), cfg.resultUrlSeconds, now);
  const pool = createPool(cfg.db);
  const s3 =
    cfg.resultsS3 === undefined
      ? undefined
      : new S3Results(cfg.resultsS3, s3Credentials(process.env), cfg.resultUrlSeconds, now);
  let store: JobStore;
  let quick: QuickRunner | undefined;
  const log = opts.log ?? ((msg: string, err?: unknown) => console.error(msg, err ?? ''));
  if (cfg.jobStore === 'kubernetes') {
    // The runner Jobs write the results claim; this process serves it and writes the quick jobs' results.
    const access = opts.kube ?? podAccess(process.env);
    const namespace = cfg.namespace ?? access.namespace;
    if (namespace === undefined) throw new Error('TAP_NAMESPACE: no namespace for the QueryJobs');
    store = new KubernetesJobStore({
      client: new KubeClient(access),
      namespace,
      catalog: cfg.catalog.name,
      dir: cfg.resultsDir,
      now,
    });
    // Quick QueryJobs (spec.mode quick) of this catalog in this namespace run here, no pod (quick.ts); with results
    // in a bucket the operator refuses them (QuickNeedsResultsClaim).
    if (s3 === undefined)
      quick = new QuickRunner({
        client: new KubeClient(access),
        namespace,
        catalog: cfg.catalog,
        dir: cfg.resultsDir,
        db: cfg.db,
        now,
        log,
      });
  } else {
    await mkdir(cfg.resultsDir, { recursive: true });
    store = new InProcessJobStore({
      dir: cfg.resultsDir,
      db: cfg.db,
      catalog: cfg.catalog,
      pool,
      maxConcurrentPerUser: cfg.maxConcurrentJobsPerUser,
      now,
    });
  }
  const app = createApp({
    cfg,
    pool,
    store,
    users,
    signer,
    now,
    ...(s3 !== undefined && { s3 }),
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
  quick?.start();
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
      await quick?.close();
      await store.close();
      await pool.end();
    },
  };
}
