// AnomalyService status from its children and the pool status; the scaler's window across calls and restarts;
// the /v1/status body check and token parsing.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../kube/index.js';
import { serviceFixture } from './fixtures.test-util.js';
import { firstToken, parsePoolStatus, PoolStatusError } from './poolstatus.js';
import { Scaler } from './scaler.js';
import { anomalyStatus, sameStatus } from './status.js';

const NOW = new Date('2026-12-02T12:00:00Z');
const ready = (replicas: number, readyReplicas: number): KubeObject => ({
  status: { replicas, readyReplicas },
});
const pool = (queueDepth: number) => ({
  ok: true as const,
  status: { queueDepth, tasksRunning: 1, jobsRunning: 2, workers: 2, modelsStored: 4 },
});
const condition = (s: ReturnType<typeof anomalyStatus>, type: string) =>
  s.conditions?.find((c) => c.type === type);

describe('anomalyStatus', () => {
  it('Ready when Redis, the API and every worker are ready; counts from the pool status', () => {
    const svc = serviceFixture();
    const s = anomalyStatus({
      svc,
      redis: ready(1, 1),
      api: ready(1, 1),
      workers: ready(2, 2),
      pool: pool(9),
      now: NOW,
    });
    expect(condition(s, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready', observedGeneration: 1 });
    expect(s).toMatchObject({
      observedGeneration: 1,
      url: 'http://efd-api.telemetry.svc:8080',
      workerReplicas: 2,
      readyWorkers: 2,
      queueDepth: 9,
      jobsRunning: 2,
      modelsStored: 4,
      workerSelector: `app.kubernetes.io/component=workers,skyport.io/owner-uid=${svc.metadata.uid ?? ''}`,
    });
    expect(condition(s, 'Scaling')).toMatchObject({ status: 'False', reason: 'Disabled' });
    expect(condition(s, 'Degraded')).toMatchObject({ status: 'False' });
  });

  it('names the first component that is not ready', () => {
    const svc = serviceFixture();
    const noRedis = anomalyStatus({
      svc,
      redis: ready(1, 0),
      api: ready(1, 1),
      workers: ready(2, 2),
      now: NOW,
    });
    expect(condition(noRedis, 'Ready')).toMatchObject({ status: 'False', reason: 'RedisNotReady' });
    const fewWorkers = anomalyStatus({
      svc,
      redis: ready(1, 1),
      api: ready(1, 1),
      workers: ready(2, 1),
      now: NOW,
    });
    expect(condition(fewWorkers, 'Ready')).toMatchObject({ status: 'False', reason: 'WorkersNotReady' });
    expect(condition(fewWorkers, 'WorkersReady')?.message).toBe('1/2 worker Pods ready');
  });

  it('external Redis is RedisReady=True (External); zero workers are WorkersReady (ScaledToZero)', () => {
    const svc = serviceFixture({
      redis: { external: { urlSecretRef: { name: 'r', key: 'url' } } },
      workers: { replicas: 0, threads: 1 },
    });
    const s = anomalyStatus({ svc, api: ready(1, 1), workers: ready(0, 0), now: NOW });
    expect(condition(s, 'RedisReady')).toMatchObject({ status: 'True', reason: 'External' });
    expect(condition(s, 'WorkersReady')).toMatchObject({ status: 'True', reason: 'ScaledToZero' });
    expect(condition(s, 'Ready')?.status).toBe('True');
  });

  it('an unreachable /v1/status is Degraded and keeps the last counts', () => {
    const first = anomalyStatus({ svc: serviceFixture(), api: ready(1, 1), pool: pool(5), now: NOW });
    const svc = { ...serviceFixture(), status: first };
    const s = anomalyStatus({
      svc,
      api: ready(1, 1),
      pool: { ok: false, error: 'GET x: HTTP 401' },
      now: NOW,
    });
    expect(condition(s, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'StatusUnreachable',
      message: 'GET x: HTTP 401',
    });
    expect(s.queueDepth).toBe(5);
  });

  it('records a scale-up in lastScale and Scaling; AtDesired keeps the last decision', () => {
    const svc = serviceFixture({ autoscaling: autoscaling() });
    const decision = new Scaler().decide(svc, 23, NOW.getTime());
    const s = anomalyStatus({ svc, api: ready(1, 1), pool: pool(23), decision, from: 2, now: NOW });
    expect(s.lastScale).toEqual({
      time: '2026-12-02T12:00:00Z',
      replicas: 5,
      from: 2,
      desired: 5,
      queueDepth: 23,
      reason: 'ScaledUp',
      message: 'queue depth 23 at 5 per worker wants 5; scaled up from 2',
    });
    expect(condition(s, 'Scaling')).toMatchObject({ status: 'True', reason: 'ScaledUp' });
    const after = { ...svc, spec: { ...svc.spec, workers: { replicas: 5, threads: 2 } }, status: s };
    const steady = new Scaler().decide(after, 25, NOW.getTime() + 1000);
    expect(steady?.reason).toBe('AtDesired');
    const s2 = anomalyStatus({ svc: after, api: ready(1, 1), pool: pool(25), decision: steady, now: NOW });
    expect(s2.lastScale).toEqual(s.lastScale);
  });

  it('sameStatus ignores key order (the apiserver sorts keys)', () => {
    const s = anomalyStatus({ svc: serviceFixture(), api: ready(1, 1), now: NOW });
    const reordered = JSON.parse(JSON.stringify(s, Object.keys(s).sort())) as typeof s;
    expect(sameStatus({ ...reordered, conditions: s.conditions ?? [] }, s)).toBe(true);
    expect(sameStatus(undefined, s)).toBe(false);
    expect(sameStatus({ ...s, queueDepth: 1 }, s)).toBe(false);
  });
});

function autoscaling(window = 60) {
  return {
    minReplicas: 1,
    maxReplicas: 6,
    targetQueueDepthPerWorker: 5,
    scaleDownStabilizationSeconds: window,
  };
}

describe('Scaler', () => {
  it('keeps the window across calls: a burst holds the pool until the window has passed', () => {
    const scaler = new Scaler();
    const t0 = NOW.getTime();
    const svc = serviceFixture({ autoscaling: autoscaling(60), workers: { replicas: 1, threads: 1 } });
    expect(scaler.decide(svc, 30, t0)?.replicas).toBe(6);
    const at6 = { ...svc, spec: { ...svc.spec, workers: { replicas: 6, threads: 1 } } };
    expect(scaler.decide(at6, 0, t0 + 30_000)).toMatchObject({ replicas: 6, reason: 'StabilizingScaleDown' });
    expect(scaler.decide(at6, 0, t0 + 60_001)).toMatchObject({ replicas: 1, reason: 'ScaledDown' });
  });

  it('after a restart, the window starts from status.lastScale', () => {
    const t0 = NOW.getTime();
    const svc = {
      ...serviceFixture({ autoscaling: autoscaling(60), workers: { replicas: 6, threads: 1 } }),
      status: {
        lastScale: {
          time: NOW.toISOString(),
          replicas: 6,
          from: 1,
          desired: 6,
          queueDepth: 30,
          reason: 'ScaledUp' as const,
          message: 'm',
        },
      },
    };
    expect(new Scaler().decide(svc, 0, t0 + 10_000)).toMatchObject({
      replicas: 6,
      reason: 'StabilizingScaleDown',
    });
    expect(new Scaler().decide(svc, 0, t0 + 61_000)).toMatchObject({ replicas: 1, reason: 'ScaledDown' });
  });

  it('no spec.autoscaling: no decision', () => {
    expect(new Scaler().decide(serviceFixture(), 100, 0)).toBeUndefined();
  });
});

describe('pool status', () => {
  it('accepts the service body and names a bad field', () => {
    expect(
      parsePoolStatus({
        queueDepth: 3,
        tasksRunning: 0,
        jobsRunning: 1,
        workers: 2,
        modelsStored: 0,
        time: 'x',
      }),
    ).toEqual({ queueDepth: 3, tasksRunning: 0, jobsRunning: 1, workers: 2, modelsStored: 0 });
    expect(() => parsePoolStatus({ queueDepth: -1 })).toThrow(
      new PoolStatusError('queueDepth must be an integer ≥ 0, got -1'),
    );
    expect(() => parsePoolStatus('x')).toThrow(PoolStatusError);
  });

  it('takes the first token of TOKENS', () => {
    expect(firstToken('default=abc0123456789abcdef,other=zzz')).toBe('abc0123456789abcdef');
    expect(firstToken('')).toBeUndefined();
    expect(firstToken('tenant-only')).toBeUndefined();
  });
});
