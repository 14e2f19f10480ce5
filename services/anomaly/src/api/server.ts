// Wires an API process together (Redis connections, coordinator, alerts, app) and starts listening.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ApiConfig } from '../config.js';
import { Coordinator } from '../pool/coordinator.js';
import { connectRedis } from '../store/redis.js';
import { Store } from '../store/store.js';
import { AlertBus, WebhookDispatcher } from './alerts.js';
import { createApp } from './app.js';
import { createMetrics } from './metrics.js';
import { ModelCache } from './model-cache.js';

/** A running API process. */
export interface RunningApi {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the API on cfg.host:cfg.port (port 0 picks a free one). */
export async function startApi(cfg: ApiConfig, log: Logger): Promise<RunningApi> {
  const redis = connectRedis(cfg.redisUrl, false);
  const sub = connectRedis(cfg.redisUrl, false);
  const streamConn = connectRedis(cfg.redisUrl, true);
  const bull = connectRedis(cfg.redisUrl, true);
  const store = new Store(redis, cfg.keyPrefix);
  const metrics = createMetrics();
  const coordinator = new Coordinator(store, bull);
  const alerts = new AlertBus(redis, sub, store.keys, metrics.alertsPublished);
  const dispatcher = new WebhookDispatcher(
    streamConn,
    store.keys,
    log.child({ component: 'webhooks' }),
    {
      attempts: cfg.webhookAttempts,
      backoffMs: cfg.webhookBackoffMs,
      allowedHosts: cfg.webhookAllowedHosts,
      claimIdleMs: 60_000,
    },
    metrics.webhookDeliveries,
  );
  await dispatcher.start();
  const app = createApp({ cfg, store, coordinator, alerts, models: new ModelCache(store), metrics, log });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(cfg.port, cfg.host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  // Long-lived SSE and streaming requests must not be cut by the default request timeout.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await dispatcher.stop();
      await coordinator.close();
      await Promise.allSettled([redis.quit(), sub.quit(), bull.quit()]);
    },
  };
}
