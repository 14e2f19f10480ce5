// Informer logic against a scripted list/watch source: relist diffs, 410, restarts with backoff, watchdog. Timing
// runs on a fake clock (backoff jitter pinned through Math.random); stopping mid-backoff is checked in real time.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KubeObject, ListResult, WatchEvent, WatchHandle } from '../kube/client.js';
import { FakeClock } from './clock.js';
import { Informer, type ListWatcher } from './informer.js';

/** Lets pending promise callbacks run (a list resolving, a watch opening). */
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

function obj(name: string, rv: string, owner?: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace: 'ns',
      resourceVersion: rv,
      uid: `uid-${name}`,
      ...(owner
        ? { ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'o', uid: owner, controller: true }] }
        : {}),
    },
  };
}

interface OpenWatch {
  rv: string | undefined;
  emit: (e: WatchEvent) => void;
  done: (err: unknown) => void;
  stopped: boolean;
}

/** A scripted apiserver: tests set the list result and drive the open watch. */
class FakeSource implements ListWatcher {
  items: KubeObject[] = [];
  rv = '10';
  listCalls = 0;
  listFailures = 0;
  watchFailures = 0;
  watches: OpenWatch[] = [];

  list<T extends KubeObject>(): Promise<ListResult<T>> {
    this.listCalls++;
    if (this.listFailures > 0) {
      this.listFailures--;
      return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    }
    return Promise.resolve({
      items: this.items.map((i) => structuredClone(i)) as T[],
      resourceVersion: this.rv,
    });
  }

  watch(
    _a: string,
    _k: string,
    opts: { resourceVersion?: string },
    onEvent: (e: WatchEvent) => void,
    onDone: (err: unknown) => void,
  ): Promise<WatchHandle> {
    if (this.watchFailures > 0) {
      this.watchFailures--;
      return Promise.reject(Object.assign(new Error('Service Unavailable'), { statusCode: 503 }));
    }
    const w: OpenWatch = { rv: opts.resourceVersion, emit: onEvent, done: onDone, stopped: false };
    this.watches.push(w);
    return Promise.resolve({ stop: () => (w.stopped = true) });
  }

  get current(): OpenWatch {
    const w = this.watches.at(-1);
    if (w === undefined) throw new Error('no watch open');
    return w;
  }
}

