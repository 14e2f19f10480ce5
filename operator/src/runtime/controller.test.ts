// Controller contract on scripted caches: child events reach the owner, transient retries, terminal parks. The
// queue runs on a fake clock (advance() also lets pending reconciles finish); the drain test runs in real time.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { TerminalError, TransientError } from '../errors.js';
import type { KubeObject, ListResult, WatchEvent, WatchHandle } from '../kube/client.js';
import { FakeClock } from './clock.js';
import { Controller, type ExternalSource, type SourceSpec } from './controller.js';
import { Informer, type ListWatcher } from './informer.js';
import { RuntimeMetrics } from './metrics.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Lets pending promise callbacks run: informer lists, queued keys, reconciles. */
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

/** One scripted source per kind; `emit` pushes watch events. */
class Source implements ListWatcher {
  emitters: ((e: WatchEvent) => void)[] = [];
  constructor(private readonly items: KubeObject[]) {}
  list<T extends KubeObject>(): Promise<ListResult<T>> {
    return Promise.resolve({ items: this.items as T[], resourceVersion: '1' });
  }
  watch(_a: string, _k: string, _o: object, onEvent: (e: WatchEvent) => void): Promise<WatchHandle> {
    this.emitters.push(onEvent);
    return Promise.resolve({ stop: () => undefined });
  }
  emit(e: WatchEvent): void {
    for (const f of this.emitters) f(e);
  }
}

/** One informer per kind, shared by every source of that kind (as the manager shares them). */
function sharedInformers(sourceOf: (kind: string) => Source): {
  informers: (s: SourceSpec) => Informer[];
  byKind: Map<string, Informer>;
} {
  const byKind = new Map<string, Informer>();
  const informers = (s: SourceSpec): Informer[] => {
    let i = byKind.get(s.kind);
    if (i === undefined) {
      i = new Informer(sourceOf(s.kind), { apiVersion: s.apiVersion, kind: s.kind, resyncPeriodMs: 0 });
      byKind.set(s.kind, i);
    }
    return [i];
  };
  return { informers, byKind };
}

const lab = (gen: number, rv: string): KubeObject => ({
  apiVersion: 'skyport.io/v1alpha1',
  kind: 'NotebookLab',
  metadata: { name: 'alice', namespace: 'ns', uid: 'lab-uid', generation: gen, resourceVersion: rv },
});
const pod = (rv: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'alice-notebook',
    namespace: 'ns',
    uid: 'pod-uid',
    resourceVersion: rv,
    ownerReferences: [
      {
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'NotebookLab',
        name: 'alice',
        uid: 'lab-uid',
        controller: true,
      },
    ],
  },
});

function setup(
  reconcile: ConstructorParameters<typeof Controller>[0]['reconcile'],
  onTerminal?: ConstructorParameters<typeof Controller>[0]['onTerminal'],
  sources?: ExternalSource[],
) {
  const labs = new Source([lab(1, '1')]);
  const pods = new Source([pod('1')]);
  const metrics = new RuntimeMetrics(undefined, false);
  const clock = new FakeClock();
  const { informers, byKind: infs } = sharedInformers((kind) => (kind === 'Pod' ? pods : labs));
  const c = new Controller(
    {
      name: 'notebooklab',
      for: { apiVersion: 'skyport.io/v1alpha1', kind: 'NotebookLab' },
      owns: [{ apiVersion: 'v1', kind: 'Pod' }],
      reconcile,
      ...(onTerminal === undefined ? {} : { onTerminal }),
      ...(sources === undefined ? {} : { sources }),
      workers: 2,
      rateLimiter: { baseDelayMs: 5, maxDelayMs: 40 },
    },
    { informers, log: pino({ level: 'silent' }), metrics, workers: 1, clock },
  );
  for (const i of infs.values()) i.start();
  return {
    c,
    labs,
    pods,
    metrics,
    clock,
    stop: async () => {
      await c.stop(1000);
      await Promise.all([...infs.values()].map((i) => i.stop()));
    },
  };
}

