// A running lab that no longer resolves keeps its Pod, flagged, until its owner stops it or its lifetime ends.
import type { V1Pod } from '../../kube/index.js';
import { describe, expect, it } from 'vitest';
import { labFixture, profileFixture, runningLabPod } from './fixtures.test-util.js';
import { unresolvedInputOf } from './inputs.js';
import { keepsRunning, keptDecision, keptLimit, newlyDegraded } from './kept.js';
import { computeStatus } from './status.js';

const created = '2026-11-21T10:00:00.000Z';
const pod = (over: Partial<NonNullable<V1Pod['metadata']>> = {}): V1Pod => ({
  metadata: { name: 'alice-default-lab', creationTimestamp: created, ...over },
  ...runningLabPod({ scheduled: created, started: created, ready: created }),
});
const running = labFixture({}, {});
running.status = {
  phase: 'Running',
  url: 'https://data.example.org/nb/alice/alice-default/',
  size: 'small',
  image: 'registry.example.org/des/lab:2026.07',
  progress: [{ name: 'ServerReady', state: 'Succeeded', startedAt: created, finishedAt: created }],
};
const profileGone = {
  reason: 'ProfileNotFound',
  message: 'spec.profile: NotebookProfile des-jupyterlab not found; ask an admin which profiles exist',
};

describe('keepsRunning', () => {
  it('keeps a live Pod of a lab meant to run; not a stopped lab, a terminating Pod or no Pod', () => {
    expect(keepsRunning(running, pod())).toBe(true);
    expect(keepsRunning(labFixture({ state: 'Stopped' }), pod())).toBe(false);
    expect(keepsRunning(running, pod({ deletionTimestamp: created }))).toBe(false);
    expect(keepsRunning(running, undefined)).toBe(false);
  });
});

describe('keptLimit and keptDecision', () => {
  it("runs a kept lab to its profile's maximum lifetime, the default 168h when the profile is gone", () => {
    expect(keptLimit(undefined)).toEqual({
      policy: { maxLifetimeMs: 168 * 3_600_000, warnBeforeMs: 30 * 60_000 },
      limits: { idleTimeout: '24h', maxLifetime: '168h' },
    });
    const p = profileFixture({
      culling: { enabled: true, idleTimeout: '1h', maxLifetime: '8h', warnBefore: '5m' },
    });
    expect(keptLimit(p)?.policy).toEqual({ maxLifetimeMs: 8 * 3_600_000, warnBeforeMs: 5 * 60_000 });
    const off = profileFixture({
      culling: { enabled: false, idleTimeout: '1h', maxLifetime: '8h', warnBefore: '5m' },
    });
    expect(keptLimit(off)).toBeUndefined();
  });

  it('decides from the Pod start: nothing idle-based, a cull at the lifetime, none for a Pod not kept', () => {
    const limit = keptLimit(undefined);
    const before = keptDecision(running, pod(), limit, new Date('2026-11-22T10:00:00Z'));
    expect(before).toMatchObject({
      action: 'none',
      reason: 'MaxLifetime',
      cullAt: new Date('2026-11-28T10:00:00.000Z'),
    });
    expect(keptDecision(running, pod(), limit, new Date('2026-11-28T10:00:00.000Z'))).toMatchObject({
      action: 'cull',
      reason: 'MaxLifetime',
    });
    expect(keptDecision(labFixture({ state: 'Stopped' }), pod(), limit, new Date())).toBeUndefined();
    expect(keptDecision(running, pod(), undefined, new Date())).toBeUndefined();
  });
});

describe('status of a kept lab', () => {
  const base = {
    lab: running,
    now: new Date('2026-11-22T10:00:00Z'),
    homeClaimName: 'alice-default-home',
    pvc: { status: { phase: 'Bound' } },
  };

  it('stays Running with its URL, image and progress, Degraded with the reason and what happens next', () => {
    const s = computeStatus(unresolvedInputOf(base, profileGone, pod(), { podGone: false }, true));
    expect(s).toMatchObject({
      phase: 'Running',
      url: 'https://data.example.org/nb/alice/alice-default/',
      image: 'registry.example.org/des/lab:2026.07',
      size: 'small',
      startedAt: created,
      progress: running.status?.progress,
    });
    expect(s.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    expect(s.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'ProfileNotFound',
      message:
        'spec.profile: NotebookProfile des-jupyterlab not found; ask an admin which profiles exist. The running ' +
        'server is kept until you stop the lab or its maximum lifetime ends; it cannot start again as it is',
    });
    // One Warning Event per new Degraded reason: not again for the same reason.
    expect(newlyDegraded(running.status, s)?.reason).toBe('ProfileNotFound');
    expect(newlyDegraded(s, s)).toBeUndefined();
  });

  it('is Failed without a live Pod (nothing runs, nothing can start)', () => {
    const gone = computeStatus(unresolvedInputOf(base, profileGone, undefined, { podGone: false }, true));
    expect(gone.phase).toBe('Failed');
    expect(gone.url).toBeUndefined();
    const stopped = { ...base, lab: { ...running, spec: { ...running.spec, state: 'Stopped' as const } } };
    const stopping = computeStatus(unresolvedInputOf(stopped, profileGone, pod(), { podGone: false }, true));
    expect(stopping.phase).toBe('Failed');
  });
});