function record(inf: Informer): string[] {
  const log: string[] = [];
  inf.on({
    add: (o) => log.push(`add ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
    update: (o, old) =>
      log.push(`update ${o.metadata?.name}@${old.metadata?.resourceVersion}->${o.metadata?.resourceVersion}`),
    delete: (o) => log.push(`delete ${o.metadata?.name}`),
    resync: (o) => log.push(`resync ${o.metadata?.name}`),
  });
  return log;
}

const fast = { backoff: { initialMs: 10, maxMs: 40 }, resyncPeriodMs: 0 };

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Informer', () => {
  it('lists, signals synced, then watches from the list resourceVersion', async () => {
    const src = new FakeSource();
    src.items = [obj('a', '5'), obj('b', '6')];
    const inf = new Informer(src, { apiVersion: 'v1', kind: 'ConfigMap', ...fast });
    const log = record(inf);
    inf.start();
    await inf.synced;
    expect(inf.hasSynced).toBe(true);
    expect(log).toEqual(['add a@5', 'add b@6']);
    await flush();
    expect(src.current.rv).toBe('10');
    src.current.emit({ type: 'MODIFIED', object: obj('a', '11') });
    src.current.emit({ type: 'MODIFIED', object: obj('a', '11') }); // same rv: no event
    src.current.emit({ type: 'ADDED', object: obj('c', '12') });
    src.current.emit({ type: 'DELETED', object: obj('b', '13') });
    expect(log.slice(2)).toEqual(['update a@5->11', 'add c@12', 'delete b']);
    expect(inf.get({ namespace: 'ns', name: 'a' })?.metadata?.resourceVersion).toBe('11');
    expect(
      inf
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['a', 'c']);
    await inf.stop();
  });

  it('rewatches from the bookmark resourceVersion after a clean close, without relisting', async () => {
    const src = new FakeSource();
    const clock = new FakeClock();
    const inf = new Informer(src, { apiVersion: 'v1', kind: 'ConfigMap', ...fast, clock });
    inf.start();
    await inf.synced;
    await flush();
    src.current.emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '42' } } });
    await clock.advance(1001); // a healthy stream (> 1 s) then a clean server close
    src.current.done(null);
    await clock.advance(0); // no backoff: the rewatch is immediate
    expect(src.watches).toHaveLength(2);
    expect(src.current.rv).toBe('42');
    expect(src.listCalls).toBe(1);
    await inf.stop();
  });

  it('relists on 410 Gone and emits what changed meanwhile, including deletes', async () => {
    const src = new FakeSource();
    src.items = [obj('a', '5'), obj('b', '6')];
    const clock = new FakeClock();
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const inf = new Informer(src, { apiVersion: 'v1', kind: 'ConfigMap', ...fast, clock });
    const log = record(inf);
    inf.start();
    await inf.synced;
    await flush();
    src.items = [obj('a', '20'), obj('d', '21')];
    src.rv = '22';
    src.current.emit({
      type: 'ERROR',
      object: { kind: 'Status', code: 410, message: 'too old resource version' },
    });
    // A 410 right after a list backs off first (10 ms × 0.75 with the jitter pinned), then relists.
    await clock.advance(7);
    expect(src.listCalls).toBe(1);
    await clock.advance(1);
    expect(src.listCalls).toBe(2);
    expect(log.slice(2)).toEqual(['delete b', 'update a@5->20', 'add d@21']);
    expect(src.current.rv).toBe('22');
    expect(inf.restarts).toBe(0);
    await inf.stop();
  });

  it('restarts after any other watch error with growing backoff, and after a failed list', async () => {
    const src = new FakeSource();
    src.listFailures = 2;
    const clock = new FakeClock();
    // Jitter picks a delay in [base/2, base); pinned to 0.75 × base: 7.5, 15, 30, 30 ms for bases 10, 20, 40, 40.
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const inf = new Informer(src, { apiVersion: 'v1', kind: 'ConfigMap', ...fast, clock });
    inf.start();
    await clock.advance(7);
    expect(src.listCalls).toBe(1);
    await clock.advance(1); // 7.5: the second list (fails again), then 15 ms
    expect(src.listCalls).toBe(2);
    await clock.advance(14);
    expect(src.listCalls).toBe(2);
    await clock.advance(1); // 22.5: the third list succeeds
    expect(src.listCalls).toBe(3);
    expect(inf.hasSynced).toBe(true);
    src.watchFailures = 3;
    src.current.done(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    // 1 error + 3 failed rewatches, then a watch opens: 7.5 + 15 + 30 + 30 = 82.5 ms (a good list reset the count).
    await clock.advance(82);
    expect(src.watches).toHaveLength(1);
    await clock.advance(1);
    expect(src.watches).toHaveLength(2);
    expect(inf.restarts).toBe(2 + 4);
    // The rewatch resumes from the last known resourceVersion: no relist needed.
    expect(src.current.rv).toBe('10');
    expect(src.listCalls).toBe(3);
    await inf.stop();
  });

  it('treats an ERROR event other than 410 as a failure and restarts', async () => {
    const src = new FakeSource();
    const clock = new FakeClock();
    const inf = new Informer(src, { apiVersion: 'v1', kind: 'ConfigMap', ...fast, clock });
    inf.start();
    await inf.synced;
    await flush();
    src.current.emit({
      type: 'ERROR',
      object: { kind: 'Status', code: 500, message: 'etcd down' },
    });
    await clock.advance(10); // the first backoff is under 10 ms whatever the jitter
    expect(inf.restarts).toBe(1);
    expect(src.watches.length).toBe(2);
    expect(src.watches[0]?.stopped).toBe(true);
    await inf.stop();
  });

  it('restarts a silent watch through the watchdog', async () => {
    const src = new FakeSource();
    const clock = new FakeClock();
    const inf = new Informer(src, { apiVersion: 'v1', kind: 'ConfigMap', ...fast, watchdogMs: 100, clock });
    inf.start();
    await inf.synced;
    await flush();
    // The watchdog checks every 50 ms (a quarter of 100, at least 50); at 150 the watch has been silent > 100 ms.
    await clock.advance(149);
    expect(inf.restarts).toBe(0);
    await clock.advance(1);
    expect(inf.restarts).toBe(1);
    expect(src.watches[0]?.stopped).toBe(true);
    await clock.advance(10);
    expect(src.watches).toHaveLength(2);
    await inf.stop();
  });

  it('keeps secondary indexes (added before or after the list) in step with updates and deletes', async () => {
    const src = new FakeSource();
    const withLabel = (name: string, rv: string, team: string): KubeObject => ({
      ...obj(name, rv),
      metadata: { ...obj(name, rv).metadata, labels: { team } },
    });
    src.items = [withLabel('a', '1', 'red'), withLabel('b', '2', 'red'), withLabel('c', '3', 'blue')];
    const inf = new Informer(src, { apiVersion: 'v1', kind: 'ConfigMap', ...fast });
    const team = (o: KubeObject): string[] => [o.metadata?.labels?.['team'] ?? ''];
    inf.addIndex('team', team);
    inf.start();
    await inf.synced;
    await flush();
    const names = (os: KubeObject[]): string[] => os.map((o) => o.metadata?.name ?? '').sort();
    expect(names(inf.byIndex('team', 'red'))).toEqual(['a', 'b']);
    // Added after the cache is full: built from what is there.
    inf.addIndex('name', (o) => [o.metadata?.name ?? '']);
    expect(names(inf.byIndex('name', 'c'))).toEqual(['c']);
    src.current.emit({ type: 'MODIFIED', object: withLabel('b', '7', 'blue') });
    src.current.emit({ type: 'DELETED', object: withLabel('a', '8', 'red') });
    src.current.emit({ type: 'ADDED', object: withLabel('d', '9', 'red') });
    expect(names(inf.byIndex('team', 'red'))).toEqual(['d']);
    expect(names(inf.byIndex('team', 'blue'))).toEqual(['b', 'c']);
    expect(inf.byIndex('name', 'a')).toEqual([]);
    expect(inf.byIndex('nope', 'red')).toEqual([]);
    await inf.stop();
  });

  it('indexes by owner UID and follows ownerReference changes', async () => {
    const src = new FakeSource();
    src.items = [obj('c1', '1', 'owner-1'), obj('c2', '2', 'owner-1'), obj('c3', '3', 'owner-2')];
    const inf = new Informer(src, { apiVersion: 'v1', kind: 'ConfigMap', ...fast });
    inf.start();
    await inf.synced;
    await flush();
    expect(
      inf
        .byOwner('owner-1')
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['c1', 'c2']);
    src.current.emit({ type: 'MODIFIED', object: obj('c2', '7', 'owner-2') });
    src.current.emit({ type: 'DELETED', object: obj('c1', '8', 'owner-1') });
    expect(inf.byOwner('owner-1')).toEqual([]);
    expect(
      inf
        .byOwner('owner-2')
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['c2', 'c3']);
    await inf.stop();
  });

  it('resync emits every cached object; periodic when configured', async () => {
    const src = new FakeSource();
    src.items = [obj('a', '1'), obj('b', '2')];
    const clock = new FakeClock();
    const inf = new Informer(src, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      ...fast,
      resyncPeriodMs: 50,
      clock,
    });
    const log = record(inf);
    inf.start();
    await inf.synced;
    const resyncs = (): string[] => log.filter((l) => l.startsWith('resync'));
    await clock.advance(49);
    expect(resyncs()).toEqual([]);
    await clock.advance(1);
    expect(resyncs()).toEqual(['resync a', 'resync b']);
    await clock.advance(100);
    expect(resyncs()).toHaveLength(6);
    await inf.stop();
  });

  it('stop ends the loop even while backing off (real time)', async () => {
    const src = new FakeSource();
    src.listFailures = 1000;
    const inf = new Informer(src, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      backoff: { initialMs: 10_000, maxMs: 10_000 },
    });
    inf.start();
    await new Promise((r) => setTimeout(r, 10));
    const t0 = Date.now();
    await inf.stop();
    expect(Date.now() - t0).toBeLessThan(100);
    expect(inf.hasSynced).toBe(false);
  });
});

describe('Informer memory', () => {
  it('strips managedFields from cached objects unless asked to keep them', async () => {
    const src = new FakeSource();
    const withFields = {
      ...obj('a', '1'),
      metadata: { ...obj('a', '1').metadata, managedFields: [{ manager: 'x' }] },
    };
    src.items = [withFields];
    const inf = new Informer(src, { apiVersion: 'v1', kind: 'ConfigMap', ...fast });
    inf.start();
    await inf.synced;
    expect(inf.get({ namespace: 'ns', name: 'a' })?.metadata?.managedFields).toBeUndefined();
    await inf.stop();
    const keep = new Informer(src, { apiVersion: 'v1', kind: 'ConfigMap', ...fast, keepManagedFields: true });
    keep.start();
    await keep.synced;
    expect(keep.get({ namespace: 'ns', name: 'a' })?.metadata?.managedFields).toEqual([{ manager: 'x' }]);
    await keep.stop();
  });

  it('caches and hands out transformed objects, from lists and watches, indexed by owner', async () => {
    const src = new FakeSource();
    const withData = (o: KubeObject): KubeObject => ({ ...o, data: { keep: 'k', drop: 'secret' } });
    src.items = [withData(obj('a', '1', 'owner-1'))];
    const seen: unknown[] = [];
    const inf = new Informer(src, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      ...fast,
      transform: (o) => ({ ...o, data: { keep: (o['data'] as Record<string, string>)['keep'] ?? '' } }),
    });
    inf.on({ add: (o) => seen.push(o['data']), update: (o) => seen.push(o['data']) });
    inf.start();
    await inf.synced;
    await flush();
    src.current.emit({ type: 'MODIFIED', object: withData(obj('a', '2', 'owner-1')) });
    src.current.emit({ type: 'ADDED', object: withData(obj('b', '3')) });
    expect(inf.get({ namespace: 'ns', name: 'a' })?.['data']).toEqual({ keep: 'k' });
    expect(inf.get({ namespace: 'ns', name: 'b' })?.['data']).toEqual({ keep: 'k' });
    expect(inf.byOwner('owner-1').map((o) => o.metadata?.name)).toEqual(['a']);
    expect(seen).toEqual([{ keep: 'k' }, { keep: 'k' }, { keep: 'k' }]);
    await inf.stop();
  });
});
