// The kube layer against the real apiserver: SSA idempotence, /status, finalizers, 404s, events, errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TerminalError, TransientError } from '../../operator/src/errors.js';
import { EventRecorder, Kube, type KubeObject } from '../../operator/src/kube/index.js';
import { setCondition, type Condition } from '../../operator/src/meta/index.js';
import { createNamespace, deleteNamespace, eventually, kubectlJson } from '../cluster/index.js';
import { WIDGET, adminKubeconfig, ensureWidgetCrd } from './support.js';

interface Widget extends KubeObject {
  spec?: { size?: number; mode?: string };
  status?: { observedGeneration?: number; phase?: string; conditions?: Condition[] };
}

let kubeconfig: string;
let kube: Kube;
let ns: string;

beforeAll(async () => {
  kubeconfig = adminKubeconfig();
  kube = Kube.fromConfig({ kubeconfig });
  await ensureWidgetCrd(kubeconfig);
  ns = await createNamespace('rt-kube', { kubeconfig });
});

afterAll(async () => {
  await deleteNamespace(ns, { kubeconfig });
});

const widget = (name: string, size = 1): Widget => ({
  apiVersion: WIDGET.apiVersion,
  kind: WIDGET.kind,
  metadata: { name, namespace: ns },
  spec: { size, mode: 'ok' },
});

describe('server-side apply', () => {
  it('is idempotent: a second identical apply changes nothing (same resourceVersion)', async () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'ssa', namespace: ns, labels: { a: '1' } },
      data: { k: 'v' },
    };
    const first = await kube.apply(cm);
    const second = await kube.apply(cm);
    expect(first.metadata?.resourceVersion).toBeDefined();
    expect(second.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    const managers = (second.metadata?.managedFields as { manager: string; operation: string }[]).map(
      (m) => `${m.manager}/${m.operation}`,
    );
    expect(managers).toEqual(['skyport-operator/Apply']);
  });

  it('removes fields the manager stopped declaring and wins conflicts (force)', async () => {
    await kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'ssa2', namespace: ns },
      data: { keep: '1', drop: '2' },
    });
    // Another manager takes ownership of `keep` with a different value.
    await new Kube(kube.kc, 'someone-else').apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'ssa2', namespace: ns },
      data: { keep: 'theirs' },
    });
    const after = await kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'ssa2', namespace: ns },
      data: { keep: '1' },
    });
    expect(after.data).toEqual({ keep: '1' });
  });

  it('works for any GVK, including a custom resource, and maps a 422 to TerminalError with the field', async () => {
    const w = await kube.apply(widget('w-apply', 3));
    expect(w.spec?.size).toBe(3);
    expect(w.metadata?.generation).toBe(1);
    const err = await kube.apply(widget('w-bad', 99)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TerminalError);
    expect((err as TerminalError).code).toBe('Invalid');
    expect((err as TerminalError).message).toMatch(/spec\.size/);
  });
});

describe('status subresource', () => {
  it('applies status through /status without touching spec or bumping generation', async () => {
    const w = await kube.apply(widget('w-status', 2));
    const conditions = setCondition(
      [],
      { type: 'Ready', status: 'False', reason: 'Starting', message: 'starting', observedGeneration: 1 },
      new Date(),
    );
    const s1 = await kube.applyStatus<Widget>(w, { observedGeneration: 1, phase: 'Pending', conditions });
    expect(s1.status?.phase).toBe('Pending');
    expect(s1.metadata?.generation).toBe(1);
    expect(s1.spec?.size).toBe(2);
    // Idempotent too: same status, same resourceVersion.
    const s2 = await kube.applyStatus<Widget>(w, { observedGeneration: 1, phase: 'Pending', conditions });
    expect(s2.metadata?.resourceVersion).toBe(s1.metadata?.resourceVersion);
    // A merge patch works as the alternative strategy.
    const s3 = await kube.applyStatus<Widget>(w, { phase: 'Running' }, { strategy: 'merge' });
    expect(s3.status?.phase).toBe('Running');
    // Status written through the main endpoint is ignored by the apiserver (that is what /status is for).
    const viaMain = await kube.apply({ ...widget('w-status', 2), status: { phase: 'Hacked' } });
    expect(viaMain.status?.phase).toBe('Running');
    const seen = await kubectlJson<Widget>(
      ['get', `${WIDGET.plural}.${WIDGET.group}`, 'w-status', '-n', ns],
      { kubeconfig },
    );
    expect(seen.status?.conditions?.[0]).toMatchObject({
      type: 'Ready',
      status: 'False',
      reason: 'Starting',
    });
  });
});

