// The manager: shared informers, controllers, leader election, probes, metrics and graceful shutdown.
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { Kube, KubeObject } from '../kube/client.js';
import { EventRecorder } from '../kube/events.js';
import { realClock, type Clock } from './clock.js';
import { Controller, type ControllerOptions, type SourceSpec } from './controller.js';
import { Informer } from './informer.js';
import { LeaderElector } from './leader.js';
import { createLogger } from './logger.js';
import { RuntimeMetrics } from './metrics.js';
import { ProbeServer } from './probes.js';

/** What the manager does with a controller of any kind: its start and stop do not depend on the kind. */
type Runnable = Pick<Controller, 'name' | 'start' | 'stop'>;

/** A stable id per transform function, so informers are shared only between sources that trim alike. */
const transformIds = new WeakMap<(obj: KubeObject) => KubeObject, number>();
let lastTransformId = 0;
function transformId(fn: ((obj: KubeObject) => KubeObject) | undefined): string {
  if (fn === undefined) return '';
  let id = transformIds.get(fn);
  if (id === undefined) transformIds.set(fn, (id = ++lastTransformId));
  return `t${id}`;
}

/**
 * What the manager reads of the operator's configuration. The operator's `OperatorConfig` (config.ts) extends it;
 * the runtime does not depend on how the operator parses its flags.
 */
export interface ManagerConfig {
  /** Namespaces to watch; empty means all namespaces. */
  namespaces: string[];
  /** Concurrent reconciles per controller (controller-runtime's MaxConcurrentReconciles). */
  workers: number;
  leaderElection: {
    enabled: boolean;
    /** Name of the coordination.k8s.io/v1 Lease. */
    leaseName: string;
    /** Namespace of the Lease. */
    leaseNamespace: string;
    /** This replica's holder identity (the operator defaults it to POD_NAME or the host name plus the pid). */
    identity: string;
  };
  /** Port for /healthz, /readyz and /metrics (0 picks a free port). */
  probePort: number;
  /** Bind address for the probe server. */
  probeHost: string;
  /** Period of the informers' full resync (re-enqueue every key), in milliseconds. */
  resyncPeriodMs: number;
}

/** Options of {@link Manager}. */
export interface ManagerOptions {
  kube: Kube;
  config: ManagerConfig;
  log?: Logger;
  metrics?: RuntimeMetrics;
  /** Leader-election timings (defaults 15 s / 10 s / 2 s); tests shorten them. */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** How long shutdown waits for in-flight reconciles (default 30 s). */
  gracefulShutdownMs?: number;
  /** Start the probe server (default true). */
  probes?: boolean;
  /** Time source of the queues, informers and leader election (default the real clock; tests pass a fake one). */
  clock?: Clock;
}

/** Why the manager stopped; `exitCode` is what the process should exit with. */
export interface StopReason {
  reason: string;
  exitCode: number;
}

/**
 * Runs controllers. Informers start on every replica (a standby keeps a warm cache); workers start only
 * on the leader, after every informer synced. Losing the lease shuts the manager down with exit code 1
 * (as controller-runtime does) so the pod restarts clean; `shutdown()` (SIGTERM) drains the queues,
 * releases the lease and resolves `done` with exit code 0.
 */
export class Manager {
  readonly kube: Kube;
  readonly log: Logger;
  readonly metrics: RuntimeMetrics;
  readonly events: EventRecorder;
  readonly elector: LeaderElector | undefined;
  /** Resolves once the manager has fully stopped. */
  readonly done: Promise<StopReason>;
  private resolveDone!: (r: StopReason) => void;
  private readonly informers = new Map<string, Informer>();
  private readonly controllers: Runnable[] = [];
  private readonly probes: ProbeServer | undefined;
  private readonly cfg: ManagerOptions['config'];
  private readonly clock: Clock;
  private readonly graceMs: number;
  private started = false;
  private stopping: Promise<void> | undefined;
  private leading = false;
  /** Port the probe server listens on, after `start()`. */
  probePort: number | undefined;

  constructor(opts: ManagerOptions) {
    this.kube = opts.kube;
    this.cfg = opts.config;
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? createLogger();
    this.metrics = opts.metrics ?? new RuntimeMetrics();
    this.graceMs = opts.gracefulShutdownMs ?? 30_000;
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    const le = this.cfg.leaderElection;
    this.events = new EventRecorder(this.kube, { instance: le.identity, log: this.log });
    if (le.enabled) {
      this.elector = new LeaderElector(this.kube, {
        name: le.leaseName,
        namespace: le.leaseNamespace,
        identity: le.identity,
        ...(opts.leaseDurationMs === undefined ? {} : { leaseDurationMs: opts.leaseDurationMs }),
        ...(opts.renewDeadlineMs === undefined ? {} : { renewDeadlineMs: opts.renewDeadlineMs }),
        ...(opts.retryPeriodMs === undefined ? {} : { retryPeriodMs: opts.retryPeriodMs }),
        log: this.log,
        metrics: this.metrics,
        clock: this.clock,
        onStartedLeading: () => this.onLeading(),
        onStoppedLeading: () => this.onLostLease(),
      });
    }
    if (opts.probes !== false) {
      this.probes = new ProbeServer({
        port: this.cfg.probePort,
        host: this.cfg.probeHost,
        registry: this.metrics.registry,
        liveness: { ping: () => true },
        readiness: {
          informers: () => this.informersSynced() || 'informers not synced',
          election: () => this.electionOk() || 'not leading and not campaigning',
        },
      });
    }
  }

