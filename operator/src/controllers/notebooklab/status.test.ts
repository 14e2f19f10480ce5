// Unit tests for the pure status computation: phases, conditions with transition times, progress, culling.
import type { V1PersistentVolumeClaim } from '../../kube/index.js';
import { describe, expect, it } from 'vitest';
import type { NotebookLab } from '../../api/v1alpha1/index.js';
import { labFixture } from './fixtures.test-util.js';
import type { PodReading } from './pod.js';
import { computeStatus, sameStatus } from './status.js';
import type { StatusInput } from './status.js';

const now = new Date('2026-11-21T10:05:00Z');
const bound: V1PersistentVolumeClaim = { status: { phase: 'Bound' } };
const all = new Set(['Secret', 'Service', 'NetworkPolicy', 'Pod'] as const);
const ready: PodReading = {
  stage: 'Ready',
  restarts: 0,
  scheduledAt: '2026-11-21T10:00:01Z',
  startedAt: '2026-11-21T10:00:03Z',
  readyAt: '2026-11-21T10:00:05Z',
};

function input(over: Partial<StatusInput> = {}, lab: NotebookLab = labFixture()): StatusInput {
  return {
    lab,
    now,
    quota: { admitted: true, used: 1, max: 2 },
    resolved: { image: 'img:1', size: 'small', url: 'http://x/lab' },
    homeClaimName: 'alice-default-home',
    pvc: bound,
    applied: all,
    pod: ready,
    podCreatedAt: '2026-11-21T10:00:00Z',
    ...over,
  };
}
const cond = (s: ReturnType<typeof computeStatus>, type: string) =>
  s.conditions?.find((c) => c.type === type);