describe('get, list, delete', () => {
  it('returns undefined / false for missing objects and lists with kinds filled in', async () => {
    expect(
      await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'nope' }),
    ).toBeUndefined();
    expect(await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'nope' })).toBe(
      false,
    );
    await kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'del', namespace: ns, labels: { sel: 'x' } },
    });
    const list = await kube.list('v1', 'ConfigMap', { namespace: ns, labelSelector: 'sel=x' });
    expect(list.items.map((i) => `${i.kind}/${i.metadata?.name}`)).toEqual(['ConfigMap/del']);
    expect(Number(list.resourceVersion)).toBeGreaterThan(0);
    expect(await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'del' })).toBe(true);
    expect(
      await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'del' }),
    ).toBeUndefined();
  });

  it('a uid precondition never deletes a re-created namesake', async () => {
    const old = await kube.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'reborn', namespace: ns },
    });
    await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'reborn' });
    await kube.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'reborn', namespace: ns } });
    const err = await kube
      .delete(
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'reborn' },
        { uid: old.metadata?.uid ?? '' },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as TransientError).code).toBe('Conflict');
    expect(
      await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'reborn' }),
    ).toBeDefined();
  });
});

describe('finalizers', () => {
  it('adds and removes with a resourceVersion guard; a stale object gets Conflict', async () => {
    const w = await kube.apply(widget('w-fin'));
    const added = await kube.addFinalizer(w, 'skyport.io/cleanup');
    expect(added?.metadata?.finalizers).toEqual(['skyport.io/cleanup']);
    // Adding again is a no-op that does not even call the apiserver.
    expect(await kube.addFinalizer(added as Widget, 'skyport.io/cleanup')).toBe(added);
    // `w` is stale now: its resourceVersion predates the finalizer write.
    const stale = await kube.addFinalizer(w, 'skyport.io/other').catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(TransientError);
    expect((stale as TransientError).code).toBe('Conflict');
    // Deletion waits for the finalizer, then completes once it is removed.
    await kube.delete({ apiVersion: WIDGET.apiVersion, kind: WIDGET.kind, namespace: ns, name: 'w-fin' });
    const terminating = await kube.get<Widget>({
      apiVersion: WIDGET.apiVersion,
      kind: WIDGET.kind,
      namespace: ns,
      name: 'w-fin',
    });
    expect(terminating?.metadata?.deletionTimestamp).toBeDefined();
    await kube.removeFinalizer(terminating as Widget, 'skyport.io/cleanup');
    expect(
      await kube.get({ apiVersion: WIDGET.apiVersion, kind: WIDGET.kind, namespace: ns, name: 'w-fin' }),
    ).toBeUndefined();
  });
});

describe('events', () => {
  it('records an Event on the object and counts repeats instead of creating new ones', async () => {
    const w = await kube.apply(widget('w-events'));
    const rec = new EventRecorder(kube, { instance: 'e2e' });
    await rec.normal(w, 'Created', 'Created ConfigMap w-events-data');
    await rec.normal(w, 'Created', 'Created ConfigMap w-events-data');
    await rec.warning(w, 'FailedCreate', 'Quota exceeded');
    type Event = KubeObject & {
      reason?: string;
      count?: number;
      type?: string;
      involvedObject?: { uid?: string };
    };
    const events = await kube.list<Event>('v1', 'Event', {
      namespace: ns,
      fieldSelector: `involvedObject.name=w-events`,
    });
    const byReason = new Map<string, Event>(events.items.map((e): [string, Event] => [e.reason ?? '', e]));
    expect(events.items).toHaveLength(2);
    expect(byReason.get('Created')?.count).toBe(2);
    expect(byReason.get('Created')?.involvedObject?.uid).toBe(w.metadata?.uid);
    expect(byReason.get('FailedCreate')?.type).toBe('Warning');
  });

  it('never throws when the apiserver refuses the event', async () => {
    const rec = new EventRecorder(kube);
    await expect(
      rec.normal(
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'no-such-namespace-xyz' } },
        'Test',
        'm',
      ),
    ).resolves.toBeUndefined();
  });
});

describe('connections', () => {
  it('answers requests while more watches are open than its request pool has sockets', async () => {
    // Each watch has a connection of its own: with watches on the pool, 6 watches on a 4-socket pool left every
    // request queued forever (the operator with six controllers and 24 sockets).
    const small = Kube.fromConfig({ kubeconfig, maxSockets: 4 });
    const seen: string[] = [];
    const watches = await Promise.all(
      Array.from({ length: 6 }, () =>
        small.watch(
          'v1',
          'ConfigMap',
          { namespace: ns, timeoutSeconds: 60 },
          (e) => {
            if (e.type === 'ADDED' && e.object.metadata?.name === 'pool') seen.push('added');
          },
          () => undefined,
        ),
      ),
    );
    try {
      const started = Date.now();
      const cm = await small.apply({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'pool', namespace: ns },
        data: { k: 'v' },
      });
      const got = await Promise.all(
        Array.from({ length: 20 }, () =>
          small.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'pool' }),
        ),
      );
      expect(got.map((g) => g?.metadata?.uid)).toEqual(Array(20).fill(cm.metadata?.uid));
      expect(Date.now() - started).toBeLessThan(20_000);
      // Every watch saw the object: they are live streams, not queued requests.
      await eventually(() => seen.length === 6, { timeoutMs: 20_000, description: 'every watch saw it' });
      expect(seen).toHaveLength(6);
    } finally {
      for (const w of watches) w.stop();
    }
  });
});
