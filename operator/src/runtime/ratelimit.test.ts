// Rate limiter maths: exponential growth and cap, token bucket burst and refill, max-of combination.
import { describe, expect, it } from 'vitest';
import {
  ExponentialRateLimiter,
  MaxOfRateLimiter,
  TokenBucketRateLimiter,
  defaultRateLimiter,
} from './ratelimit.js';
import { FakeClock } from './clock.js';

describe('ExponentialRateLimiter', () => {
  it('doubles from the base and stops at the cap', () => {
    const l = new ExponentialRateLimiter(5, 1_000_000);
    const delays = Array.from({ length: 22 }, () => l.when('k'));
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    // 5 ms * 2^18 = 1310.72 s > 1000 s: capped from the 19th failure on.
    expect(delays[17]).toBe(5 * 2 ** 17);
    expect(delays[18]).toBe(1_000_000);
    expect(delays[21]).toBe(1_000_000);
  });

  it('never overflows for a key that fails forever', () => {
    const l = new ExponentialRateLimiter(5, 60_000);
    let last = 0;
    for (let i = 0; i < 5000; i++) last = l.when('k');
    expect(last).toBe(60_000);
  });

  it('rejects a cap below the base', () => {
    expect(() => new ExponentialRateLimiter(10, 5)).toThrow(/invalid backoff/);
  });
});

describe('TokenBucketRateLimiter', () => {
  it('allows a burst, then spaces retries at 1/qps', () => {
    let t = 0;
    const l = new TokenBucketRateLimiter(10, 3, () => t);
    expect([l.when('a'), l.when('b'), l.when('c')]).toEqual([0, 0, 0]);
    expect(l.when('d')).toBeCloseTo(100, 5);
    expect(l.when('e')).toBeCloseTo(200, 5);
    t += 1000; // refills 10 tokens, capped at the burst of 3, minus the 2 reserved
    expect(l.when('f')).toBe(0);
  });
});

describe('MaxOfRateLimiter / default', () => {
  it('takes the larger delay of its limiters', () => {
    let t = 0;
    const l = new MaxOfRateLimiter(
      new ExponentialRateLimiter(5, 1000),
      new TokenBucketRateLimiter(1, 1, () => t),
    );
    expect(l.when('a')).toBe(5);
    expect(l.when('b')).toBeCloseTo(1000, 5);
    t += 10_000;
    l.forget('a');
    expect(l.numRequeues('a')).toBe(0);
  });

  it("default's token bucket refills on the clock it is given", async () => {
    const clock = new FakeClock();
    const l = defaultRateLimiter({ qps: 1, burst: 1 }, clock);
    expect(l.when('a')).toBe(5);
    expect(l.when('b')).toBe(1000); // the one token is spent: 1 qps
    await clock.advance(3000); // 3 tokens repay b's reservation and fill the bucket to its burst of 1
    expect(l.when('c')).toBe(5);
    expect(l.when('d')).toBe(1000);
  });

  it('default is 5 ms per key with the 10 qps / 100 burst bucket', () => {
    const l = defaultRateLimiter();
    expect(l.when('x')).toBe(5);
    expect(l.when('x')).toBe(10);
    expect(l.numRequeues('x')).toBe(2);
  });
});
