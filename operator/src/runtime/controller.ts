// A controller: informer events → keyed work queue → reconcile(key), with the transient/terminal contract.
import type { Logger } from 'pino';
import type { Kube, KubeObject } from '../kube/client.js';
import { TerminalError, TransientError, errorMessage } from '../errors.js';
import type { Clock } from './clock.js';
import type { Informer } from './informer.js';
import { keyOf, keyString, parseKey, type ObjectKey } from './key.js';
import type { RuntimeMetrics } from './metrics.js';
import { WorkQueue, type Priority } from './queue.js';
import { defaultRateLimiter, type RateLimiterOptions } from './ratelimit.js';
import { recordDegraded } from './status.js';

/** A kind to watch. */
export interface SourceSpec {
  apiVersion: string;
  kind: string;
  /** True for cluster-scoped kinds: one informer for the whole cluster, ignoring the namespace list. */
  clusterScoped?: boolean;
  /** Scope the cache, e.g. `MANAGED_SELECTOR` for children. */
  labelSelector?: string;
  /**
   * Trims objects before they are cached (see `InformerOptions.transform`). Sources of the same kind with
   * different transforms get separate informers, so one controller's trimming never hides fields from another.
   */
  transform?: (obj: KubeObject) => KubeObject;
  /** Secondary indexes on the cache, read with `ReconcileContext.indexed` (e.g. labs by owner and profile). */
  indexers?: Record<string, (obj: KubeObject) => readonly string[]>;
}

/** What reconcile asks for next. Returning nothing means "done until something changes". */
export interface ReconcileResult {
  /** Reconcile again after this many ms (polling; resets the failure backoff). */
  requeueAfterMs?: number;
  /** Reconcile again soon, with the rate limiter's backoff. */
  requeue?: boolean;
}

/** Map lookups in the controller's caches: for reconciles and for watch `map` functions. */
export interface CacheReader {
  /** One cached object of a watched kind by key (a map lookup). */
  get: <C extends KubeObject>(kind: string, key: ObjectKey) => C | undefined;
  /** Cached objects of a watched kind under `value` in the index `index` (see `SourceSpec.indexers`). */
  indexed: <C extends KubeObject>(kind: string, index: string, value: string) => C[];
}

/** Everything one reconcile run gets. */
export interface ReconcileContext<T extends KubeObject> extends CacheReader {
  /** The request: only `{namespace, name}`. */
  key: ObjectKey;
  /** The primary object from the cache; `undefined` when it was deleted. */
  object: T | undefined;
  /** Logger bound to `{controller, namespace, name}`. */
  log: Logger;
  /** Aborted when the manager shuts down and the graceful period ends. */
  signal: AbortSignal;
  /** Cached objects of an owned kind whose ownerReferences include the primary's UID. */
  owned<C extends KubeObject>(kind: string): C[];
  /** Cached objects of any kind this controller watches (`for`, `owns` or `watches`). Scans the cache. */
  cached<C extends KubeObject>(kind: string, namespace?: string): C[];
  /** How many times this key failed in a row (0 on a first run). */
  retries: number;
}

/** A secondary watch: map a changed object to the primary keys to reconcile (reading the cache if need be). */
export interface WatchSpec extends SourceSpec {
  map: (obj: KubeObject, cache: CacheReader) => ObjectKey[];
  /** `urgent` when the watched kind is a child in all but ownerReference (e.g. a home PVC); default normal. */
  priority?: Priority;
  /** Filters the watched kind's update events (e.g. `generationChanged`: not its status writes); default all. */
  updatePredicate?: (obj: KubeObject, old: KubeObject) => boolean;
}

/**
 * Events from outside the cluster (controller-runtime's `source.Channel`): called once when the controller is
 * built, with a function that queues a primary key, e.g. when a background check of that object ends.
 */
export type ExternalSource = (enqueue: (key: ObjectKey, priority?: Priority) => void) => void;

