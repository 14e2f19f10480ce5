// The fake clock the runtime's timing tests rely on: order, intervals, cancellation, timers set while advancing.
import { describe, expect, it } from 'vitest';
import { FakeClock, realClock, sleep } from './clock.js';

describe('FakeClock', () => {
  it('fires due timers in order of due time, then of creation, with now() at each due time', async () => {
    const clock = new FakeClock(1_000);
    const fired: string[] = [];
    const at = (name: string) => () => fired.push(`${name}@${clock.now()}`);
    clock.setTimeout(at('c'), 30);
    clock.setTimeout(at('a'), 10);
    clock.setTimeout(at('b'), 10);
    clock.setTimeout(at('late'), 31);
    await clock.advance(30);
    expect(fired).toEqual(['a@1010', 'b@1010', 'c@1030']);
    expect(clock.now()).toBe(1_030);
    expect(clock.timers).toBe(1);
    await clock.advance(1);
    expect(fired.at(-1)).toBe('late@1031');
    expect(clock.timers).toBe(0);
  });

  it('repeats intervals until cancelled, and a cancelled timer never fires', async () => {
    const clock = new FakeClock(0);
    let ticks = 0;
    const interval = clock.setInterval(() => ticks++, 25);
    const never = clock.setTimeout(() => {
      throw new Error('cancelled timer fired');
    }, 5);
    never.cancel();
    await clock.advance(99);
    expect(ticks).toBe(3);
    await clock.advance(1);
    expect(ticks).toBe(4);
    interval.cancel();
    await clock.advance(1_000);
    expect(ticks).toBe(4);
  });

  it('runs what an awaited sleep schedules next within the same advance', async () => {
    const clock = new FakeClock(0);
    const wakes: number[] = [];
    void (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(clock, 10);
        wakes.push(clock.now());
      }
    })();
    await clock.advance(25);
    expect(wakes).toEqual([10, 20]);
    await clock.advance(5);
    expect(wakes).toEqual([10, 20, 30]);
  });

  it('next() jumps to the next timer; advance refuses to go back', async () => {
    const clock = new FakeClock(0);
    clock.setTimeout(() => undefined, 500);
    expect(await clock.next()).toBe(true);
    expect(clock.now()).toBe(500);
    expect(await clock.next()).toBe(false);
    await expect(clock.advance(-1)).rejects.toThrow(/cannot move a clock back/);
  });

  it('sleep ends at once when its signal aborts, cancelling its timer', async () => {
    const clock = new FakeClock(0);
    const ctl = new AbortController();
    const done = sleep(clock, 60_000, ctl.signal);
    expect(clock.timers).toBe(1);
    ctl.abort();
    await done;
    expect(clock.timers).toBe(0);
    expect(clock.now()).toBe(0);
  });
});

describe('realClock', () => {
  it('tells wall time and fires real timers', async () => {
    const before = Date.now();
    expect(realClock.now()).toBeGreaterThanOrEqual(before);
    const t0 = performance.now();
    await sleep(realClock, 20);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(19);
    let fired = false;
    realClock.setTimeout(() => (fired = true), 1).cancel();
    await sleep(realClock, 5);
    expect(fired).toBe(false);
  });
});
