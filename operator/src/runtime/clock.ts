// Time for the runtime (queue delays, rate limiter, informer resync and backoff, leader election): the real clock,
// and a fake one that tests move forward by hand so timing logic is checked without sleeping.

/** A scheduled callback. */
export interface ClockTimer {
  /** Stops the timer; a no-op once a one-shot timer has fired. */
  cancel(): void;
  /** Lets the process exit while the timer is pending (Node's `unref`); returns the timer. */
  unref(): ClockTimer;
}

/** The time source and timers the runtime uses instead of `Date.now()` and `setTimeout`. */
export interface Clock {
  /** Milliseconds since the epoch (wall time: lease timestamps are compared across replicas). */
  now(): number;
  /** Calls `fn` once after `ms`. */
  setTimeout(fn: () => void, ms: number): ClockTimer;
  /** Calls `fn` every `ms` until cancelled. */
  setInterval(fn: () => void, ms: number): ClockTimer;
}

/** Resolves after `ms` on `clock`, or at once when `signal` aborts (then the timer is cancelled). */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      timer.cancel();
      resolve();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function wrap(t: NodeJS.Timeout, clear: (t: NodeJS.Timeout) => void): ClockTimer {
  const timer: ClockTimer = {
    cancel: () => clear(t),
    unref: () => {
      t.unref();
      return timer;
    },
  };
  return timer;
}

/** The process clock: `Date.now()` and Node's timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => wrap(setTimeout(fn, ms), clearTimeout),
  setInterval: (fn, ms) => wrap(setInterval(fn, ms), clearInterval),
};

interface Pending {
  readonly id: number;
  at: number;
  readonly fn: () => void;
  readonly every: number | undefined;
}

/**
 * A clock that moves only when told: `advance(ms)` runs every timer that falls due on the way, in order of due time
 * (then of creation), with time set to each timer's due time as it runs, and lets promise callbacks settle between
 * timers, so code that awaits a sleep and then sets the next timer runs as it would in real time.
 */
export class FakeClock implements Clock {
  private t: number;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  /** Starts at `start` ms since the epoch (default 2026-01-01T00:00:00Z). */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    return this.schedule(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): ClockTimer {
    // A zero period would fire forever within one advance.
    return this.schedule(fn, ms, Math.max(1, ms));
  }

  /** Timers waiting to fire. */
  get timers(): number {
    return this.pending.size;
  }

  /** Moves time forward by `ms`, running the timers due on the way (see the class comment). */
  async advance(ms: number): Promise<void> {
    if (ms < 0) throw new RangeError(`cannot move a clock back (${ms} ms)`);
    const end = this.t + ms;
    await settle();
    for (let next = this.due(end); next !== undefined; next = this.due(end)) {
      this.t = Math.max(this.t, next.at);
      if (next.every === undefined) this.pending.delete(next.id);
      else next.at += next.every;
      next.fn();
      await settle();
    }
    this.t = end;
  }

  /** Advances to the next pending timer and runs it (and any due at the same time); false when none is pending. */
  async next(): Promise<boolean> {
    await settle();
    const first = this.due(Infinity);
    if (first === undefined) return false;
    await this.advance(first.at - this.t);
    return true;
  }

  private schedule(fn: () => void, ms: number, every: number | undefined): ClockTimer {
    const id = this.nextId++;
    this.pending.set(id, { id, at: this.t + Math.max(0, ms), fn, every });
    const timer: ClockTimer = { cancel: () => this.pending.delete(id), unref: () => timer };
    return timer;
  }

  /** The earliest timer due at or before `end` (ties: the one created first). */
  private due(end: number): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.pending.values()) {
      if (p.at <= end && (best === undefined || p.at < best.at || (p.at === best.at && p.id < best.id)))
        best = p;
    }
    return best;
  }
}

/** Lets every queued promise callback run: one macrotask turn drains the microtask queue. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
