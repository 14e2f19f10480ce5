// Keyed work queue with client-go semantics: dedup, one in-flight run per key, delayed and rate-limited adds.
import { realClock, type Clock, type ClockTimer } from './clock.js';
import { defaultRateLimiter, type RateLimiter } from './ratelimit.js';

/** Hooks the queue calls so metrics stay out of its logic (see `metrics.ts`). */
export interface WorkQueueMetrics {
  /** Depth changed (number of keys ready and not in flight). */
  depth(n: number): void;
  /** A key was added (including merged duplicates). */
  add(): void;
  /** A key was re-added through the rate limiter. */
  retry(): void;
  /** A key waited `seconds` in the queue before a worker took it. */
  queueLatency(seconds: number): void;
  /** A worker held a key for `seconds`. */
  workDuration(seconds: number): void;
}

/** Options of {@link WorkQueue}. */
export interface WorkQueueOptions {
  /** Name used in metrics and logs. */
  name: string;
  /** Limiter for {@link WorkQueue.addRateLimited}; default {@link defaultRateLimiter}. */
  rateLimiter?: RateLimiter;
  metrics?: WorkQueueMetrics;
  /** Timers of delayed adds and of the drain timeout (default the real clock). Metrics time with `performance`. */
  clock?: Clock;
}

/**
 * How soon a key should run. `urgent` keys go before every `normal` one: controllers add a key as urgent when one
 * of its children changed (work in progress moves on: a bound claim lets a Pod be created, a ready Pod makes a lab
 * Running) and as normal for the object's own events, resyncs and retries — so a burst of new objects does not
 * hold back the objects already under way (as controller-runtime's priority queue ranks its initial list low).
 */
export type Priority = 'urgent' | 'normal';

/** Keys ready for a worker, in two FIFO lanes; the urgent lane is always served first. */
class ReadyKeys {
  private readonly lanes: Record<Priority, string[]> = { urgent: [], normal: [] };
  private readonly laneOf = new Map<string, Priority>();

  get size(): number {
    return this.laneOf.size;
  }

  /** Adds `key` to a lane, or moves it up to `urgent`; a key already urgent stays where it is. */
  push(key: string, priority: Priority): void {
    const cur = this.laneOf.get(key);
    if (cur === 'urgent' || cur === priority) return;
    this.laneOf.set(key, priority);
    // A promoted key leaves a stale entry in the normal lane; shift() skips it.
    this.lanes[priority].push(key);
  }

  shift(): string | undefined {
    for (const lane of ['urgent', 'normal'] as const) {
      const keys = this.lanes[lane];
      for (let k = keys.shift(); k !== undefined; k = keys.shift()) {
        if (this.laneOf.get(k) !== lane) continue;
        this.laneOf.delete(k);
        return k;
      }
    }
    return undefined;
  }
}

/**
 * A queue of string keys. Semantics, as client-go's workqueue:
 * - adding a key that is already waiting does nothing (duplicates merge);
 * - adding a key that is being processed marks it dirty; it is queued again when `done` is called,
 *   so one key is never processed by two workers at once, and no change is lost;
 * - `addAfter` waits before adding (the earliest pending time wins); `addRateLimited` uses the limiter;
 * - after `shutDown`, `get` resolves `undefined` once the ready keys are drained, and delayed adds are dropped.
 */
export class WorkQueue {
  readonly name: string;
  private readonly queue = new ReadyKeys();
  /** Keys added and not yet taken (waiting, or to be queued again when their run ends), with their priority. */
  private readonly dirty = new Map<string, Priority>();
  private readonly processing = new Set<string>();
  private readonly addedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private readonly waiting = new Map<string, { at: number; timer: ClockTimer }>();
  private readonly getters: ((key: string | undefined) => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private readonly limiter: RateLimiter;
  private readonly metrics: WorkQueueMetrics | undefined;
  private readonly clock: Clock;
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions) {
    this.name = opts.name;
    this.clock = opts.clock ?? realClock;
    this.limiter = opts.rateLimiter ?? defaultRateLimiter({}, this.clock);
    this.metrics = opts.metrics;
  }

  /** Number of keys ready to be handed to a worker. */
  get length(): number {
    return this.queue.size;
  }

  /** Number of keys being processed. */
  get inFlight(): number {
    return this.processing.size;
  }

