// Rate limiters for the work queue, after client-go's DefaultTypedControllerRateLimiter.
import { realClock, type Clock } from './clock.js';

/** Decides how long a key waits before its next retry. */
export interface RateLimiter {
  /** Delay in milliseconds before `key` may be processed again; counts one more failure. */
  when(key: string): number;
  /** Forgets the failure history of `key` (after a success). */
  forget(key: string): void;
  /** Failures recorded for `key` since the last `forget`. */
  numRequeues(key: string): number;
}

/** Options of the default controller rate limiter. */
export interface RateLimiterOptions {
  /** First per-key delay; doubles on each failure (default 5 ms). */
  baseDelayMs?: number;
  /** Cap of the per-key delay (default 1000 s). */
  maxDelayMs?: number;
  /** Overall token-bucket rate in retries per second (default 10). */
  qps?: number;
  /** Overall token-bucket burst (default 100). */
  burst?: number;
}

/** Per-key exponential backoff: `base * 2^failures`, capped at `max`. */
export class ExponentialRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    readonly baseDelayMs = 5,
    readonly maxDelayMs = 1_000_000,
  ) {
    if (baseDelayMs <= 0 || maxDelayMs < baseDelayMs) {
      throw new RangeError(`invalid backoff: base ${baseDelayMs} ms, max ${maxDelayMs} ms`);
    }
  }

  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // Cap the exponent before Math.pow so a long-failing key cannot overflow to Infinity.
    const delay = this.baseDelayMs * 2 ** Math.min(n, 60);
    return Math.min(delay, this.maxDelayMs);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/** An overall token bucket shared by all keys: smooths retry storms across many failing keys. */
export class TokenBucketRateLimiter implements RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    readonly qps = 10,
    readonly burst = 100,
    private readonly now: () => number = () => realClock.now(),
  ) {
    if (qps <= 0 || burst < 1) throw new RangeError(`invalid token bucket: qps ${qps}, burst ${burst}`);
    this.tokens = burst;
    this.last = now();
  }

  when(_key: string): number {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
    // Reserve a token now, even if it is only available in the future (like rate.Limiter.Reserve).
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }
}

/** The maximum of several limiters' delays (client-go's MaxOfRateLimiter). */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string): number {
    return Math.max(0, ...this.limiters.map((l) => l.when(key)));
  }

  forget(key: string): void {
    for (const l of this.limiters) l.forget(key);
  }

  numRequeues(key: string): number {
    return Math.max(0, ...this.limiters.map((l) => l.numRequeues(key)));
  }
}

/** The default: max(per-key exponential 5 ms → 1000 s, token bucket 10 qps / burst 100); the bucket refills on `clock`. */
export function defaultRateLimiter(opts: RateLimiterOptions = {}, clock: Clock = realClock): RateLimiter {
  return new MaxOfRateLimiter(
    new ExponentialRateLimiter(opts.baseDelayMs ?? 5, opts.maxDelayMs ?? 1_000_000),
    new TokenBucketRateLimiter(opts.qps ?? 10, opts.burst ?? 100, () => clock.now()),
  );
}
