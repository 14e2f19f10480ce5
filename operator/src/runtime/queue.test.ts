// Work-queue semantics: merge, one in-flight run per key, delayed adds, rate-limited retries, drain. Delays run on a
// fake clock; the concurrent-workers test runs in real time.
import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { WorkQueue } from './queue.js';
import { ExponentialRateLimiter } from './ratelimit.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Lets pending promise callbacks run. */
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('WorkQueue', () => {
  it('merges duplicate adds of a waiting key', async () => {
    const q = new WorkQueue({ name: 't' });
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    q.done('a');
    q.done('b');
    expect(q.length).toBe(0);
  });

  it('serves urgent keys before normal ones, FIFO within each lane', async () => {
    const q = new WorkQueue({ name: 't' });
    q.add('n1');
    q.add('n2');
    q.add('u1', 'urgent');
    q.add('n3');
    q.add('u2', 'urgent');
    expect(q.length).toBe(5);
    const order: (string | undefined)[] = [];
    for (let i = 0; i < 5; i++) order.push(await q.get());
    expect(order).toEqual(['u1', 'u2', 'n1', 'n2', 'n3']);
    for (const k of order) q.done(k ?? '');
    expect(q.length).toBe(0);
  });

  it('moves a waiting normal key up on an urgent add, once, and never down', async () => {
    const q = new WorkQueue({ name: 't' });
    q.add('a');
    q.add('b');
    q.add('c');
    q.add('c', 'urgent');
    q.add('c', 'urgent');
    q.add('b', 'normal');
    expect(q.length).toBe(3);
    expect(await q.get()).toBe('c');
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    // The promoted key's old place in the normal lane is not served again.
    q.add('x');
    expect(await q.get()).toBe('x');
    expect(q.length).toBe(0);
  });

  it('re-queues a key added urgently while in flight in the urgent lane', async () => {
    const q = new WorkQueue({ name: 't' });
    q.add('a');
    q.add('b');
    expect(await q.get()).toBe('a');
    q.add('a', 'urgent');
    expect(q.length).toBe(1);
    q.done('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands one key to two workers; a re-add while in flight is queued on done', async () => {
    const q = new WorkQueue({ name: 't' });
    q.add('a');
    const first = await q.get();
    expect(first).toBe('a');
    q.add('a');
    q.add('a');
    // In flight: the re-adds are parked, not queued.
    expect(q.length).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await flush();
    expect(second).toBeUndefined();
    q.done('a');
    await flush();
    expect(second).toBe('a');
    q.done('a');
    expect(q.length).toBe(0);
    expect(q.inFlight).toBe(0);
  });

  it('runs at most one reconcile per key under concurrent workers (real time)', async () => {
    const q = new WorkQueue({ name: 't' });
    const active = new Map<string, number>();
    let maxPerKey = 0;
    let processed = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const k = await q.get();
        if (k === undefined) return;
        active.set(k, (active.get(k) ?? 0) + 1);
        maxPerKey = Math.max(maxPerKey, active.get(k) ?? 0);
        await sleep(2);
        active.set(k, (active.get(k) ?? 0) - 1);
        processed++;
        q.done(k);
      }
    };
    const workers = [worker(), worker(), worker(), worker()];
    // Ten bursts of 15 adds over three keys: each burst merges into at most one queued run per key.
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 15; i++) q.add(`k${i % 3}`);
      await sleep(3);
    }
    await q.shutDownWithDrain(5000);
    await Promise.all(workers);
    expect(maxPerKey).toBe(1);
    // Merging means far fewer runs than adds, but every key ran at least once after its last add.
    expect(processed).toBeGreaterThanOrEqual(3);
    expect(processed).toBeLessThanOrEqual(60);
  });

  it('addAfter delays the add and the earliest pending time wins', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ name: 't', clock });
    q.addAfter('a', 200);
    q.addAfter('a', 30);
    q.addAfter('a', 500);
    expect(q.delayed).toBe(1);
    // The 200 ms add was replaced by the earlier one; the 500 ms add never scheduled.
    expect(clock.timers).toBe(1);
    await clock.advance(29);
    expect(q.length).toBe(0);
    await clock.advance(1);
    expect(q.length).toBe(1);
    expect(q.delayed).toBe(0);
    expect(await q.get()).toBe('a');
    q.done('a');
    await clock.advance(1000);
    expect(q.length).toBe(0);
  });

  it('addRateLimited adds the key after the backoff', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ name: 't', clock, rateLimiter: new ExponentialRateLimiter(5, 1000) });
    q.addRateLimited('a');
    q.addRateLimited('a'); // 10 ms: the pending 5 ms add wins
    await clock.advance(4);
    expect(q.length).toBe(0);
    await clock.advance(1);
    expect(q.length).toBe(1);
    expect(q.numRequeues('a')).toBe(2);
  });

  it('addRateLimited backs off per key and forget resets it', () => {
    const q = new WorkQueue({ name: 't', rateLimiter: new ExponentialRateLimiter(5, 1000) });
    expect(q.addRateLimited('a')).toBe(5);
    expect(q.addRateLimited('a')).toBe(10);
    expect(q.addRateLimited('a')).toBe(20);
    expect(q.addRateLimited('b')).toBe(5);
    expect(q.numRequeues('a')).toBe(3);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
    expect(q.addRateLimited('a')).toBe(5);
    q.shutDown();
  });

  it('drains ready and in-flight keys on shutdown, then get yields undefined', async () => {
    const q = new WorkQueue({ name: 't' });
    q.add('a');
    q.add('b');
    q.addAfter('late', 50);
    const k = await q.get();
    expect(k).toBe('a');
    const drained = q.shutDownWithDrain(2000);
    q.add('c'); // ignored after shutdown
    expect(await q.get()).toBe('b');
    q.done('a');
    q.done('b');
    expect(await drained).toBe(true);
    expect(await q.get()).toBeUndefined();
    expect(q.delayed).toBe(0);
  });

  it('shutDownWithDrain times out when a key never finishes', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ name: 't', clock });
    q.add('stuck');
    await q.get();
    let drained: boolean | undefined;
    void q.shutDownWithDrain(30).then((d) => (drained = d));
    await clock.advance(29);
    expect(drained).toBeUndefined();
    await clock.advance(1);
    expect(drained).toBe(false);
    expect(clock.timers).toBe(0);
  });

  it('wakes blocked getters with undefined on shutdown', async () => {
    const q = new WorkQueue({ name: 't' });
    const pending = q.get();
    q.shutDown();
    expect(await pending).toBeUndefined();
  });

  it('reports metrics hooks', async () => {
    const seen = { adds: 0, retries: 0, depth: [] as number[], latency: 0, work: 0 };
    const q = new WorkQueue({
      name: 't',
      metrics: {
        add: () => seen.adds++,
        retry: () => seen.retries++,
        depth: (n) => seen.depth.push(n),
        queueLatency: () => seen.latency++,
        workDuration: () => seen.work++,
      },
    });
    q.add('a');
    q.add('a');
    q.addRateLimited('b');
    const k = await q.get();
    q.done(k ?? '');
    expect(seen.adds).toBe(2);
    expect(seen.retries).toBe(1);
    expect(seen.latency).toBe(1);
    expect(seen.work).toBe(1);
    expect(seen.depth).toContain(1);
    q.shutDown();
  });
});
