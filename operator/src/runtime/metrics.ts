// Prometheus metrics with controller-runtime's and client-go workqueue's names, so dashboards carry over.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WorkQueueMetrics } from './queue.js';

/** Reconcile outcomes, as controller-runtime labels them. */
export type ReconcileResultLabel = 'success' | 'error' | 'requeue' | 'requeue_after';

const LATENCY_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5,
  1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
const QUEUE_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100, 1000];

/** All runtime metrics on one registry (served at `/metrics`). */
export class RuntimeMetrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileErrors: Counter<'controller'>;
  readonly terminalErrors: Counter<'controller'>;
  readonly reconcileTime: Histogram<'controller'>;
  readonly maxConcurrent: Gauge<'controller'>;
  readonly activeWorkers: Gauge<'controller'>;
  readonly queueDepth: Gauge<'name' | 'controller'>;
  readonly queueAdds: Counter<'name' | 'controller'>;
  readonly queueRetries: Counter<'name' | 'controller'>;
  readonly queueLatency: Histogram<'name' | 'controller'>;
  readonly workDuration: Histogram<'name' | 'controller'>;
  readonly unfinishedWork: Gauge<'name' | 'controller'>;
  readonly longestRunning: Gauge<'name' | 'controller'>;
  readonly leaderStatus: Gauge<'name'>;
  private readonly inFlight = new Map<string, () => number[]>();
  readonly informerRestarts: Counter<'kind'>;
  readonly informerRelists: Counter<'kind'>;

  /** @param defaultMetrics also collect Node process metrics (heap, RSS, event-loop lag). */
  constructor(registry = new Registry(), defaultMetrics = true) {
    this.registry = registry;
    const registers = [registry];
    if (defaultMetrics) collectDefaultMetrics({ register: registry });
    this.reconcileTotal = new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.terminalErrors = new Counter({
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.maxConcurrent = new Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: ['controller'],
      registers,
    });
    this.activeWorkers = new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller',
      labelNames: ['controller'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of workqueue',
      labelNames: ['name', 'controller'],
      registers,
    });
    this.queueAdds = new Counter({
      name: 'workqueue_adds_total',
      help: 'Total number of adds handled by workqueue',
      labelNames: ['name', 'controller'],
      registers,
    });
    this.queueRetries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
      labelNames: ['name', 'controller'],
      registers,
    });
    this.queueLatency = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: ['name', 'controller'],
      buckets: QUEUE_BUCKETS,
      registers,
    });
    this.workDuration = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames: ['name', 'controller'],
      buckets: QUEUE_BUCKETS,
      registers,
    });
    // Computed at scrape time from the queues' in-flight start times, like client-go's updateUnfinishedWork.
    const inFlight = this.inFlight;
    this.unfinishedWork = new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help: 'How many seconds of work has been done that is in progress and has not been observed by work_duration',
      labelNames: ['name', 'controller'],
      registers,
      collect() {
        for (const [c, ages] of inFlight)
          this.set(
            { name: c, controller: c },
            ages().reduce((a, b) => a + b, 0),
          );
      },
    });
    this.longestRunning = new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running',
      labelNames: ['name', 'controller'],
      registers,
      collect() {
        for (const [c, ages] of inFlight) this.set({ name: c, controller: c }, Math.max(0, ...ages()));
      },
    });
    this.leaderStatus = new Gauge({
      name: 'leader_election_master_status',
      help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master',
      labelNames: ['name'],
      registers,
    });
    this.informerRestarts = new Counter({
      name: 'skyport_informer_watch_restarts_total',
      help: 'Watch restarts after an error or a stall, per kind',
      labelNames: ['kind'],
      registers,
    });
    this.informerRelists = new Counter({
      name: 'skyport_informer_relists_total',
      help: 'Full relists (start, 410 Gone, restart), per kind',
      labelNames: ['kind'],
      registers,
    });
  }

  /** Registers a queue's in-flight ages for the unfinished-work gauges. */
  trackInFlight(controller: string, ages: () => number[]): void {
    this.inFlight.set(controller, ages);
  }

  /** Work-queue hooks bound to one controller's queue. */
  queueHooks(controller: string): WorkQueueMetrics {
    const l = { name: controller, controller };
    return {
      depth: (n) => this.queueDepth.set(l, n),
      add: () => this.queueAdds.inc(l),
      retry: () => this.queueRetries.inc(l),
      queueLatency: (s) => this.queueLatency.observe(l, s),
      workDuration: (s) => this.workDuration.observe(l, s),
    };
  }
}
