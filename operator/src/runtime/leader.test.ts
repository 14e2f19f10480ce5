// Leader-election logic against an in-memory Lease store with compare-and-swap, on short timings.
import { describe, expect, it } from 'vitest';
import { TransientError } from '../errors.js';
import type { KubeObject, ObjectRef } from '../kube/client.js';
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
const mk = (store: LeaseStore, identity: string, log: string[] = []): LeaderElector =>
  new LeaderElector(store, {
    name: 'l',
    namespace: 'ns',
    identity,
    ...timings,
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

  it('creates the lease, renews it, and the standby waits', async () => {
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
    const store = new MemoryStore();
    const log: string[] = [];
    const a = mk(store, 'a', log);
    a.start();
    await sleep(50);
    expect(a.isLeader).toBe(true);
    store.down = true;
    await sleep(650);
    expect(a.isLeader).toBe(false);
    expect(log).toEqual(['a+', 'a-']);
    await a.stop({ release: false });
    store.down = false;
    const b = mk(store, 'b', log);
    b.start();
    // b saw the record for the first time just now, but its renewTime (> 650 ms ago) counts: the declared
    // 1 s lease runs out within ~350 ms, long before b's own observation would expire it.
    await sleep(500);
    expect(b.isLeader).toBe(true);
    expect(store.lease?.spec?.leaseTransitions).toBe(1);
    await b.stop();
  });

  it('releases on stop so the standby takes over at its next retry', async () => {
    const store = new MemoryStore();
    const a = mk(store, 'a');
    const b = mk(store, 'b');
    a.start();
    await sleep(50);
    b.start();
    await sleep(150);
    await a.stop();
    expect(store.lease?.spec?.holderIdentity).toBeNull();
    await sleep(250);
    expect(b.isLeader).toBe(true);
    await b.stop();
  });
});