/** Options of a {@link Controller}. */
export interface ControllerOptions<T extends KubeObject> {
  /** Controller name for logs and metrics (`notebooklab`). */
  name: string;
  /** The primary kind: its events enqueue its own key. */
  for: SourceSpec;
  /** Child kinds: their events enqueue the controller owner of the primary kind. */
  owns?: SourceSpec[];
  /** Other kinds with a mapping to primary keys (e.g. a profile → the labs that use it). */
  watches?: WatchSpec[];
  /** Non-Kubernetes event sources (see {@link ExternalSource}). */
  sources?: ExternalSource[];
  /** Level-based, idempotent reconcile of one key. */
  reconcile: (ctx: ReconcileContext<T>) => Promise<ReconcileResult | undefined | void>;
  /**
   * Called when reconcile throws a TerminalError: record it. Without it the runtime records `Degraded=True` and
   * `Ready=False` with `reason = err.code` on the primary's status (`recordDegraded`). The key is then parked: not retried until the primary's generation, labels or annotations change, or an
   * event of a `watches` source maps to it (what it depends on changed, e.g. its profile was fixed).
   * Returning a ReconcileResult with `requeueAfterMs` or `requeue` instead says the record is a final state the
   * reconcile itself handles (a job's ERROR whose end notification is still to be sent): the key is not parked but
   * re-added as the result says.
   */
  onTerminal?: (ctx: ReconcileContext<T>, err: TerminalError) => Promise<ReconcileResult | void>;
  /** Filters primary update events; default: every change is enqueued. */
  updatePredicate?: (obj: T, old: T) => boolean;
  /** Concurrent reconciles (default: the manager's `workers`). */
  workers?: number;
  rateLimiter?: RateLimiterOptions;
  /** Called once the workers have stopped (close what the controller opened, e.g. HTTP agents). */
  onStop?: () => void;
}

/**
 * What a user changes when they ask for another try: the spec (generation), labels or annotations. Status and
 * finalizer writes (the controller's own) and resourceVersion bumps leave it equal, so they do not unpark a key.
 */
function touchOf(o: KubeObject): string {
  const m = o.metadata;
  return JSON.stringify([m?.generation ?? null, m?.labels ?? {}, m?.annotations ?? {}]);
}

/** What the manager hands a controller when it is registered. */
export interface ControllerDeps {
  informers: (spec: SourceSpec) => Informer[];
  log: Logger;
  metrics: RuntimeMetrics;
  workers: number;
  /** Time of the queue's delayed adds and retry backoff (default the real clock). */
  clock?: Clock;
  /** For the default record of a TerminalError (without it, and without `onTerminal`, nothing is written). */
  kube?: Pick<Kube, 'applyStatus'>;
}

/** `apiVersion/kind`: how the controller's caches are keyed (two groups may both have a `Widget`). */
export function gvkOf(spec: { apiVersion: string; kind: string }): string {
  return `${spec.apiVersion}/${spec.kind}`;
}

