// Unit tests for the ownership rule: a lab writes only its own children and its own (or its owner's retained) home.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../kube/index.js';
import { buildChildren } from './build.js';
import { labFixture, profileFixture } from './fixtures.test-util.js';
import { CONFLICT_RECHECK_MS, conflictRecheckMs, nameConflict, ownershipOf } from './ownership.js';

const lab = labFixture();
const children = buildChildren(lab, profileFixture(), { token: 't' }, { admitted: true });
const asKube = (o: object): KubeObject => o as KubeObject;
const service = asKube(children.service);
const home = asKube(children.home);

/** `o` with its metadata changed by `f` (a deep copy). */
function edit(o: KubeObject, f: (m: NonNullable<KubeObject['metadata']>) => void): KubeObject {
  const copy = structuredClone(o);
  f(copy.metadata ?? {});
  return copy;
}

describe('ownershipOf', () => {
  it('nothing there is absent; the lab’s own child (label + controller reference) is ours', () => {
    expect(ownershipOf('Service', undefined, lab)).toEqual({ state: 'absent' });
    expect(ownershipOf('Service', service, lab)).toEqual({ state: 'ours' });
    expect(ownershipOf('Pod', asKube(children.pod ?? {}), lab)).toEqual({ state: 'ours' });
  });

  it('an object someone else made is foreign: no managed-by label, or no controller, or another controller', () => {
    const squat = asKube({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'alice-default-lab' } });
    expect(ownershipOf('Service', squat, lab)).toEqual({
      state: 'foreign',
      why: 'was not created by skyport',
    });
    const labelledOnly = edit(service, (m) => delete m.ownerReferences);
    expect(ownershipOf('Service', labelledOnly, lab)).toEqual({ state: 'foreign', why: 'has no controller' });
    const deployment = edit(service, (m) => {
      m.ownerReferences = [
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd1', controller: true },
      ];
    });
    expect(ownershipOf('Secret', deployment, lab)).toEqual({
      state: 'foreign',
      why: 'is controlled by Deployment web',
    });
    // Our label and an ownerReference to this lab that is not the controller's: still not adopted.
    const notController = edit(service, (m) => {
      m.ownerReferences = (m.ownerReferences ?? []).map((r) => ({ ...r, controller: false }));
    });
    expect(ownershipOf('Service', notController, lab).state).toBe('foreign');
  });

  it('a child of an earlier lab of the same name is stale (garbage), of another lab foreign', () => {
    const earlier = edit(service, (m) => {
      m.uid = 'svc-1';
      m.ownerReferences = (m.ownerReferences ?? []).map((r) => ({ ...r, uid: 'old-lab-uid' }));
    });
    expect(ownershipOf('Service', earlier, lab)).toEqual({
      state: 'stale',
      uid: 'svc-1',
      terminating: false,
    });
    const going = edit(earlier, (m) => (m.deletionTimestamp = '2026-11-21T10:00:00Z'));
    expect(ownershipOf('Service', going, lab)).toMatchObject({ state: 'stale', terminating: true });
    const other = edit(earlier, (m) => {
      m.ownerReferences = (m.ownerReferences ?? []).map((r) => ({ ...r, name: 'bob-lab' }));
    });
    expect(ownershipOf('Service', other, lab)).toEqual({
      state: 'foreign',
      why: 'is controlled by NotebookLab bob-lab',
    });
  });

  it('a home claim is ours while its owner-uid is this lab, or retained from a namesake of the same owner and profile', () => {
    expect(ownershipOf('PersistentVolumeClaim', home, lab)).toEqual({ state: 'ours' });
    const retained = edit(home, (m) => (m.labels = { ...m.labels, 'skyport.io/owner-uid': 'old-lab-uid' }));
    expect(ownershipOf('PersistentVolumeClaim', retained, lab)).toEqual({ state: 'ours' });
    const mallory = labFixture({ owner: 'mallory' });
    expect(ownershipOf('PersistentVolumeClaim', retained, mallory)).toEqual({
      state: 'foreign',
      why: "is another owner's retained home",
    });
    const otherProfile = labFixture({ profile: 'gpu' });
    expect(ownershipOf('PersistentVolumeClaim', retained, otherProfile)).toEqual({
      state: 'foreign',
      why: 'is a retained home of profile des-jupyterlab, not gpu',
    });
    // A home made before claims recorded their profile goes back to the same owner.
    const legacy = edit(retained, (m) => delete m.annotations);
    expect(ownershipOf('PersistentVolumeClaim', legacy, otherProfile)).toEqual({ state: 'ours' });
  });

  it('a claim that is not a skyport home is foreign, whatever its owner label says', () => {
    const plain = asKube({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'alice-default-home', labels: { 'skyport.io/owner': 'alice' } },
    });
    expect(ownershipOf('PersistentVolumeClaim', plain, lab)).toEqual({
      state: 'foreign',
      why: 'was not created by skyport as a lab home',
    });
    const controlled = edit(home, (m) => {
      m.ownerReferences = [
        { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 's1', controller: true },
      ];
    });
    expect(ownershipOf('PersistentVolumeClaim', controlled, lab)).toEqual({
      state: 'foreign',
      why: 'is controlled by StatefulSet db',
    });
  });
});

describe('nameConflict', () => {
  it('names the kind, the name and why, and ends with a hint', () => {
    const c = nameConflict('Service', 'squat-lab', 'was not created by skyport');
    expect(c.reason).toBe('NameConflict');
    expect(c.message).toMatch(/^Service squat-lab already exists and was not created by skyport; .*Hint: /);
  });
});

describe('conflictRecheckMs', () => {
  it('backs off as long as the conflict has lasted, within bounds', () => {
    const now = new Date('2026-11-21T10:00:00Z');
    const since = (ms: number, reason = 'NameConflict') => [
      { type: 'Degraded', reason, lastTransitionTime: new Date(now.getTime() - ms).toISOString() },
    ];
    expect(conflictRecheckMs(undefined, now)).toBe(CONFLICT_RECHECK_MS.min);
    expect(conflictRecheckMs(since(1_000), now)).toBe(CONFLICT_RECHECK_MS.min);
    expect(conflictRecheckMs(since(40_000), now)).toBe(40_000);
    expect(conflictRecheckMs(since(3_600_000), now)).toBe(CONFLICT_RECHECK_MS.max);
    // Another problem before the conflict: the conflict is new.
    expect(conflictRecheckMs(since(40_000, 'QuotaExceeded'), now)).toBe(CONFLICT_RECHECK_MS.min);
  });
});
