// List+watch cache that survives what client-node's informer does not: restarts, 410 relists, stalls.
import type { Logger } from 'pino';
import type { KubeObject, ListOptions, ListResult, WatchEvent, WatchHandle } from '../kube/client.js';
import { describeFailure } from '../kube/errors.js';
import { errorMessage } from '../errors.js';
import { realClock, sleep, type Clock, type ClockTimer } from './clock.js';
import { keyOf, keyString } from './key.js';
import type { RuntimeMetrics } from './metrics.js';

/** The list and watch calls an informer needs; `Kube` implements it. */
export interface ListWatcher {
  list<T extends KubeObject>(apiVersion: string, kind: string, opts?: ListOptions): Promise<ListResult<T>>;
  watch(
    apiVersion: string,
    kind: string,
    opts: ListOptions & { resourceVersion?: string; timeoutSeconds?: number },
    onEvent: (event: WatchEvent) => void,
    onDone: (err: unknown) => void,
  ): Promise<WatchHandle>;
}

/** Restart backoff: exponential with jitter, reset after a successful list or a healthy watch. */
export interface BackoffOptions {
  /** First delay (default 500 ms). */
  initialMs?: number;
  /** Cap (default 30 s). */
  maxMs?: number;
}

/** Options of {@link Informer}. */
export interface InformerOptions {
  apiVersion: string;
  kind: string;
  /** Watch one namespace; undefined = all namespaces (or a cluster-scoped kind). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Emit `resync` for every cached object this often (default 10 min; 0 disables). */
  resyncPeriodMs?: number;
  /**
   * Server-side watch timeout; the apiserver closes the stream cleanly after it and we rewatch. Default:
   * random in [300, 600) s, like client-go, so replicas do not rewatch in lock step.
   */
  watchTimeoutSeconds?: number;
  /**
   * Restart the watch when nothing (event, bookmark or close) arrived for this long. Default: the watch
   * timeout + 60 s — a stream that outlives its own server timeout is dead (a silent stall).
   */
  watchdogMs?: number;
  backoff?: BackoffOptions;
  /**
   * Keep `metadata.managedFields` in the cache (default false: they are stripped on arrival, as
   * controller-runtime's TransformStripManagedFields does; they are often half of an object's size).
   */
  keepManagedFields?: boolean;
  /**
   * Trims each object on arrival, before it is cached or handed to handlers (controller-runtime's cache
   * `TransformFunc`, client-go's `SetTransform`): keep only what the controllers read, so the cache holds less
   * (and no Secret data nobody needs). It may mutate and return its argument; it must keep `metadata` intact
   * (keys, resourceVersion and ownerReferences drive the cache and its index).
   */
  transform?: (obj: KubeObject) => KubeObject;
  log?: Logger;
  metrics?: RuntimeMetrics;
  /** Time source of resync, the watchdog and backoff (default the real clock; tests pass a fake one). */
  clock?: Clock;
}

/** Handlers an informer calls; `old` is the previous cached object on update. */
export interface InformerHandlers<T> {
  add?: (obj: T) => void;
  update?: (obj: T, old: T) => void;
  delete?: (obj: T) => void;
  /** Periodic resync: called for every cached object. */
  resync?: (obj: T) => void;
}

type Outcome = 'closed' | 'gone' | 'stopped';

/**
 * An informer over one GVK (and optionally one namespace / label selector):
 * - lists, then watches from the list's resourceVersion with bookmarks;
 * - on a clean server close it rewatches at once; on `410 Gone` it relists and emits the difference
 *   (adds, updates and deletes for objects that vanished meanwhile);
 * - on any other error (network, 5xx, 403, a parse failure) it restarts with jittered exponential backoff;
 * - a watchdog restarts a watch that went silent; `resync` fires for every object periodically;
 * - `synced` resolves after the first successful list; `byOwner(uid)` indexes objects by owner UID.
 */
