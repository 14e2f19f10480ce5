// Prometheus metrics of the API process (one registry per app so tests can build several apps).

import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The API's metric set. */
export interface ApiMetrics {
  readonly registry: Registry;
  readonly requests: Histogram<'method' | 'route' | 'status'>;
  readonly pointsScored: Counter<'path'>;
  readonly alertsPublished: Counter;
  readonly webhookDeliveries: Counter<'outcome'>;
  readonly jobsSubmitted: Counter<'kind'>;
  readonly uploadBytes: Counter<'format'>;
}

/** Creates the metric set on a fresh registry. */
export function createMetrics(defaults = true): ApiMetrics {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry, prefix: 'skyport_anomaly_' });
  const registers = [registry];
  return {
    registry,
    requests: new Histogram({
      name: 'skyport_anomaly_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    }),
    pointsScored: new Counter({
      name: 'skyport_anomaly_points_scored_total',
      help: 'Points scored in the API process',
      labelNames: ['path'],
      registers,
    }),
    alertsPublished: new Counter({
      name: 'skyport_anomaly_alerts_published_total',
      help: 'Threshold-crossing alerts published',
      registers,
    }),
    webhookDeliveries: new Counter({
      name: 'skyport_anomaly_webhook_deliveries_total',
      help: 'Webhook deliveries by outcome',
      labelNames: ['outcome'],
      registers,
    }),
    jobsSubmitted: new Counter({
      name: 'skyport_anomaly_jobs_submitted_total',
      help: 'Jobs submitted to the worker pool',
      labelNames: ['kind'],
      registers,
    }),
    uploadBytes: new Counter({
      name: 'skyport_anomaly_upload_bytes_total',
      help: 'Bytes of accepted data bodies',
      labelNames: ['format'],
      registers,
    }),
  };
}
