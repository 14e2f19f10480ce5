// Unit tests of the provisioner's pure parts: which claims get a volume, and what that volume is.
import type { V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { PROVISIONED_BY, needsVolume, volumeForClaim } from './provisioner.js';

const claim = (over: Partial<V1PersistentVolumeClaim> = {}): V1PersistentVolumeClaim => ({
  metadata: { name: 'home', namespace: 'lab', uid: 'u-1' },
  spec: {
    storageClassName: 'standard',
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: '5Gi' } },
  },
  status: { phase: 'Pending' },
  ...over,
});

describe('needsVolume', () => {
  it('selects pending claims of our class without a volume', () => {
    expect(needsVolume(claim(), 'standard')).toBe(true);
    expect(needsVolume(claim(), 'other')).toBe(false);
    expect(needsVolume(claim({ status: { phase: 'Bound' } }), 'standard')).toBe(false);
    const bound = claim();
    bound.spec = { ...bound.spec, volumeName: 'pv-1' };
    expect(needsVolume(bound, 'standard')).toBe(false);
    expect(
      needsVolume(
        claim({ metadata: { name: 'h', namespace: 'n', uid: 'u', deletionTimestamp: new Date() } }),
        'standard',
      ),
    ).toBe(false);
  });
});

describe('volumeForClaim', () => {
  it('pre-binds a PV of the requested size to the claim by UID', () => {
    const pv = volumeForClaim(claim(), 'standard');
    expect(pv.metadata?.name).toBe('pvc-u-1');
    expect(pv.metadata?.annotations?.[PROVISIONED_BY]).toBe('true');
    expect(pv.spec?.capacity).toEqual({ storage: '5Gi' });
    expect(pv.spec?.claimRef).toMatchObject({ name: 'home', namespace: 'lab', uid: 'u-1' });
    expect(pv.spec?.storageClassName).toBe('standard');
    expect(pv.spec?.persistentVolumeReclaimPolicy).toBe('Retain');
  });
  it('says which field is missing', () => {
    expect(() => volumeForClaim(claim({ spec: { storageClassName: 'standard' } }), 'standard')).toThrow(
      /lab\/home: spec.resources.requests.storage is required/,
    );
    expect(() => volumeForClaim(claim({ metadata: { name: 'x' } }), 'standard')).toThrow(
      /metadata.name\/namespace\/uid/,
    );
  });
});