export class Informer<T extends KubeObject = KubeObject> {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string | undefined;
  /** Resolves after the first successful list. */
  readonly synced: Promise<void>;
  private resolveSynced!: () => void;
  private readonly cache = new Map<string, T>();
  /** Secondary indexes (client-go indexers): name → function and value → keys; always one by owner UID. */
  private readonly indexes = new Map<
    string,
    { fn: (o: T) => readonly string[]; keys: Map<string, Set<string>> }
  >([[OWNER_INDEX, { fn: ownerUids, keys: new Map() }]]);
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly log: Logger | undefined;
  private readonly metrics: RuntimeMetrics | undefined;
  private readonly opts: InformerOptions;
  private hasSyncedFlag = false;
  private running = false;
  private stopped = false;
  private resourceVersion: string | undefined;
  private handle: WatchHandle | undefined;
  private abortWatch: ((reason: Error) => void) | undefined;
  private readonly clock: Clock;
  /** Aborted by stop(): ends a backoff sleep at once. */
  private readonly stopping = new AbortController();
  private resyncTimer: ClockTimer | undefined;
  private watchdogTimer: ClockTimer | undefined;
  private loop: Promise<void> | undefined;
  private lastActivity = 0;
  private failures = 0;
  /** Restarts after errors or stalls since start (for tests and metrics). */
  restarts = 0;
  /** Full lists since start. */
  lists = 0;

  constructor(
    private readonly source: ListWatcher,
    opts: InformerOptions,
  ) {
    this.opts = opts;
    this.apiVersion = opts.apiVersion;
    this.kind = opts.kind;
    this.namespace = opts.namespace;
    this.log = opts.log?.child({
      informer: opts.kind,
      ...(opts.namespace === undefined ? {} : { watchNamespace: opts.namespace }),
    });
    this.metrics = opts.metrics;
    this.clock = opts.clock ?? realClock;
    this.synced = new Promise((resolve) => {
      this.resolveSynced = resolve;
    });
  }

  /** True after the first successful list. */
  get hasSynced(): boolean {
    return this.hasSyncedFlag;
  }

  /** Registers handlers; call before `start()` to see the initial adds. */
  on(handlers: InformerHandlers<T>): this {
    this.handlers.push(handlers);
    return this;
  }