describe('Controller', () => {
  it('reconciles the primary, maps child events to the owner and exposes owned children', async () => {
    const runs: { name: string; owned: string[] }[] = [];
    const t = setup((ctx) => {
      runs.push({ name: ctx.key.name, owned: ctx.owned('Pod').map((p) => p.metadata?.name ?? '') });
      return Promise.resolve();
    });
    await t.c.start();
    await t.clock.advance(0);
    expect(runs).toEqual([{ name: 'alice', owned: ['alice-notebook'] }]);
    t.pods.emit({ type: 'MODIFIED', object: pod('2') });
    await t.clock.advance(0);
    expect(runs).toHaveLength(2);
    expect(runs[1]?.name).toBe('alice');
    const text = await t.metrics.registry.metrics();
    expect(text).toMatch(/controller_runtime_reconcile_total\{controller="notebooklab",result="success"\} 2/);
    await t.stop();
  });

  it('retries a TransientError with backoff until it succeeds', async () => {
    let n = 0;
    const retries: number[] = [];
    const t = setup((ctx) => {
      retries.push(ctx.retries);
      n++;
      return n < 4 ? Promise.reject(new TransientError('Conflict', 'stale')) : Promise.resolve();
    });
    await t.c.start();
    await t.clock.advance(0);
    expect(n).toBe(1);
    // Per-key backoff 5, 10, 20 ms: the fourth run is at 35 ms.
    await t.clock.advance(34);
    expect(n).toBe(3);
    await t.clock.advance(1);
    expect(n).toBe(4);
    await t.clock.advance(1000);
    expect(n).toBe(4);
    expect(retries).toEqual([0, 1, 2, 3]);
    expect(await t.metrics.registry.metrics()).toMatch(
      /controller_runtime_reconcile_errors_total\{controller="notebooklab"\} 3/,
    );
    await t.stop();
  });

  it('honours requeueAfter', async () => {
    const at: number[] = [];
    const t = setup(() => {
      at.push(t.clock.now());
      return Promise.resolve(at.length < 3 ? { requeueAfterMs: 40 } : undefined);
    });
    await t.c.start();
    await t.clock.advance(1000);
    expect(at.map((ms) => ms - (at[0] ?? 0))).toEqual([0, 40, 80]);
    await t.stop();
  });

  it('reconciles a key an external source enqueues', async () => {
    let wake: (k: { namespace: string; name: string }) => void = () => undefined;
    const runs: string[] = [];
    const t = setup(
      (ctx) => {
        runs.push(`${ctx.key.namespace ?? ''}/${ctx.key.name}`);
        return Promise.resolve();
      },
      undefined,
      [(enqueue) => (wake = (k) => enqueue(k))],
    );
    await t.c.start();
    await t.clock.advance(0);
    expect(runs).toEqual(['ns/alice']);
    wake({ namespace: 'ns', name: 'alice' });
    await t.clock.advance(0);
    expect(runs).toEqual(['ns/alice', 'ns/alice']);
    await t.stop();
  });

  it('parks a TerminalError until the generation changes, after recording it once', async () => {
    let runs = 0;
    const recorded: string[] = [];
    const t = setup(
      (ctx) => {
        runs++;
        return ctx.object?.metadata?.generation === 1
          ? Promise.reject(new TerminalError('InvalidProfile', 'no such profile'))
          : Promise.resolve();
      },
      (_ctx, err) => {
        recorded.push(err.code);
        return Promise.resolve();
      },
    );
    await t.c.start();
    await t.clock.advance(0);
    expect(runs).toBe(1);
    expect(recorded).toEqual(['InvalidProfile']);
    // A status-only change (same generation) and child churn do not retry it, however long it waits.
    t.labs.emit({ type: 'MODIFIED', object: lab(1, '5') });
    t.pods.emit({ type: 'MODIFIED', object: pod('6') });
    await t.clock.advance(60_000);
    expect(runs).toBe(1);
    // A spec change does.
    t.labs.emit({ type: 'MODIFIED', object: lab(2, '7') });
    await t.clock.advance(0);
    expect(runs).toBe(2);
    expect(await t.metrics.registry.metrics()).toMatch(
      /controller_runtime_terminal_reconcile_errors_total\{controller="notebooklab"\} 1/,
    );
    await t.stop();
  });

  it('unparks a TerminalError when a watched object mapped to the key changes, or the lab is annotated', async () => {
    const labs = new Source([lab(1, '1')]);
    const pods = new Source([pod('1')]);
    const profileOf = (rv: string): KubeObject => ({
      apiVersion: 'skyport.io/v1alpha1',
      kind: 'NotebookProfile',
      metadata: { name: 'small', resourceVersion: rv },
    });
    const profiles = new Source([profileOf('1')]);
    const { informers, byKind } = sharedInformers((kind) =>
      kind === 'NotebookProfile' ? profiles : kind === 'Pod' ? pods : labs,
    );
    let runs = 0;
    const clock = new FakeClock();
    const c = new Controller(
      {
        name: 'notebooklab',
        for: { apiVersion: 'skyport.io/v1alpha1', kind: 'NotebookLab' },
        owns: [{ apiVersion: 'v1', kind: 'Pod' }],
        watches: [
          {
            apiVersion: 'skyport.io/v1alpha1',
            kind: 'NotebookProfile',
            clusterScoped: true,
            map: () => [{ namespace: 'ns', name: 'alice' }],
          },
        ],
        reconcile: () => {
          runs++;
          return Promise.reject(new TerminalError('Invalid', 'home.size: must be greater than 0'));
        },
        onTerminal: () => Promise.resolve(),
        rateLimiter: { baseDelayMs: 5, maxDelayMs: 40 },
      },
      {
        informers,
        log: pino({ level: 'silent' }),
        metrics: new RuntimeMetrics(undefined, false),
        workers: 1,
        clock,
      },
    );
    for (const i of byKind.values()) i.start();
    await c.start();
    await clock.advance(0);
    expect(runs).toBe(1);
    // Child churn and a status-only change leave it parked.
    pods.emit({ type: 'MODIFIED', object: pod('2') });
    labs.emit({ type: 'MODIFIED', object: lab(1, '3') });
    await clock.advance(60_000);
    expect(runs).toBe(1);
    // The profile it depends on changed: retried once (and parked again when it fails again).
    profiles.emit({ type: 'MODIFIED', object: profileOf('4') });
    await clock.advance(0);
    expect(runs).toBe(2);
    pods.emit({ type: 'MODIFIED', object: pod('5') });
    await clock.advance(60_000);
    expect(runs).toBe(2);
    // A user annotating the lab asks for another try.
    const annotated = lab(1, '6');
    annotated.metadata = { ...annotated.metadata, annotations: { retry: 'now' } };
    labs.emit({ type: 'MODIFIED', object: annotated });
    await clock.advance(0);
    expect(runs).toBe(3);
    await c.stop(1000);
    await Promise.all([...byKind.values()].map((i) => i.stop()));
  });

  it('drains an in-flight reconcile on stop (real time)', async () => {
    let finished = false;
    const t = setup(async () => {
      await sleep(80);
      finished = true;
    });
    await t.c.start();
    await sleep(40);
    const during = await t.metrics.registry.metrics();
    expect(during).toMatch(
      /workqueue_longest_running_processor_seconds\{name="notebooklab",controller="notebooklab"\} 0\.0[2-9]/,
    );
    expect(during).toMatch(/controller_runtime_active_workers\{controller="notebooklab"\} 1/);
    await t.c.stop(2000);
    expect(finished).toBe(true);
    await t.stop();
  });
});

