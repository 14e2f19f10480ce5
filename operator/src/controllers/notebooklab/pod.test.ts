// Unit tests for reading lab Pod status: stages and the four fail-fast reasons.
import type { V1ContainerStatus, V1Pod } from '../../kube/index.js';
import { describe, expect, it } from 'vitest';
import { readPod } from './pod.js';

function pod(status: NonNullable<V1Pod['status']>, extra: Partial<V1Pod> = {}): V1Pod {
  return {
    metadata: { name: 'l-lab', namespace: 'nb' },
    spec: { containers: [{ name: 'lab', image: 'reg/lab:1', resources: { limits: { memory: '2Gi' } } }] },
    status,
    ...extra,
  };
}
const T = '2026-11-21T10:00:00Z';
const cs = (s: Partial<V1ContainerStatus>): V1ContainerStatus => ({
  name: 'lab',
  image: 'reg/lab:1',
  imageID: '',
  ready: false,
  restartCount: 0,
  ...s,
});

describe('readPod', () => {
  it('absent and created', () => {
    expect(readPod(undefined)).toEqual({ stage: 'Absent', restarts: 0 });
    expect(readPod(pod({ phase: 'Pending' })).stage).toBe('Created');
  });
  it('ready with timestamps', () => {
    const r = readPod(
      pod({
        phase: 'Running',
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: T },
          { type: 'Ready', status: 'True', lastTransitionTime: '2026-11-21T10:00:05Z' },
        ],
        containerStatuses: [cs({ ready: true, state: { running: { startedAt: '2026-11-21T10:00:03Z' } } })],
      }),
    );
    expect(r).toMatchObject({
      stage: 'Ready',
      scheduledAt: T,
      startedAt: '2026-11-21T10:00:03Z',
      readyAt: '2026-11-21T10:00:05Z',
    });
    expect(r.failure).toBeUndefined();
  });
  it('unschedulable', () => {
    const r = readPod(
      pod({
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/3 nodes: Insufficient memory',
          },
        ],
      }),
    );
    expect(r.failure).toMatchObject({
      reason: 'Unschedulable',
      message: expect.stringContaining('Insufficient memory') as string,
    });
    expect(r.failure?.hint).toMatch(/smaller size/);
  });
  it.each(['ErrImagePull', 'ImagePullBackOff'])('image pull failure (%s)', (reason) => {
    const r = readPod(
      pod({
        phase: 'Pending',
        containerStatuses: [cs({ state: { waiting: { reason, message: 'not found' } } })],
      }),
    );
    expect(r.failure).toMatchObject({
      reason: 'ImagePullFailed',
      message: expect.stringContaining('reg/lab:1') as string,
    });
  });
  it('crash loop by kubelet reason and by restart count', () => {
    const a = readPod(
      pod({
        phase: 'Running',
        containerStatuses: [cs({ restartCount: 1, state: { waiting: { reason: 'CrashLoopBackOff' } } })],
      }),
    );
    expect(a.failure?.reason).toBe('CrashLoop');
    const b = readPod(
      pod({
        phase: 'Running',
        containerStatuses: [
          cs({
            restartCount: 3,
            state: { running: {} },
            lastState: { terminated: { exitCode: 1, reason: 'Error' } },
          }),
        ],
      }),
    );
    expect(b.failure).toMatchObject({
      reason: 'CrashLoop',
      message: expect.stringContaining('last: Error') as string,
    });
  });
  it('OOM kill wins over the crash loop and names the limit', () => {
    const r = readPod(
      pod({
        phase: 'Running',
        containerStatuses: [
          cs({
            restartCount: 4,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: T } },
          }),
        ],
      }),
    );
    expect(r.failure).toMatchObject({
      reason: 'OOMKilled',
      message: expect.stringContaining('limit 2Gi') as string,
    });
    expect(r.lastTermination).toEqual({ reason: 'OOMKilled', exitCode: 137, at: T });
  });
  it('an OOM kill is still reported after the container is running again', () => {
    const r = readPod(
      pod({
        phase: 'Running',
        containerStatuses: [
          cs({
            ready: true,
            restartCount: 1,
            state: { running: {} },
            lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
          }),
        ],
      }),
    );
    expect(r.stage).toBe('Ready');
    expect(r.failure?.reason).toBe('OOMKilled');
  });
  it('a terminating pod reports no failure', () => {
    const r = readPod(pod({ phase: 'Running' }, { metadata: { name: 'x', deletionTimestamp: T } }));
    expect(r).toMatchObject({ stage: 'Terminating' });
    expect(r.failure).toBeUndefined();
  });
  it('an ended pod is PodFailed', () => {
    const r = readPod(
      pod({
        phase: 'Failed',
        message: 'evicted',
        containerStatuses: [cs({ state: { terminated: { exitCode: 2 } } })],
      }),
    );
    expect(r.failure).toMatchObject({
      reason: 'PodFailed',
      message: expect.stringContaining('evicted') as string,
    });
  });
});