  /** Starts list+watch in the background; idempotent. */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.loop = this.run();
    const period = this.opts.resyncPeriodMs ?? 600_000;
    if (period > 0) {
      this.resyncTimer = this.clock.setInterval(() => this.resync(), period).unref();
    }
  }

  /** Stops watching and clears timers; the cache stays readable. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.resyncTimer?.cancel();
    this.watchdogTimer?.cancel();
    this.stopping.abort();
    this.handle?.stop();
    this.abortWatch?.(new Error('informer stopped'));
    await this.loop;
  }

  /**
   * Aborts the current watch as if it failed, forcing the error path (backoff, rewatch). The watchdog
   * uses it; tests can too.
   */
  restartWatch(reason = 'restart requested'): void {
    this.abortWatch?.(new Error(reason));
  }

  /** The cached object with this `namespace/name` key. */
  get(key: { namespace?: string; name: string }): T | undefined {
    return this.cache.get(keyString(key));
  }

  /** All cached objects, optionally of one namespace. */
  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  /**
   * Adds a secondary index: `fn` names the values an object is found under by {@link byIndex}. Adding an index
   * name again keeps the first function (informers are shared; controllers give one name one meaning).
   */
  addIndex(name: string, fn: (o: T) => readonly string[]): void {
    if (this.indexes.has(name)) return;
    const idx = { fn, keys: new Map<string, Set<string>>() };
    this.indexes.set(name, idx);
    for (const [k, o] of this.cache) addKeys(idx.keys, fn(o), k);
  }

  /** Cached objects found under `value` in the index `name` (empty for an unknown index). */
  byIndex(name: string, value: string): T[] {
    const keys = this.indexes.get(name)?.keys.get(value);
    if (keys === undefined) return [];
    const out: T[] = [];
    for (const k of keys) {
      const o = this.cache.get(k);
      if (o !== undefined) out.push(o);
    }
    return out;
  }

  /** Cached objects whose ownerReferences include `uid`. */
  byOwner(uid: string): T[] {
    return this.byIndex(OWNER_INDEX, uid);
  }

  /** Number of cached objects. */
  get size(): number {
    return this.cache.size;
  }

  /** Emits `resync` for every cached object (runs on a timer; public for tests). */
  resync(): void {
    if (!this.hasSyncedFlag) return;
    for (const obj of this.cache.values()) this.emit('resync', obj);
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
          this.failures = 0;
        }
        // stop() may have run while we were listing, before there was a watch to abort.
        if (this.stopped) break;
        const started = this.clock.now();
        const outcome = await this.watchOnce();
        if (outcome === 'stopped') break;
        if (outcome === 'gone') {
          this.log?.info({ resourceVersion: this.resourceVersion }, 'Watch expired (410 Gone), relisting');
          needList = true;
          // A 410 right after a fresh list would otherwise spin list → watch → 410 without pause.
          if (this.clock.now() - started < 1000) await this.backoff('gone right after list');
          continue;
        }
        // A clean close after a healthy stream: rewatch at once; a close right after opening counts as a failure.
        if (this.clock.now() - started > 1000) this.failures = 0;
        else await this.backoff('watch closed immediately');
      } catch (err) {
        if (this.stopped) break;
        const f = describeFailure(err);
        if (f.status === 410) {
          needList = true;
          continue;
        }
        this.restarts++;
        this.metrics?.informerRestarts.inc({ kind: this.kind });
        this.log?.warn(
          { err: errorMessage(err), status: f.status, failures: this.failures + 1 },
          'Watch failed, restarting with backoff',
        );
        await this.backoff('error');
        // A failed list leaves needList set; a failed watch rewatches from the last resourceVersion.
      }
    }
  }

  private async backoff(_why: string): Promise<void> {
    const initial = this.opts.backoff?.initialMs ?? 500;
    const max = this.opts.backoff?.maxMs ?? 30_000;
    const base = Math.min(max, initial * 2 ** Math.min(this.failures, 30));
    this.failures++;
    // Jitter in [base/2, base) keeps many replicas from reconnecting in lock step (client-node#1933).
    const delay = base / 2 + Math.random() * (base / 2);
    await sleep(this.clock, delay, this.stopping.signal);
  }

  private listOptions(): ListOptions {
    const o: ListOptions = {};
    if (this.opts.namespace !== undefined) o.namespace = this.opts.namespace;
    if (this.opts.labelSelector !== undefined) o.labelSelector = this.opts.labelSelector;
    if (this.opts.fieldSelector !== undefined) o.fieldSelector = this.opts.fieldSelector;
    return o;
  }

  private async relist(): Promise<void> {
    const res = await this.source.list<T>(this.apiVersion, this.kind, this.listOptions());
    if (this.stopped) return;
    this.lists++;
    this.metrics?.informerRelists.inc({ kind: this.kind });
    const fresh = new Map<string, T>();
    for (const item of res.items) fresh.set(keyString(keyOf(item)), item);
    // Deletions that happened while we were not watching: emit them from the old cache.
    for (const [k, old] of this.cache) {
      if (!fresh.has(k)) {
        this.remove(k, old);
        this.emit('delete', old);
      }
    }
    for (const [k, obj] of fresh) this.upsert(k, obj);
    this.resourceVersion = res.resourceVersion;
    this.log?.debug({ count: res.items.length, resourceVersion: res.resourceVersion }, 'Listed objects');
    if (!this.hasSyncedFlag) {
      this.hasSyncedFlag = true;
      this.resolveSynced();
      this.log?.info({ count: res.items.length }, 'Informer synced');
    }
  }

  private watchOnce(): Promise<Outcome> {
    const timeoutSeconds = this.opts.watchTimeoutSeconds ?? Math.floor(300 + Math.random() * 300);
    const watchdogMs = this.opts.watchdogMs ?? (timeoutSeconds + 60) * 1000;
    return new Promise<Outcome>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        this.watchdogTimer?.cancel();
        this.abortWatch = undefined;
        this.handle?.stop();
        this.handle = undefined;
        fn();
      };
      this.abortWatch = (reason) => finish(() => (this.stopped ? resolve('stopped') : reject(reason)));
      this.lastActivity = this.clock.now();
      this.watchdogTimer = this.clock
        .setInterval(
          () => {
            if (this.clock.now() - this.lastActivity > watchdogMs) {
              this.log?.warn({ silentMs: this.clock.now() - this.lastActivity }, 'Watch stalled, restarting');
              this.restartWatch('watch stalled');
            }
          },
          Math.max(50, Math.min(watchdogMs / 4, 10_000)),
        )
        .unref();
      const opts = {
        ...this.listOptions(),
        timeoutSeconds,
        ...(this.resourceVersion === undefined ? {} : { resourceVersion: this.resourceVersion }),
      };
      this.source
        .watch(
          this.apiVersion,
          this.kind,
          opts,
          (ev) => {
            if (settled) return;
            this.lastActivity = this.clock.now();
            if (ev.type === 'ERROR') {
              const status = ev.object as { code?: number; message?: string };
              if (status.code === 410) finish(() => resolve('gone'));
              else
                finish(() =>
                  reject(
                    Object.assign(new Error(`watch error event: ${status.message ?? 'unknown'}`), {
                      statusCode: status.code,
                    }),
                  ),
                );
              return;
            }
            try {
              this.apply(ev);
            } catch (err) {
              finish(() => reject(err instanceof Error ? err : new Error(errorMessage(err))));
            }
          },
          (err) => {
            if (err === null || err === undefined) finish(() => resolve(this.stopped ? 'stopped' : 'closed'));
            else
              finish(() =>
                this.stopped
                  ? resolve('stopped')
                  : reject(err instanceof Error ? err : new Error(errorMessage(err))),
              );
          },
        )
        .then(
          (h) => {
            if (settled) h.stop();
            else this.handle = h;
          },
          (err: unknown) => finish(() => reject(err instanceof Error ? err : new Error(errorMessage(err)))),
        );
    });
  }

  private apply(ev: WatchEvent): void {
    const rv = ev.object.metadata?.resourceVersion;
    if (ev.type === 'BOOKMARK') {
      if (rv !== undefined) this.resourceVersion = rv;
      return;
    }
    const obj = ev.object as T;
    const k = keyString(keyOf(obj));
    if (ev.type === 'DELETED') {
      const old = this.cache.get(k);
      this.remove(k, old ?? obj);
      this.emit('delete', this.prepare(obj));
    } else {
      this.upsert(k, obj);
    }
    if (rv !== undefined) this.resourceVersion = rv;
  }

  /** Strips managedFields and applies the transform: what arrives from the apiserver, as the cache keeps it. */
  private prepare(obj: T): T {
    if (this.opts.keepManagedFields !== true && obj.metadata?.managedFields !== undefined) {
      delete obj.metadata.managedFields;
    }
    // The transform returns the same kind of object it was given.
    return this.opts.transform === undefined ? obj : (this.opts.transform(obj) as T);
  }

  private upsert(k: string, raw: T): void {
    const old = this.cache.get(k);
    if (old !== undefined && old.metadata?.resourceVersion === raw.metadata?.resourceVersion) return;
    const obj = this.prepare(raw);
    if (old !== undefined) this.unindex(k, old);
    this.cache.set(k, obj);
    this.index(k, obj);
    if (old === undefined) this.emit('add', obj);
    else this.emit('update', obj, old);
  }

  private remove(k: string, obj: T): void {
    this.cache.delete(k);
    this.unindex(k, obj);
  }

  private index(k: string, obj: T): void {
    for (const idx of this.indexes.values()) addKeys(idx.keys, idx.fn(obj), k);
  }

  private unindex(k: string, obj: T): void {
    for (const idx of this.indexes.values()) dropKeys(idx.keys, idx.fn(obj), k);
  }

  private emit(kind: 'add' | 'delete' | 'resync', obj: T): void;
  private emit(kind: 'update', obj: T, old: T): void;
  private emit(kind: keyof InformerHandlers<T>, obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        if (kind === 'update') h.update?.(obj, old as T);
        else h[kind]?.(obj);
      } catch (err) {
        this.log?.error({ err: errorMessage(err), event: kind }, 'Informer handler failed');
      }
    }
  }
}

/** The built-in index behind {@link Informer.byOwner}. */
const OWNER_INDEX = 'owner-uid';

function ownerUids(o: KubeObject): string[] {
  return (o.metadata?.ownerReferences ?? []).map((r) => r.uid);
}

function addKeys(index: Map<string, Set<string>>, values: readonly string[], k: string): void {
  for (const v of values) {
    let set = index.get(v);
    if (set === undefined) index.set(v, (set = new Set()));
    set.add(k);
  }
}

function dropKeys(index: Map<string, Set<string>>, values: readonly string[], k: string): void {
  for (const v of values) {
    const set = index.get(v);
    set?.delete(k);
    if (set?.size === 0) index.delete(v);
  }
}
