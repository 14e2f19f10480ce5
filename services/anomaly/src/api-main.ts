// API process entry: validates configuration, starts the HTTP server, drains on SIGTERM.

import { pino } from 'pino';
import { loadApiConfig, loadConfigOrExit } from './config.js';
import { startApi } from './api/server.js';

async function main(): Promise<void> {
  const cfg = loadConfigOrExit(() => loadApiConfig());
  const log = pino({ level: cfg.logLevel, base: { component: 'anomaly-api', pid: process.pid } });
  const api = await startApi(cfg, log);
  log.info(
    { host: cfg.host, port: api.port, tenants: cfg.tenants.length, prefix: cfg.keyPrefix },
    'Started API',
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'Received shutdown signal');
    // With Redis unreachable the queue connections wait forever to close; do not outlive the grace period.
    setTimeout(() => {
      log.error('Exited without a clean shutdown');
      process.exit(1);
    }, 10_000).unref();
    void api.close().then(
      () => {
        log.info('Stopped API');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'Failed to stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`API crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
