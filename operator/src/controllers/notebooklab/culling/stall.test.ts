// The culler never holds a reconcile worker: LabReconciler on a fake clock with a fake Kube (recording writes)
// and Jupyter servers that never answer or answer "idle for two hours".
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { NotebookLab } from '../../../api/v1alpha1/index.js';
import type {
  EventRecorder,
  Kube,
  KubeObject,
  V1PersistentVolumeClaim,
  V1Pod,
  V1Secret,
} from '../../../kube/index.js';
import type { ReconcileContext } from '../../../runtime/index.js';
import { LABELS, MANAGER } from '../../../meta/index.js';
import { COMPONENT, HOME_FINALIZER, TOKEN_KEY, labNames } from '../build.js';
import { labFixture, profileFixture, runningLabPod } from '../fixtures.test-util.js';
import { LabReconciler } from '../reconcile.js';
import type { Activity, ActivityResolver } from './activity.js';

const T0 = Date.parse('2026-11-21T10:00:00Z');
const HOUR = 3_600_000;
/** RFC 3339 at second precision, as the apiserver writes times. */
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const profile = profileFixture({
  culling: { enabled: true, idleTimeout: '1h', maxLifetime: '168h', warnBefore: '10m' },
});
const lab: NotebookLab = labFixture({}, { finalizers: [HOME_FINALIZER] });
const names = labNames(lab.metadata.name ?? '');
const ns = lab.metadata.namespace ?? '';
const owner = {
  apiVersion: 'skyport.io/v1alpha1',
  kind: 'NotebookLab',
  name: lab.metadata.name ?? '',
  uid: lab.metadata.uid ?? '',
  controller: true,
};
/** The lab's own children carry our managed-by label (ownership.ts); the home claim also its lab's UID. */
const ours = { [LABELS.managedBy]: MANAGER };

/** The lab's Pod, Ready since T0. */
const pod: V1Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: names.pod,
    namespace: ns,
    uid: 'pod-uid',
    creationTimestamp: iso(T0),
    labels: ours,
    ownerReferences: [owner],
  },
  ...runningLabPod({ scheduled: iso(T0), started: iso(T0 + 3_000), ready: iso(T0 + 5_000) }),
};
const secret: V1Secret = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: names.token, namespace: ns, labels: ours, ownerReferences: [owner] },
  data: { [TOKEN_KEY]: Buffer.from('tok').toString('base64') },
};
const pvc: V1PersistentVolumeClaim = {
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: {
    name: names.home,
    namespace: ns,
    labels: {
      ...ours,
      [LABELS.name]: 'notebooklab',
      [LABELS.component]: COMPONENT.home,
      [LABELS.ownerUid]: lab.metadata.uid ?? '',
    },
  },
  status: { phase: 'Bound' },
};

/** Every write the reconciler makes, as `<verb> <kind> [detail]`. */
function fakeKube(writes: string[]): Kube {
  const k = {
    apply: (o: KubeObject) => (writes.push(`apply ${o.kind ?? ''}`), Promise.resolve(o)),
    create: (o: KubeObject) => (writes.push(`create ${o.kind ?? ''}`), Promise.resolve(o)),
    delete: (ref: { kind: string }) => (writes.push(`delete ${ref.kind}`), Promise.resolve(true)),
    mergePatch: (ref: { kind: string }, patch: unknown) => {
      writes.push(`patch ${ref.kind} ${JSON.stringify(patch)}`);
      return Promise.resolve(undefined);
    },
    applyStatus: (o: KubeObject) => (writes.push('status'), Promise.resolve(o)),
    get: () => Promise.resolve(undefined),
  };
  // Only the methods a reconcile of a running lab calls; a call to any other fails the test with a TypeError.
  return k as unknown as Kube;
}

const events = {
  normal: () => Promise.resolve(),
  warning: () => Promise.resolve(),
} as unknown as EventRecorder;

function context(): ReconcileContext<NotebookLab> {
  const objects: Record<string, KubeObject[]> = {
    Pod: [pod],
    Secret: [secret],
  };
  return {
    key: { namespace: ns, name: lab.metadata.name ?? '' },
    object: lab,
    log: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    retries: 0,
    owned: <C extends KubeObject>(kind: string) => (objects[kind] ?? []) as C[],
    cached: <C extends KubeObject>() => [] as C[],
    get: <C extends KubeObject>(kind: string) =>
      (kind === 'NotebookProfile' ? profile : kind === 'PersistentVolumeClaim' ? pvc : undefined) as
        C | undefined,
    indexed: <C extends KubeObject>() => [lab] as KubeObject[] as C[],
  };
}

/** Runs one reconcile; `settled` says whether it finished without the fake clock moving. */
async function reconcileOnce(r: LabReconciler): Promise<{ settled: boolean }> {
  let settled = false;
  void r.reconcile(context()).then(() => (settled = true));
  await vi.advanceTimersByTimeAsync(0);
  return { settled };
}

describe('LabReconciler activity checks', () => {
  beforeEach(() => {
    // Two hours after the Pod started: idle past its 1 h timeout unless the server reports activity.
    vi.useFakeTimers({ now: T0 + 2 * HOUR });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('returns at once when the Jupyter server never answers, and does not cull the lab', async () => {
    const writes: string[] = [];
    const never: ActivityResolver = { resolve: () => new Promise<Activity | undefined>(() => undefined) };
    const r = new LabReconciler({ kube: fakeKube(writes), events, resolver: never, now: () => new Date() });
    expect((await reconcileOnce(r)).settled).toBe(true);
    // The check times out (2 s) and counts as unknown: still not idle.
    await vi.advanceTimersByTimeAsync(5_000);
    expect((await reconcileOnce(r)).settled).toBe(true);
    expect(writes.filter((w) => w.startsWith('patch') || w === 'delete Pod')).toEqual([]);
  });

  it('wakes the lab with the answer, and culls it once the server reports it idle', async () => {
    const writes: string[] = [];
    const idle: ActivityResolver = {
      resolve: () => Promise.resolve({ lastActivity: new Date(T0 + 10 * 60_000) }),
    };
    const r = new LabReconciler({ kube: fakeKube(writes), events, resolver: idle, now: () => new Date() });
    const woken: string[] = [];
    r.activity.subscribe((k) => woken.push(`${k.namespace}/${k.name}`));
    expect((await reconcileOnce(r)).settled).toBe(true);
    // The first reconcile only asked: nothing was known yet.
    expect(writes.filter((w) => w.startsWith('patch'))).toEqual([]);
    expect(woken).toEqual([`${ns}/${lab.metadata.name ?? ''}`]);
    expect((await reconcileOnce(r)).settled).toBe(true);
    expect(writes).toContain('patch NotebookLab {"spec":{"state":"Stopped"}}');
    expect(writes).toContain('delete Pod');
  });
});