  /**
   * The informers for a kind, shared by every controller: one per watched namespace, or one for all
   * namespaces (empty namespace list) or for a cluster-scoped kind.
   */
  informersFor(spec: SourceSpec): Informer[] {
    const namespaces: (string | undefined)[] =
      spec.clusterScoped === true || this.cfg.namespaces.length === 0 ? [undefined] : this.cfg.namespaces;
    return namespaces.map((ns) => {
      const id = `${spec.apiVersion}|${spec.kind}|${ns ?? '*'}|${spec.labelSelector ?? ''}|${transformId(spec.transform)}`;
      let inf = this.informers.get(id);
      if (inf === undefined) {
        inf = new Informer<KubeObject>(this.kube, {
          apiVersion: spec.apiVersion,
          kind: spec.kind,
          ...(ns === undefined ? {} : { namespace: ns }),
          ...(spec.labelSelector === undefined ? {} : { labelSelector: spec.labelSelector }),
          ...(spec.transform === undefined ? {} : { transform: spec.transform }),
          resyncPeriodMs: this.cfg.resyncPeriodMs,
          log: this.log,
          metrics: this.metrics,
          clock: this.clock,
        });
        this.informers.set(id, inf);
        if (this.started) inf.start();
      }
      return inf;
    });
  }

  /** Registers a controller; call before `start()`. */
  add<T extends KubeObject>(opts: ControllerOptions<T>): Controller<T> {
    const c = new Controller<T>(opts, {
      informers: (s) => this.informersFor(s),
      log: this.log,
      metrics: this.metrics,
      workers: this.cfg.workers,
      clock: this.clock,
      kube: this.kube,
    });
    this.controllers.push(c);
    if (this.started && this.leading) void this.startController(c);
    return c;
  }

  /** True when every informer has listed once. */
  informersSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced);
  }

  private electionOk(): boolean {
    return this.elector === undefined ? this.started : this.elector.isRunning;
  }

  /** Ready = informers synced and either leading or a campaigning standby (what /readyz reports). */
  get ready(): boolean {
    return this.started && this.stopping === undefined && this.informersSynced() && this.electionOk();
  }

  /** True while this replica runs the workers. */
  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Starts probes, informers and leader election (workers follow once leading and synced).
   * Resolves when everything is started, not when synced: await `waitForSync()` for that.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.probes !== undefined) {
      this.probePort = await this.probes.listen();
      this.log.info({ port: this.probePort }, 'Started probe server');
    }
    for (const inf of this.informers.values()) inf.start();
    if (this.elector !== undefined) this.elector.start();
    else this.onLeading();
  }

  /** Resolves once every informer has listed. */
  async waitForSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.synced));
  }

  private onLeading(): void {
    if (this.stopping !== undefined) return;
    this.leading = true;
    for (const c of this.controllers) void this.startController(c);
  }

  private async startController(c: Runnable): Promise<void> {
    try {
      await c.start();
    } catch (err) {
      this.log.error({ controller: c.name, err: errorMessage(err) }, 'Failed to start controller');
    }
  }

  private onLostLease(): void {
    const wasLeading = this.leading;
    this.leading = false;
    if (wasLeading && this.stopping === undefined) {
      // Workers may hold stale assumptions; like controller-runtime, exit and let the pod restart clean.
      void this.stop({ reason: 'leader election lost', exitCode: 1 }, false);
    }
  }

  /** Graceful stop (SIGTERM): drain queues, stop informers, release the lease, close probes. */
  shutdown(reason = 'shutdown requested'): Promise<void> {
    return this.stop({ reason, exitCode: 0 }, true);
  }

  private stop(why: StopReason, release: boolean): Promise<void> {
    if (this.stopping !== undefined) return this.stopping;
    this.stopping = (async () => {
      this.log.info({ reason: why.reason }, 'Shutting down');
      try {
        await Promise.all(this.controllers.map((c) => c.stop(this.graceMs)));
        // Release only after the queues drained: the next leader must not overlap our last writes.
        await this.elector?.stop({ release });
        await Promise.all([...this.informers.values()].map((i) => i.stop()));
        await this.probes?.close();
        this.log.info({ reason: why.reason, exitCode: why.exitCode }, 'Shut down');
        this.resolveDone(why);
      } catch (err) {
        // Never leave `done` pending: the process must still exit, with a failure code.
        this.log.error({ err: errorMessage(err) }, 'Failed to shut down cleanly');
        this.resolveDone({ reason: `${why.reason}; shutdown failed: ${errorMessage(err)}`, exitCode: 1 });
      }
    })();
    return this.stopping;
  }

  /**
   * Installs SIGTERM/SIGINT handlers: the first signal shuts down gracefully and exits with the
   * manager's exit code; a second signal exits at once.
   */
  handleSignals(exit: (code: number) => void = (code) => process.exit(code)): void {
    let signalled = false;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (signalled) {
        exit(1);
        return;
      }
      signalled = true;
      this.log.info({ signal: sig }, 'Received signal');
      void this.shutdown(`received ${sig}`);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    void this.done.then((r) => exit(r.exitCode));
  }
}