function groupOf(apiVersion: string): string {
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

/**
 * Wires informers to a work queue and runs `reconcile` on N workers, only while started (the leader).
 * Events are queued from the moment the controller is registered, so a standby that becomes leader
 * starts with every key already queued from its warm cache.
 */
export class Controller<T extends KubeObject = KubeObject> {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly log: Logger;
  private readonly metrics: RuntimeMetrics;
  private readonly workers: number;
  private readonly primary: Informer<T>[];
  /** Informers by `apiVersion/kind` ({@link gvkOf}). */
  private readonly byGvk = new Map<string, Informer[]>();
  /** Kind → the `apiVersion/kind` keys watched under that kind name. */
  private readonly gvksOfKind = new Map<string, Set<string>>();
  private readonly kube: Pick<Kube, 'applyStatus'> | undefined;
  /** Keys parked after a TerminalError, with the primary as it was then ({@link touchOf}). */
  private readonly terminal = new Map<string, { uid: string; touch: string }>();
  private readonly abort = new AbortController();
  private running: Promise<void>[] = [];
  private started = false;
  private active = 0;

  constructor(
    readonly opts: ControllerOptions<T>,
    deps: ControllerDeps,
  ) {
    this.name = opts.name;
    this.log = deps.log.child({ controller: opts.name });
    this.metrics = deps.metrics;
    this.workers = opts.workers ?? deps.workers;
    this.kube = deps.kube;
    this.queue = new WorkQueue({
      name: opts.name,
      rateLimiter: defaultRateLimiter(opts.rateLimiter, deps.clock),
      ...(deps.clock === undefined ? {} : { clock: deps.clock }),
      metrics: deps.metrics.queueHooks(opts.name),
    });
    this.metrics.trackInFlight(opts.name, () => this.queue.inFlightSeconds());
    this.metrics.maxConcurrent.set({ controller: this.name }, this.workers);
    this.metrics.activeWorkers.set({ controller: this.name }, 0);

    const enqueue = (o: KubeObject): void => this.queue.add(keyString(keyOf(o)));
    const primary = deps.informers(opts.for);
    this.remember(primary, opts.for);
    // The primary informers hold objects of kind T by construction (their GVK is opts.for).
    this.primary = primary as unknown as Informer<T>[];
    for (const inf of this.primary) {
      inf.on({
        add: enqueue,
        update: (o, old) => {
          if (opts.updatePredicate === undefined || opts.updatePredicate(o, old)) enqueue(o);
        },
        delete: enqueue,
        resync: enqueue,
      });
    }
    for (const spec of opts.owns ?? []) {
      const infs = deps.informers(spec);
      this.remember(infs, spec);
      const ownerGroup = groupOf(opts.for.apiVersion);
      const ownerKey = (o: KubeObject): string | undefined => {
        const ref = o.metadata?.ownerReferences?.find(
          (r) => r.controller === true && r.kind === opts.for.kind && groupOf(r.apiVersion) === ownerGroup,
        );
        if (ref === undefined) return undefined;
        const ns = opts.for.clusterScoped === true ? undefined : o.metadata?.namespace;
        return keyString(ns === undefined ? { name: ref.name } : { namespace: ns, name: ref.name });
      };
      // A child's change moves its owner's work along: urgent, ahead of new objects (see `Priority`).
      const toOwner = (o: KubeObject): void => {
        const k = ownerKey(o);
        if (k !== undefined) this.queue.add(k, 'urgent');
      };
      // An update that re-parents a child must wake both the old and the new owner, each once.
      const onUpdate = (o: KubeObject, old: KubeObject): void => {
        const a = ownerKey(o);
        const b = ownerKey(old);
        if (a !== undefined) this.queue.add(a, 'urgent');
        if (b !== undefined && b !== a) this.queue.add(b, 'urgent');
      };
      for (const inf of infs) inf.on({ add: toOwner, update: onUpdate, delete: toOwner });
    }
    for (const spec of opts.watches ?? []) {
      const infs = deps.informers(spec);
      this.remember(infs, spec);
      // A watched object's change is what a parked key may be waiting for (a profile fixed or created): it
      // unparks the key, so a terminal failure caused by that object is retried.
      const mapped = (o: KubeObject): void => {
        for (const k of spec.map(o, this.cache)) {
          const s = keyString(k);
          this.terminal.delete(s);
          this.queue.add(s, spec.priority ?? 'normal');
        }
      };
      const updated = (o: KubeObject, old: KubeObject): void => {
        if (spec.updatePredicate === undefined || spec.updatePredicate(o, old)) mapped(o);
      };
      for (const inf of infs) inf.on({ add: mapped, update: updated, delete: mapped });
    }
    for (const source of opts.sources ?? []) source((k, p) => this.queue.add(keyString(k), p ?? 'normal'));
  }

  private remember(infs: Informer[], spec: SourceSpec): void {
    for (const [name, fn] of Object.entries(spec.indexers ?? {}))
      for (const inf of infs) inf.addIndex(name, fn);
    const gvk = gvkOf(spec);
    // Informers are shared: a kind that is both `for` and watched is one informer, listed once (a lookup through
    // it must not return an object twice).
    this.byGvk.set(gvk, [...new Set([...(this.byGvk.get(gvk) ?? []), ...infs])]);
    this.gvksOfKind.set(spec.kind, new Set([...(this.gvksOfKind.get(spec.kind) ?? []), gvk]));
  }

  /**
   * The informers of `kind`: a kind name (`Pod`) when only one group/version of it is watched, or
   * `apiVersion/kind` (`v1/Pod`).
   *
   * @throws Error when a bare kind name is watched in two groups or versions.
   */
  private byKind(kind: string): Informer[] {
    if (kind.includes('/')) return this.byGvk.get(kind) ?? [];
    const gvks = [...(this.gvksOfKind.get(kind) ?? [])];
    if (gvks.length > 1)
      throw new Error(
        `${this.name}: kind ${kind} is watched as ${gvks.join(' and ')}; name it as apiVersion/kind`,
      );
    return gvks.length === 0 ? [] : (this.byGvk.get(gvks[0] ?? '') ?? []);
  }

  /** Informers this controller depends on (the manager waits for them before starting workers). */
  get informers(): Informer[] {
    return [...new Set([...this.byGvk.values()].flat())];
  }

  /** True when every informer of this controller has listed once. */
  get hasSynced(): boolean {
    return this.informers.every((i) => i.hasSynced);
  }

  /** Starts the workers (after the caches synced). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await Promise.all(this.informers.map((i) => i.synced));
    this.log.info({ workers: this.workers }, 'Starting workers');
    for (let i = 0; i < this.workers; i++) this.running.push(this.worker());
  }

  /**
   * Stops taking new keys, lets in-flight reconciles finish (up to `graceMs`, then aborts their signal)
   * and resolves when the workers have exited.
   */
  async stop(graceMs = 30_000): Promise<void> {
    if (!this.started) {
      this.queue.shutDown();
      this.opts.onStop?.();
      return;
    }
    const drained = await this.queue.shutDownWithDrain(graceMs);
    if (!drained) {
      this.log.warn({ graceMs }, 'Reconciles still running after the grace period, aborting them');
      this.abort.abort(new Error('shutdown'));
    }
    await Promise.all(this.running);
    this.running = [];
    this.opts.onStop?.();
    this.log.info('Stopped workers');
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.metrics.activeWorkers.set({ controller: this.name }, ++this.active);
      try {
        await this.process(key);
      } finally {
        this.metrics.activeWorkers.set({ controller: this.name }, --this.active);
        this.queue.done(key);
      }
    }
  }

  private context(key: ObjectKey, object: T | undefined, log: Logger, retries: number): ReconcileContext<T> {
    return {
      key,
      object,
      log,
      signal: this.abort.signal,
      retries,
      owned: <C extends KubeObject>(kind: string): C[] => {
        const uid = object?.metadata?.uid;
        if (uid === undefined) return [];
        return this.byKind(kind).flatMap((i) => i.byOwner(uid)) as C[];
      },
      cached: <C extends KubeObject>(kind: string, namespace?: string): C[] =>
        this.byKind(kind).flatMap((i) => i.list(namespace)) as C[],
      get: this.cache.get,
      indexed: this.cache.indexed,
    };
  }

  private readonly cache: CacheReader = {
    get: <C extends KubeObject>(kind: string, k: ObjectKey): C | undefined => {
      for (const i of this.byKind(kind)) {
        const o = i.get(k);
        if (o !== undefined) return o as C;
      }
      return undefined;
    },
    indexed: <C extends KubeObject>(kind: string, index: string, value: string): C[] =>
      this.byKind(kind).flatMap((i) => i.byIndex(index, value)) as C[],
  };

  private findPrimary(key: ObjectKey): T | undefined {
    for (const inf of this.primary) {
      const o = inf.get(key);
      if (o !== undefined) return o;
    }
    return undefined;
  }

  /** Runs one reconcile and decides what happens to the key next. */
  private async process(k: string): Promise<void> {
    const key = parseKey(k);
    const object = this.findPrimary(key);
    const log = this.log.child(
      key.namespace === undefined ? { name: key.name } : { namespace: key.namespace, name: key.name },
    );
    const parked = this.terminal.get(k);
    if (parked !== undefined) {
      const same =
        object !== undefined &&
        object.metadata?.uid === parked.uid &&
        touchOf(object) === parked.touch &&
        object.metadata?.deletionTimestamp === undefined;
      if (same) {
        this.queue.forget(k);
        return;
      }
      this.terminal.delete(k);
    }
    const ctx = this.context(key, object, log, this.queue.numRequeues(k));
    const end = this.metrics.reconcileTime.startTimer({ controller: this.name });
    try {
      const res = (await this.opts.reconcile(ctx)) ?? {};
      if (res.requeueAfterMs !== undefined && res.requeueAfterMs > 0) {
        this.queue.forget(k);
        this.queue.addAfter(k, res.requeueAfterMs);
        this.metrics.reconcileTotal.inc({ controller: this.name, result: 'requeue_after' });
      } else if (res.requeue === true) {
        this.queue.addRateLimited(k);
        this.metrics.reconcileTotal.inc({ controller: this.name, result: 'requeue' });
      } else {
        this.queue.forget(k);
        this.metrics.reconcileTotal.inc({ controller: this.name, result: 'success' });
      }
    } catch (err) {
      this.metrics.reconcileTotal.inc({ controller: this.name, result: 'error' });
      this.metrics.reconcileErrors.inc({ controller: this.name });
      await this.handleError(k, ctx, err);
    } finally {
      end();
    }
  }

  private async handleError(k: string, ctx: ReconcileContext<T>, err: unknown): Promise<void> {
    if (err instanceof TerminalError) {
      this.metrics.terminalErrors.inc({ controller: this.name });
      ctx.log.warn(
        { code: err.code, err: err.message },
        'Reconcile failed terminally, not retrying until the spec changes',
      );
      let after: ReconcileResult | void = undefined;
      try {
        if (this.opts.onTerminal !== undefined) after = await this.opts.onTerminal(ctx, err);
        else if (this.kube !== undefined && ctx.object !== undefined)
          await recordDegraded(this.kube, ctx.object, err);
      } catch (hookErr) {
        // Recording the failure failed (e.g. a conflict on /status): retry the whole key later.
        ctx.log.warn({ err: errorMessage(hookErr) }, 'Failed to record terminal error, retrying');
        this.queue.addRateLimited(k);
        return;
      }
      if (after?.requeueAfterMs !== undefined && after.requeueAfterMs > 0) {
        this.queue.forget(k);
        this.queue.addAfter(k, after.requeueAfterMs);
        return;
      }
      if (after?.requeue === true) {
        this.queue.addRateLimited(k);
        return;
      }
      const obj = ctx.object;
      if (obj?.metadata?.uid !== undefined)
        this.terminal.set(k, { uid: obj.metadata.uid, touch: touchOf(obj) });
      this.queue.forget(k);
      return;
    }
    if (err instanceof TransientError && err.retryAfterMs !== undefined) {
      ctx.log.info(
        { code: err.code, err: err.message, retryAfterMs: err.retryAfterMs },
        'Reconcile failed, retrying after the server-given delay',
      );
      this.queue.addAfter(k, err.retryAfterMs);
      return;
    }
    const delay = this.queue.addRateLimited(k);
    const code = err instanceof TransientError ? err.code : 'Unexpected';
    const level = err instanceof TransientError ? 'info' : 'error';
    ctx.log[level](
      { code, err: errorMessage(err), retryInMs: Math.round(delay), retries: ctx.retries + 1 },
      'Reconcile failed, retrying with backoff',
    );
  }
}
