// Unit tests for the home-claim gate: which claims hold the Pod back, and when a claim that never binds is reported.
import { describe, expect, it } from 'vitest';
import type { KubeObject, V1PersistentVolumeClaim } from '../../kube/index.js';
import { storageClassForCache } from './cache.js';
import {
  DEFAULT_CLASS_ANNOTATION,
  EARLY_POD_MAX_WAITING,
  defaultClass,
  holdsPod,
  homeBindCheck,
  homeState,
  unboundClaims,
} from './home.js';
import type { StorageClassLite } from './home.js';
import { readPod } from './pod.js';

/** A class marked as the cluster default, created at `created`. */
const defaultSc = (name: string, created: string, volumeBindingMode: string): StorageClassLite => ({
  metadata: { name, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' }, creationTimestamp: created },
  volumeBindingMode,
});
const immediate = defaultSc('standard', '2026-01-01T00:00:00Z', 'Immediate');
const wffc: StorageClassLite = { metadata: { name: 'local-ssd' }, volumeBindingMode: 'WaitForFirstConsumer' };
const claim = (over: Partial<V1PersistentVolumeClaim> = {}): V1PersistentVolumeClaim => ({
  metadata: { name: 'alice-home', creationTimestamp: '2026-11-22T10:00:00Z' },
  spec: { storageClassName: 'standard' },
  status: { phase: 'Pending' },
  ...over,
});

describe('homeState', () => {
  it('lets the Pod go once the claim is bound, whatever the class', () => {
    expect(homeState(claim({ status: { phase: 'Bound' } }), undefined, [immediate])).toEqual({
      kind: 'bound',
    });
  });

  it('holds the Pod while an immediate-binding claim is pending, with the claim age', () => {
    expect(homeState(claim(), undefined, [immediate, wffc])).toEqual({
      kind: 'waiting',
      className: 'standard',
      since: '2026-11-22T10:00:00Z',
    });
  });

  it('does not hold the Pod for a WaitForFirstConsumer class (the scheduler binds it for the Pod)', () => {
    const c = claim({ spec: { storageClassName: 'local-ssd' } });
    expect(homeState(c, undefined, [immediate, wffc])).toEqual({ kind: 'consumer', className: 'local-ssd' });
    // Before the claim shows up in the cache: the lab's requested class decides.
    expect(homeState(undefined, 'local-ssd', [immediate, wffc]).kind).toBe('consumer');
  });

  it('falls back to the newest default class, and treats no class or an unknown one as immediate', () => {
    const newer = defaultSc('fast', '2026-06-01T00:00:00Z', 'WaitForFirstConsumer');
    expect(defaultClass([immediate, newer])?.metadata?.name).toBe('fast');
    expect(homeState(undefined, undefined, [immediate, newer])).toEqual({
      kind: 'consumer',
      className: 'fast',
    });
    expect(homeState(undefined, undefined, [])).toEqual({ kind: 'waiting', className: '' });
    expect(homeState(claim({ spec: { storageClassName: 'gone' } }), undefined, [wffc]).kind).toBe('waiting');
  });
});

describe('holdsPod', () => {
  const waiting = { kind: 'waiting', className: 'standard' } as const;
  it('creates the Pod with its claim while few claims wait to bind, and holds it from EARLY_POD_MAX_WAITING on', () => {
    expect(holdsPod(waiting, () => 0)).toBe(false);
    expect(holdsPod(waiting, () => EARLY_POD_MAX_WAITING - 1)).toBe(false);
    expect(holdsPod(waiting, () => EARLY_POD_MAX_WAITING)).toBe(true);
    expect(holdsPod(waiting, () => 3, 3)).toBe(true);
  });

  it('never holds for a bound claim or a consumer-bound class, and counts claims only for a waiting one', () => {
    const never = (): number => {
      throw new Error('counted');
    };
    expect(holdsPod({ kind: 'bound' }, never)).toBe(false);
    expect(holdsPod({ kind: 'consumer', className: 'wffc' }, never)).toBe(false);
  });

  it('counts the claims that are not bound', () => {
    const pvc = (phase?: string): V1PersistentVolumeClaim =>
      phase === undefined ? {} : { status: { phase } };
    expect(unboundClaims([pvc('Bound'), pvc('Pending'), pvc(), pvc('Lost'), pvc('Bound')])).toBe(3);
    expect(unboundClaims([])).toBe(0);
  });
});

describe('homeBindCheck', () => {
  const waiting = homeState(claim(), undefined, [immediate]);

  it('asks to be called back when the timeout will expire', () => {
    expect(homeBindCheck(waiting, 'alice-home', new Date('2026-11-22T10:00:20Z'), 60_000)).toEqual({
      recheckMs: 40_000,
    });
  });

  it('reports a claim that has not bound in time, naming claim, class and what to check', () => {
    const { failure } = homeBindCheck(waiting, 'alice-home', new Date('2026-11-22T10:01:30Z'), 60_000);
    expect(failure?.reason).toBe('HomeVolumePending');
    expect(failure?.message).toBe(
      'Home volume claim alice-home (StorageClass standard) has not bound after 90 s',
    );
    expect(failure?.hint).toContain('kubectl describe pvc alice-home');
  });

  it('has nothing to say about a bound claim, a consumer-bound class or a claim not created yet', () => {
    const now = new Date('2026-11-22T11:00:00Z');
    expect(homeBindCheck({ kind: 'bound' }, 'x', now, 1000)).toEqual({});
    expect(homeBindCheck({ kind: 'consumer', className: 'local-ssd' }, 'x', now, 1000)).toEqual({});
    expect(homeBindCheck({ kind: 'waiting', className: 'standard' }, 'x', now, 1000)).toEqual({});
  });
});

describe('storageClassForCache', () => {
  it('keeps the metadata (name, default mark) and the binding mode only', () => {
    const sc: KubeObject = {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {
        name: 'standard',
        annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
      },
      provisioner: 'kubernetes.io/no-provisioner',
      parameters: { type: 'gp3' },
      volumeBindingMode: 'Immediate',
    };
    expect(storageClassForCache(sc)).toEqual({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      volumeBindingMode: 'Immediate',
    });
  });
});

describe('readPod and unbound claims', () => {
  const unschedulable = (message: string) =>
    readPod({
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'lab' }] },
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }],
      },
    });

  it('does not call a Pod waiting for its claim to bind Unschedulable', () => {
    const r = unschedulable('0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.');
    expect(r.failure).toBeUndefined();
    expect(r.stage).toBe('Created');
  });

  it('still calls a lack of capacity Unschedulable', () => {
    expect(unschedulable('0/3 nodes are available: 3 Insufficient cpu.').failure?.reason).toBe(
      'Unschedulable',
    );
  });
});
