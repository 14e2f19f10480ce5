// Unit tests of the off-queue activity checks on a fake clock, with resolvers that answer, fail or never answer.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Activity, ActivityResolver, ActivityTarget } from './activity.js';
import { ActivityMonitor, type LabKey } from './monitor.js';

const target = (name: string): ActivityTarget => ({
  namespace: 'nb',
  name,
  owner: 'alice',
  service: `${name}-lab`,
  basePath: `/user/alice/${name}/`,
  token: 't',
});
const key = (name: string): LabKey => ({ namespace: 'nb', name });

/** A resolver whose answers the test hands out: each call waits until `answer` or never. */
function controlled(): ActivityResolver & {
  calls: string[];
  answer(name: string, a: Activity | undefined | Error): void;
} {
  const waiting = new Map<string, (a: Activity | undefined | Error) => void>();
  const calls: string[] = [];
  return {
    calls,
    resolve: (t) => {
      calls.push(t.name);
      return new Promise((resolve, reject) =>
        waiting.set(t.name, (a) => (a instanceof Error ? reject(a) : resolve(a))),
      );
    },
    answer: (name, a) => waiting.get(name)?.(a),
  };
}

describe('ActivityMonitor', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-11-21T10:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads at once; a check that never answers ends unknown at the deadline and wakes the lab', async () => {
    const never = controlled();
    const m = new ActivityMonitor({ resolver: never, ttlMs: 30_000, timeoutMs: 2_000 });
    const woken: LabKey[] = [];
    m.subscribe((k) => woken.push(k));
    expect(m.read(target('a'))).toEqual({ freshness: 'unknown', failure: 'not checked yet' });
    expect(m.read(target('a')).freshness).toBe('unknown');
    expect(never.calls).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(woken).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(woken).toEqual([key('a')]);
    expect(m.read(target('a'))).toEqual({
      freshness: 'unknown',
      failure: 'no answer within 2000 ms',
    });
    // The failure is a result too: no new check before the TTL.
    expect(never.calls).toEqual(['a']);
    expect(m.backlog).toBe(0);
  });

  it('caches an answer for the TTL, then reads it stale while a new check runs', async () => {
    const r = controlled();
    const m = new ActivityMonitor({ resolver: r, ttlMs: 30_000 });
    const woken: string[] = [];
    m.subscribe((k) => woken.push(k.name));
    m.read(target('a'));
    const seen = { lastActivity: new Date('2026-11-21T09:59:00Z') };
    r.answer('a', seen);
    await vi.advanceTimersByTimeAsync(0);
    expect(woken).toEqual(['a']);
    expect(m.read(target('a'))).toEqual({ freshness: 'fresh', activity: seen });
    await vi.advanceTimersByTimeAsync(29_999);
    expect(m.read(target('a')).freshness).toBe('fresh');
    expect(r.calls).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(1);
    expect(m.read(target('a'))).toEqual({ freshness: 'stale', activity: seen });
    expect(r.calls).toEqual(['a', 'a']);
  });

  it('reads errors and non-answers as unknown', async () => {
    const r = controlled();
    const m = new ActivityMonitor({ resolver: r, ttlMs: 30_000 });
    m.read(target('a'));
    m.read(target('b'));
    r.answer('a', new Error('getaddrinfo ENOTFOUND a-lab.nb.svc'));
    r.answer('b', undefined);
    await vi.advanceTimersByTimeAsync(0);
    expect(m.read(target('a'))).toEqual({
      freshness: 'unknown',
      failure: 'getaddrinfo ENOTFOUND a-lab.nb.svc',
    });
    expect(m.read(target('b'))).toEqual({
      freshness: 'unknown',
      failure: 'the Jupyter server did not report its activity',
    });
  });

  it('runs at most `concurrency` checks, the rest in order as slots free', async () => {
    const never = controlled();
    const m = new ActivityMonitor({ resolver: never, ttlMs: 30_000, timeoutMs: 2_000, concurrency: 2 });
    for (const n of ['a', 'b', 'c', 'd', 'e']) m.read(target(n));
    expect(never.calls).toEqual(['a', 'b']);
    expect(m.backlog).toBe(5);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(never.calls).toEqual(['a', 'b', 'c', 'd']);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(never.calls).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(m.backlog).toBe(0);
  });

  it('a lab forgotten during its check keeps no result and is not woken', async () => {
    const r = controlled();
    const m = new ActivityMonitor({ resolver: r, ttlMs: 30_000 });
    const woken: string[] = [];
    m.subscribe((k) => woken.push(k.name));
    m.read(target('a'));
    m.forget(key('a'));
    r.answer('a', { lastActivity: new Date() });
    await vi.advanceTimersByTimeAsync(0);
    expect(woken).toEqual([]);
    expect(m.backlog).toBe(0);
    expect(m.read(target('a'))).toEqual({ freshness: 'unknown', failure: 'not checked yet' });
  });
});
