// Worker process entry: joins the task queue, computes in worker threads, leaves cleanly on SIGTERM.

import { createServer } from 'node:http';
import { pino } from 'pino';
import { loadWorkerConfig, loadConfigOrExit } from './config.js';
import { TaskWorker } from './pool/task-worker.js';
import { connectRedis } from './store/redis.js';
import { Store } from './store/store.js';

async function main(): Promise<void> {
  const cfg = loadConfigOrExit(() => loadWorkerConfig());
  const log = pino({ level: cfg.logLevel, base: { component: 'anomaly-worker', pid: process.pid } });
  const redis = connectRedis(cfg.redisUrl, true);
  const bull = connectRedis(cfg.redisUrl, true);
  const store = new Store(redis, cfg.keyPrefix);
  const worker = new TaskWorker(store, bull, log, cfg);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'Received shutdown signal');
    // With Redis unreachable a graceful close can wait forever; locks expire and others take over anyway.
    setTimeout(() => {
      log.error('Exited without a clean shutdown');
      process.exit(1);
    }, cfg.shutdownGraceMs + 5000).unref();
    void worker
      .close(cfg.shutdownGraceMs)
      .then(async () => {
        await Promise.allSettled([redis.quit(), bull.quit()]);
        log.info('Stopped worker');
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'Failed to stop cleanly');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (cfg.metricsPort > 0) {
    // Liveness is the worker loop only: a Redis blip must not get pods restarted; readiness reports it.
    createServer((req, res) => {
      const probe = (ok: boolean): void => {
        res
          .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: ok ? 'ok' : 'unavailable' }));
      };
      if (req.url === '/metrics') {
        void worker.registry
          .metrics()
          .then((m) => res.writeHead(200, { 'content-type': worker.registry.contentType }).end(m));
      } else if (req.url === '/healthz') probe(worker.alive());
      else if (req.url === '/readyz') probe(worker.ready());
      else res.writeHead(404).end();
    }).listen(cfg.metricsPort);
  }
  const running = worker.run();
  await worker.waitUntilReady();
  log.info({ threads: cfg.threads, concurrency: cfg.concurrency, prefix: cfg.keyPrefix }, 'Started worker');
  await running;
}

main().catch((err: unknown) => {
  process.stderr.write(
    `Worker crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