describe('computeStatus', () => {
  it('a ready lab is Running with URL, Ready=True and every step Succeeded with observed times', () => {
    const s = computeStatus(input());
    expect(s).toMatchObject({
      phase: 'Running',
      url: 'http://x/lab',
      observedGeneration: 1,
      startedAt: '2026-11-21T10:00:00Z',
    });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'True', reason: 'LabReady', observedGeneration: 1 });
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'False' });
    expect(cond(s, 'Progressing')).toMatchObject({ status: 'False' });
    expect(s.progress?.map((p) => `${p.name}:${p.state}`)).toEqual([
      'Admitted:Succeeded',
      'HomeVolume:Succeeded',
      'Secret:Succeeded',
      'Service:Succeeded',
      'NetworkPolicy:Succeeded',
      'Pod:Succeeded',
      'Scheduled:Succeeded',
      'ImagePulled:Succeeded',
      'ServerReady:Succeeded',
    ]);
    expect(s.progress?.find((p) => p.name === 'ServerReady')?.finishedAt).toBe('2026-11-21T10:00:05Z');
  });

  it('is stable: recomputing from its own output gives an equal status (no write loop)', () => {
    const first = computeStatus(input());
    const lab = { ...labFixture(), status: first };
    const later = computeStatus(input({ now: new Date('2026-11-21T11:00:00Z') }, lab));
    expect(sameStatus(first, later)).toBe(true);
  });

  it('keeps lastTransitionTime while status is unchanged and moves it on a flip', () => {
    const t1 = computeStatus(
      input({ pod: { stage: 'Scheduled', restarts: 0, scheduledAt: '2026-11-21T10:00:01Z' } }),
    );
    expect(t1.phase).toBe('Starting');
    expect(cond(t1, 'Ready')?.lastTransitionTime).toBe('2026-11-21T10:05:00Z');
    const lab = { ...labFixture(), status: t1 };
    const t2 = computeStatus(
      input(
        {
          now: new Date('2026-11-21T10:06:00Z'),
          pod: {
            stage: 'Started',
            restarts: 0,
            scheduledAt: '2026-11-21T10:00:01Z',
            startedAt: '2026-11-21T10:05:30Z',
          },
        },
        lab,
      ),
    );
    expect(cond(t2, 'Ready')?.lastTransitionTime).toBe('2026-11-21T10:05:00Z');
    const t3 = computeStatus(
      input({ now: new Date('2026-11-21T10:07:00Z') }, { ...labFixture(), status: t2 }),
    );
    expect(cond(t3, 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: '2026-11-21T10:07:00Z' });
    // Steps first seen in t1 keep their startedAt.
    expect(t3.progress?.find((p) => p.name === 'Scheduled')?.startedAt).toBe(
      t1.progress?.find((p) => p.name === 'Scheduled')?.startedAt,
    );
  });

  it.each([
    ['Unschedulable', 'Scheduled'],
    ['ImagePullFailed', 'ImagePulled'],
    ['CrashLoop', 'ServerReady'],
  ] as const)('fail-fast %s: Failed, Degraded with reason and hint, failed step %s', (reason, step) => {
    const pod: PodReading = {
      stage: reason === 'Unschedulable' ? 'Created' : reason === 'ImagePullFailed' ? 'Scheduled' : 'Started',
      restarts: reason === 'CrashLoop' ? 4 : 0,
      failure: { reason, message: `boom ${reason}`, hint: 'do this' },
      ...(reason === 'Unschedulable' ? {} : { scheduledAt: '2026-11-21T10:00:01Z' }),
      ...(reason === 'CrashLoop' ? { startedAt: '2026-11-21T10:00:03Z' } : {}),
    };
    const s = computeStatus(input({ pod }));
    expect(s.phase).toBe('Failed');
    expect(cond(s, 'Degraded')).toMatchObject({
      status: 'True',
      reason,
      message: `boom ${reason}. Hint: do this`,
    });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason });
    expect(s.progress?.find((p) => p.name === step)).toMatchObject({
      state: 'Failed',
      message: `boom ${reason}`,
      finishedAt: '2026-11-21T10:05:00Z',
    });
  });

  it('an OOM kill of a lab that is running again keeps Running but sets Degraded OOMKilled and lastTermination', () => {
    const pod: PodReading = {
      ...ready,
      restarts: 1,
      failure: { reason: 'OOMKilled', message: 'ran out of memory', hint: 'bigger size' },
      lastTermination: { reason: 'OOMKilled', exitCode: 137, at: '2026-11-21T10:04:00Z' },
    };
    const s = computeStatus(input({ pod }));
    expect(s.phase).toBe('Running');
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'OOMKilled' });
    expect(s.lastTermination).toEqual({ reason: 'OOMKilled', exitCode: 137, at: '2026-11-21T10:04:00Z' });
  });

  it('quota refusal: Failed with QuotaExceeded and no further steps', () => {
    const s = computeStatus(
      input({
        quota: {
          admitted: false,
          reason: 'QuotaExceeded',
          message: 'Owner alice already has 2',
          used: 2,
          max: 2,
        },
        pod: { stage: 'Absent', restarts: 0 },
      }),
    );
    expect(s.phase).toBe('Failed');
    expect(cond(s, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'QuotaExceeded',
      message: 'Owner alice already has 2',
    });
    expect(s.progress).toEqual([
      {
        name: 'Admitted',
        state: 'Failed',
        message: 'Owner alice already has 2',
        startedAt: '2026-11-21T10:05:00Z',
        finishedAt: '2026-11-21T10:05:00Z',
      },
    ]);
  });

  it('invalid spec: Failed with the reason, no progress', () => {
    const s = computeStatus(
      input({
        invalid: { reason: 'ProfileNotFound', message: 'spec.profile: NotebookProfile nope not found' },
      }),
    );
    expect(s.phase).toBe('Failed');
    expect(cond(s, 'Degraded')).toMatchObject({ reason: 'ProfileNotFound' });
    expect(s.progress).toBeUndefined();
  });

  it('stop: Stopping while the Pod exists, then Stopped with the user stop recorded', () => {
    const lab = labFixture({ state: 'Stopped' });
    const stopping = computeStatus(
      input(
        {
          pod: { stage: 'Terminating', restarts: 0 },
          stoppedBy: { reason: 'User', message: 'Stopped by user' },
        },
        lab,
      ),
    );
    expect(stopping.phase).toBe('Stopping');
    expect(cond(stopping, 'Progressing')).toMatchObject({ status: 'True', reason: 'Stopping' });
    expect(stopping.lastTermination).toMatchObject({ reason: 'User', at: '2026-11-21T10:05:00Z' });
    const stopped = computeStatus(
      input(
        { pod: { stage: 'Absent', restarts: 0 }, now: new Date('2026-11-21T10:06:00Z') },
        { ...lab, status: stopping },
      ),
    );
    expect(stopped).toMatchObject({
      phase: 'Stopped',
      lastTermination: { reason: 'User', at: '2026-11-21T10:05:00Z' },
    });
    expect(stopped.progress).toBeUndefined();
    expect(stopped.cullAt).toBeUndefined();
    expect(cond(stopped, 'Ready')).toMatchObject({ status: 'False', reason: 'Stopped' });
  });

  it('a lab created Stopped has no home claim: no homeClaimName and nothing said to be kept', () => {
    const lab = labFixture({ state: 'Stopped' });
    const never = computeStatus(input({ pvc: undefined, pod: { stage: 'Absent', restarts: 0 } }, lab));
    expect(never).toMatchObject({ phase: 'Stopped', message: 'Lab is stopped' });
    expect(never.homeClaimName).toBeUndefined();
    // Once it has a home (it ran), stopping keeps it and says so.
    const kept = computeStatus(input({ pod: { stage: 'Absent', restarts: 0 } }, lab));
    expect(kept).toMatchObject({
      message: 'Lab is stopped; its home volume is kept',
      homeClaimName: 'alice-default-home',
    });
    // A starting lab names the claim it is creating; a refused or invalid one holding none does not.
    expect(computeStatus(input({ pvc: undefined })).homeClaimName).toBe('alice-default-home');
    const refused = { admitted: false, reason: 'QuotaExceeded', message: 'no', used: 2, max: 2 } as const;
    expect(computeStatus(input({ pvc: undefined, quota: refused })).homeClaimName).toBeUndefined();
    expect(
      computeStatus(input({ pvc: undefined, invalid: { reason: 'NameConflict', message: 'x' } }))
        .homeClaimName,
    ).toBeUndefined();
  });

  it('culling: warning condition with cullAt, then Culled recorded', () => {
    const cullAt = new Date('2026-11-21T10:30:00Z');
    const warn = computeStatus(
      input({
        culling: {
          decision: { action: 'warn', reason: 'Idle', cullAt, warnAt: new Date('2026-11-21T10:00:00Z') },
          lastActivity: new Date('2026-11-21T09:30:00Z'),
        },
      }),
    );
    expect(warn).toMatchObject({ cullAt: '2026-11-21T10:30:00Z', lastActivity: '2026-11-21T09:30:00Z' });
    expect(cond(warn, 'IdleWarning')).toMatchObject({
      status: 'True',
      reason: 'IdleSoon',
      message: expect.stringContaining('2026-11-21T10:30:00Z') as string,
    });
    const culled = computeStatus(
      input(
        { stoppedBy: { reason: 'Culled', message: 'Idle since 09:30' } },
        { ...labFixture(), status: warn },
      ),
    );
    expect(cond(culled, 'IdleWarning')).toMatchObject({ status: 'False', reason: 'Culled' });
    expect(culled.lastTermination).toMatchObject({ reason: 'Culled', message: 'Idle since 09:30' });
    expect(culled.lastActivity).toBe('2026-11-21T09:30:00Z');
  });

  it("keeps the stop's reason while the stopped Pod's container reports its own exit (a real kubelet)", () => {
    const culled = { reason: 'Culled', message: 'Idle', at: '2026-11-21T10:05:00Z' };
    const exited = { reason: 'Completed', exitCode: 0, at: '2026-11-21T10:05:03Z' };
    const stopped = { ...labFixture({ state: 'Stopped' }), status: { lastTermination: culled } };
    const terminating = computeStatus(
      input({ pod: { stage: 'Terminating', restarts: 0, lastTermination: exited } }, stopped),
    );
    expect(terminating.lastTermination).toEqual(culled);
    // A lab started again whose new Pod exits records that exit.
    const running = { ...labFixture(), status: { lastTermination: culled } };
    const crashed = computeStatus(
      input(
        { pod: { stage: 'Ended', restarts: 0, lastTermination: { ...exited, reason: 'Error' } } },
        running,
      ),
    );
    expect(crashed.lastTermination).toMatchObject({ reason: 'Error', at: '2026-11-21T10:05:03Z' });
  });

  it('pending home volume shows as a running step', () => {
    const s = computeStatus(
      input({ pvc: { status: { phase: 'Pending' } }, pod: { stage: 'Absent', restarts: 0 } }),
    );
    expect(s.phase).toBe('Pending');
    expect(s.progress?.find((p) => p.name === 'HomeVolume')).toMatchObject({
      state: 'Running',
      message: 'Waiting for alice-default-home to bind',
    });
  });

  it('an outdated running server: UpdatePending names both images, status.image is what runs; withdrawn after a restart', () => {
    const moved = computeStatus(
      input({
        runningImage: 'img:1',
        outdated: true,
        resolved: { image: 'img:2', size: 'small', url: 'http://x/lab' },
      }),
    );
    expect(moved.phase).toBe('Running');
    expect(moved.image).toBe('img:1');
    expect(cond(moved, 'UpdatePending')).toMatchObject({ status: 'True', reason: 'ImageChanged' });
    expect(cond(moved, 'UpdatePending')?.message).toMatch(
      /^Running img:1; the lab now resolves to img:2: stop and start/,
    );
    // Same image, something else changed (size, env): the reason says so.
    const other = computeStatus(input({ runningImage: 'img:1', outdated: true }));
    expect(cond(other, 'UpdatePending')).toMatchObject({ status: 'True', reason: 'SpecChanged' });

    const flagged = labFixture();
    flagged.status = moved;
    const restarted = computeStatus(
      input(
        { runningImage: 'img:2', resolved: { image: 'img:2', size: 'small', url: 'http://x/lab' } },
        flagged,
      ),
    );
    expect(restarted.image).toBe('img:2');
    expect(cond(restarted, 'UpdatePending')).toMatchObject({ status: 'False', reason: 'UpToDate' });
    const stopped = computeStatus(input({ pod: { stage: 'Absent', restarts: 0 } }, flagged));
    expect(cond(stopped, 'UpdatePending')).toMatchObject({ status: 'False', reason: 'NotRunning' });
    // Never outdated: no such condition at all.
    expect(cond(computeStatus(input({ runningImage: 'img:1' })), 'UpdatePending')).toBeUndefined();
  });
});
