// Leader-election logic against an in-memory Lease store with compare-and-swap: on a fake clock, to the
// millisecond; one test on the real clock with short timings.
import { describe, expect, it } from 'vitest';
import { TransientError } from '../errors.js';
import type { KubeObject, ObjectRef } from '../kube/client.js';
import { FakeClock, type Clock } from './clock.js';
import { LeaderElector, type Lease, type LeaseStore } from './leader.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One Lease with resourceVersion CAS, like the apiserver; `down` makes every call fail. */
class MemoryStore implements LeaseStore {
  lease: Lease | undefined;
  rv = 0;
  down = false;
  writes = 0;

  get<T extends KubeObject>(_ref: ObjectRef): Promise<T | undefined> {
    if (this.down) return Promise.reject(new TransientError('ApiUnreachable', 'down'));
    return Promise.resolve(this.lease === undefined ? undefined : (structuredClone(this.lease) as T));
  }
  create<T extends KubeObject>(obj: T): Promise<T> {
    if (this.down) return Promise.reject(new TransientError('ApiUnreachable', 'down'));
    if (this.lease !== undefined) return Promise.reject(new TransientError('Conflict', 'exists'));
    return Promise.resolve(this.store(obj) as T);
  }
  replace<T extends KubeObject>(obj: T): Promise<T> {
    if (this.down) return Promise.reject(new TransientError('ApiUnreachable', 'down'));
    if (obj.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) {
      return Promise.reject(Object.assign(new Error('conflict'), { code: 409 }));
    }
    return Promise.resolve(this.store(obj) as T);
  }
  private store(obj: KubeObject): Lease {
    this.writes++;
    this.lease = {
      ...structuredClone(obj),
      metadata: { ...obj.metadata, resourceVersion: String(++this.rv) },
    };
    return structuredClone(this.lease);
  }
}

const timings = { leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 100 };
const mk = (store: LeaseStore, identity: string, log: string[] = [], clock?: Clock): LeaderElector =>
  new LeaderElector(store, {
    name: 'l',
    namespace: 'ns',
    identity,
    ...timings,
    ...(clock === undefined ? {} : { clock }),
    onStartedLeading: () => log.push(`${identity}+`),
    onStoppedLeading: () => log.push(`${identity}-`),
  });

describe('LeaderElector', () => {
  it('validates timings', () => {
    expect(
      () =>
        new LeaderElector(new MemoryStore(), {
          name: 'l',
          namespace: 'n',
          identity: 'a',
          leaseDurationMs: 10,
          renewDeadlineMs: 10,
          retryPeriodMs: 1,
        }),
    ).toThrow(/leaseDuration > renewDeadline > retryPeriod/);
  });

  it('creates the lease, renews it, and the standby waits (real clock)', async () => {
    const store = new MemoryStore();
    const a = mk(store, 'a');
    const b = mk(store, 'b');
    a.start();
    await sleep(50);
    b.start();
    await sleep(700); // longer than the lease: renewals keep it alive
    expect(a.isLeader).toBe(true);
    expect(b.isLeader).toBe(false);
    expect(store.lease?.spec?.holderIdentity).toBe('a');
    expect(store.writes).toBeGreaterThan(4);
    await a.stop();
    await b.stop();
  });

  it('steps down when it cannot renew within the deadline, and a standby takes over after the lease', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore();
    const log: string[] = [];
    const a = mk(store, 'a', log, clock);
    a.start();
    await clock.advance(0);
    expect(a.isLeader).toBe(true);
    store.down = true;
    // Renewed at 0; the retries at 100..400 fail; at 500 it is more than renewDeadline (400 ms) since the renewal.
    await clock.advance(499);
    expect(a.isLeader).toBe(true);
    await clock.advance(1);
    expect(a.isLeader).toBe(false);
    expect(log).toEqual(['a+', 'a-']);
    await a.stop({ release: false });
    store.down = false;
    const b = mk(store, 'b', log, clock);
    b.start();
    // b sees the record for the first time at 500, but its renewTime (0) counts: the declared 1 s lease expires at
    // 1000 — long before b's own observation would expire it (1500). b retries every 100 ms from 500; at 1000 the
    // lease is not yet past expiry, so b sleeps the 50 ms minimum and takes it at 1050.
    await clock.advance(549);
    expect(b.isLeader).toBe(false);
    await clock.advance(1);
    expect(b.isLeader).toBe(true);
    expect(store.lease?.spec?.leaseTransitions).toBe(1);
    expect(store.lease?.spec?.renewTime).toBe('2026-01-01T00:00:01.050000Z');
    await b.stop();
  });

  it('releases on stop so the standby takes over at its next retry', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore();
    const a = mk(store, 'a', [], clock);
    const b = mk(store, 'b', [], clock);
    a.start();
    await clock.advance(50);
    b.start();
    await clock.advance(150);
    expect(b.isLeader).toBe(false);
    await a.stop();
    expect(store.lease?.spec?.holderIdentity).toBeNull();
    // b tried at 50, 150 and retries at 250: the released lease (no holder) is free to take.
    await clock.advance(49);
    expect(b.isLeader).toBe(false);
    await clock.advance(1);
    expect(b.isLeader).toBe(true);
    expect(store.lease?.spec?.holderIdentity).toBe('b');
    await b.stop();
  });
});