  /** Number of keys waiting for a delayed add. */
  get delayed(): number {
    return this.waiting.size;
  }

  /** Seconds each in-flight key has been processing (for the unfinished-work metrics). */
  inFlightSeconds(): number[] {
    const now = performance.now();
    return [...this.startedAt.values()].map((t) => (now - t) / 1000);
  }

  /** True after {@link shutDown}. */
  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Adds `key` now (merging with a waiting duplicate, which an urgent add moves up). */
  add(key: string, priority: Priority = 'normal'): void {
    if (this.shuttingDown) return;
    this.metrics?.add();
    const cur = this.dirty.get(key);
    if (cur !== undefined) {
      if (priority === 'urgent' && cur === 'normal') {
        this.dirty.set(key, 'urgent');
        if (!this.processing.has(key)) this.queue.push(key, 'urgent');
      }
      return;
    }
    this.dirty.set(key, priority);
    this.addedAt.set(key, performance.now());
    if (this.processing.has(key)) return;
    this.push(key, priority);
  }

  /** Adds `key` after `delayMs`; an earlier pending add for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + delayMs;
    const prev = this.waiting.get(key);
    if (prev !== undefined) {
      if (prev.at <= at) return;
      prev.timer.cancel();
    }
    // Delayed adds must not keep the process alive after shutdown starts.
    const timer = this.clock
      .setTimeout(() => {
        this.waiting.delete(key);
        this.add(key);
      }, delayMs)
      .unref();
    this.waiting.set(key, { at, timer });
  }

  /** Adds `key` after the rate limiter's delay (a retry after failure). */
  addRateLimited(key: string): number {
    const delay = this.limiter.when(key);
    this.metrics?.retry();
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the failure history of `key` (call after a successful reconcile). */
  forget(key: string): void {
    this.limiter.forget(key);
  }

  /** Failures recorded for `key`. */
  numRequeues(key: string): number {
    return this.limiter.numRequeues(key);
  }

  /**
   * Resolves with the next key, marking it in flight; resolves `undefined` when the queue is shut down and
   * has nothing left. Every key received must be passed to {@link done}.
   */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) return Promise.resolve(this.take(key));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks `key` finished; if it was added again while in flight, it is queued again now. */
  done(key: string): void {
    if (!this.processing.delete(key)) return;
    const started = this.startedAt.get(key);
    this.startedAt.delete(key);
    if (started !== undefined) this.metrics?.workDuration((performance.now() - started) / 1000);
    const again = this.dirty.get(key);
    if (again !== undefined) this.push(key, again);
    else this.checkIdle();
  }

  /** Stops accepting adds and drops delayed adds; workers drain what is ready, then `get` yields undefined. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const w of this.waiting.values()) w.timer.cancel();
    this.waiting.clear();
    if (this.queue.size === 0) {
      for (const g of this.getters.splice(0)) g(undefined);
    }
    this.checkIdle();
  }

  /**
   * Shuts down and resolves once every in-flight key is done and the ready keys are drained
   * (or after `timeoutMs`, resolving `false`).
   */
  async shutDownWithDrain(timeoutMs = 30_000): Promise<boolean> {
    this.shutDown();
    if (this.isIdle()) return true;
    let timer: ClockTimer | undefined;
    const drained = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => {
      timer = this.clock.setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([drained, timeout]);
    } finally {
      timer?.cancel();
    }
  }

  private isIdle(): boolean {
    return this.processing.size === 0 && this.queue.size === 0;
  }

  private checkIdle(): void {
    if (!this.shuttingDown) return;
    if (this.queue.size === 0) {
      for (const g of this.getters.splice(0)) g(undefined);
    }
    if (this.processing.size === 0 && this.queue.size === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private push(key: string, priority: Priority): void {
    const getter = this.getters.shift();
    if (getter !== undefined) {
      getter(this.take(key));
      return;
    }
    this.queue.push(key, priority);
    this.metrics?.depth(this.queue.size);
  }

  private take(key: string): string {
    this.processing.add(key);
    this.dirty.delete(key);
    const added = this.addedAt.get(key);
    this.addedAt.delete(key);
    const now = performance.now();
    if (added !== undefined) this.metrics?.queueLatency((now - added) / 1000);
    this.startedAt.set(key, now);
    this.metrics?.depth(this.queue.size);
    return key;
  }
}