describe('Controller watches', () => {
  it('maps events of a watched kind to primary keys', async () => {
    const labs = new Source([lab(1, '1')]);
    const profiles = new Source([
      {
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'NotebookProfile',
        metadata: { name: 'small', resourceVersion: '1' },
      },
    ]);
    const infs: Informer[] = [];
    const informers = (s: SourceSpec): Informer[] => {
      const i = new Informer(s.kind === 'NotebookProfile' ? profiles : labs, {
        apiVersion: s.apiVersion,
        kind: s.kind,
        resyncPeriodMs: 0,
      });
      infs.push(i);
      return [i];
    };
    const runs: string[] = [];
    const c = new Controller(
      {
        name: 'notebooklab',
        for: { apiVersion: 'skyport.io/v1alpha1', kind: 'NotebookLab' },
        watches: [
          {
            apiVersion: 'skyport.io/v1alpha1',
            kind: 'NotebookProfile',
            clusterScoped: true,
            map: (p) =>
              p.metadata?.name === 'small'
                ? [
                    { namespace: 'ns', name: 'alice' },
                    { namespace: 'ns', name: 'bob' },
                  ]
                : [],
          },
        ],
        reconcile: (ctx) => {
          runs.push(
            `${ctx.key.name}:${ctx.object === undefined ? 'gone' : 'here'}:${ctx.cached('NotebookProfile').length}`,
          );
          return Promise.resolve();
        },
      },
      {
        informers,
        log: pino({ level: 'silent' }),
        metrics: new RuntimeMetrics(undefined, false),
        workers: 1,
      },
    );
    for (const i of infs) i.start();
    await c.start();
    await flush();
    // Initial adds: alice from the lab informer, alice + bob from the profile mapping (merged).
    expect([...new Set(runs)].sort()).toEqual(['alice:here:1', 'bob:gone:1']);
    runs.length = 0;
    profiles.emit({
      type: 'MODIFIED',
      object: {
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'NotebookProfile',
        metadata: { name: 'small', resourceVersion: '2' },
      },
    });
    await flush();
    expect(runs.sort()).toEqual(['alice:here:1', 'bob:gone:1']);
    await c.stop(1000);
    await Promise.all(infs.map((i) => i.stop()));
  });

  it('hands map functions the cache: a profile change wakes exactly the labs indexed under it', async () => {
    const labOf = (name: string, profile: string): KubeObject => ({
      apiVersion: 'skyport.io/v1alpha1',
      kind: 'NotebookLab',
      metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '1' },
      spec: { profile },
    });
    const labs = new Source([labOf('a', 'small'), labOf('b', 'large'), labOf('c', 'small')]);
    const profile = (rv: string, name: string): KubeObject => ({
      apiVersion: 'skyport.io/v1alpha1',
      kind: 'NotebookProfile',
      metadata: { name, resourceVersion: rv },
    });
    const profiles = new Source([profile('1', 'small'), profile('1', 'large')]);
    // Shared per kind, as the manager shares them: NotebookLab is both `for` and watched.
    const { informers, byKind } = sharedInformers((kind) => (kind === 'NotebookProfile' ? profiles : labs));
    const infs = (): Informer[] => [...byKind.values()];
    const runs: string[] = [];
    const c = new Controller(
      {
        name: 'notebooklab',
        for: {
          apiVersion: 'skyport.io/v1alpha1',
          kind: 'NotebookLab',
          indexers: { profile: (o) => [(o as { spec: { profile: string } }).spec.profile] },
        },
        watches: [
          {
            apiVersion: 'skyport.io/v1alpha1',
            kind: 'NotebookProfile',
            clusterScoped: true,
            map: (p, cache) =>
              cache
                .indexed('NotebookLab', 'profile', p.metadata?.name ?? '')
                .map((l) => ({ namespace: l.metadata?.namespace ?? '', name: l.metadata?.name ?? '' })),
          },
          { apiVersion: 'skyport.io/v1alpha1', kind: 'NotebookLab', map: () => [] },
        ],
        reconcile: (ctx) => {
          // Each lab once, though its informer serves two sources of this controller.
          const peers = ctx.indexed('NotebookLab', 'profile', ctx.key.name === 'b' ? 'large' : 'small');
          runs.push(`${ctx.key.name}:${peers.length}`);
          return Promise.resolve();
        },
      },
      {
        informers,
        log: pino({ level: 'silent' }),
        metrics: new RuntimeMetrics(undefined, false),
        workers: 1,
      },
    );
    for (const i of infs()) i.start();
    await c.start();
    await flush();
    runs.length = 0;
    profiles.emit({ type: 'MODIFIED', object: profile('2', 'small') });
    await flush();
    expect(runs.sort()).toEqual(['a:2', 'c:2']);
    runs.length = 0;
    profiles.emit({ type: 'MODIFIED', object: profile('2', 'large') });
    await flush();
    expect(runs).toEqual(['b:1']);
    await c.stop(1000);
    await Promise.all(infs().map((i) => i.stop()));
  });

  it('an onTerminal that returns requeueAfterMs is not parked: the key comes back after exactly that delay', async () => {
    const runs: number[] = [];
    const t = setup(
      () => {
        runs.push(t.clock.now());
        // The first run fails terminally; the next finds the recorded end state and has nothing left to do.
        return runs.length === 1
          ? Promise.reject(new TerminalError('MergeFailed', 'merge Job failed'))
          : Promise.resolve();
      },
      () => Promise.resolve({ requeueAfterMs: 250 }),
    );
    await t.c.start();
    await t.clock.advance(0);
    expect(runs).toHaveLength(1);
    await t.clock.advance(249);
    expect(runs).toHaveLength(1);
    await t.clock.advance(1);
    expect(runs.map((r) => r - (runs[0] ?? 0))).toEqual([0, 250]);
    await t.clock.advance(60_000);
    expect(runs).toHaveLength(2);
    await t.stop();
  });

  it('without onTerminal, records a TerminalError as Degraded with its code on the primary', async () => {
    const labs = new Source([lab(1, '1')]);
    const { informers, byKind } = sharedInformers(() => labs);
    const written: { obj: KubeObject; status: unknown }[] = [];
    const kube = {
      applyStatus: <T extends KubeObject>(obj: KubeObject, status: unknown): Promise<T> => {
        written.push({ obj, status });
        return Promise.resolve(obj as T);
      },
    };
    let runs = 0;
    const c = new Controller(
      {
        name: 'widget',
        for: { apiVersion: 'skyport.io/v1alpha1', kind: 'NotebookLab' },
        reconcile: () => {
          runs++;
          return Promise.reject(new TerminalError('WidgetRefused', 'mode "terminal" cannot be reconciled'));
        },
      },
      {
        informers,
        log: pino({ level: 'silent' }),
        metrics: new RuntimeMetrics(undefined, false),
        workers: 1,
        kube,
      },
    );
    for (const i of byKind.values()) i.start();
    await c.start();
    await sleep(30);
    expect(runs).toBe(1);
    expect(written).toHaveLength(1);
    expect(written[0]?.obj.metadata?.name).toBe('alice');
    expect(written[0]?.status).toMatchObject({
      observedGeneration: 1,
      conditions: [
        { type: 'Degraded', status: 'True', reason: 'WidgetRefused', observedGeneration: 1 },
        {
          type: 'Ready',
          status: 'False',
          reason: 'WidgetRefused',
          message: 'mode "terminal" cannot be reconciled',
        },
      ],
    });
    await c.stop(1000);
    await Promise.all([...byKind.values()].map((i) => i.stop()));
  });

  it('keys its caches by apiVersion/kind: a bare kind name or apiVersion/kind reads the same informer', async () => {
    const seen: string[][] = [];
    const t = setup((ctx) => {
      seen.push(ctx.owned('v1/Pod').map((p) => p.metadata?.name ?? ''));
      seen.push(ctx.owned('Pod').map((p) => p.metadata?.name ?? ''));
      seen.push(ctx.owned('apps/v1/Pod').map((p) => p.metadata?.name ?? ''));
      return Promise.resolve();
    });
    await t.c.start();
    await sleep(30);
    expect(seen.slice(0, 3)).toEqual([['alice-notebook'], ['alice-notebook'], []]);
    await t.stop();
  });
});
