// Unit tests of the provisioner's pure parts: which claims get a volume, and what that volume is.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1PersistentVolume, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import {
  PROVISIONED_BY,
  makeVolumeDir,
  needsVolume,
  removeVolumeDir,
  volumeForClaim,
} from './provisioner.js';

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
  it('points the hostPath at the claim UID under the volume root, which must exist', () => {
    expect(volumeForClaim(claim(), 'standard', '/v').spec?.hostPath).toEqual({
      path: '/v/u-1',
      type: 'Directory',
    });
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

describe('volume directories', () => {
  const roots: string[] = [];
  const root = (): string => {
    const r = mkdtempSync(join(tmpdir(), 'prov-test-'));
    roots.push(r);
    return r;
  };
  afterEach(() => {
    for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
  });
  const pvAt = (path: string): V1PersistentVolume => ({ spec: { hostPath: { path } } });

  it('makes a directory any uid can write (hostPath ignores fsGroup)', () => {
    const r = root();
    const dir = makeVolumeDir(r, 'u-1');
    expect(dir).toBe(join(r, 'u-1'));
    expect(statSync(dir).mode & 0o777).toBe(0o777);
    expect(makeVolumeDir(r, 'u-1')).toBe(dir); // again: no error
  });
  it('removes a released volume with its files, never a path outside the root', () => {
    const r = root();
    const dir = makeVolumeDir(r, 'u-1');
    writeFileSync(join(dir, 'notebook.ipynb'), '{}');
    expect(removeVolumeDir(r, pvAt(dir))).toBe(true);
    expect(existsSync(dir)).toBe(false);
    const outside = root();
    for (const p of [outside, r, join(r, 'a', 'b'), join(r, '..', 'x')])
      expect(removeVolumeDir(r, pvAt(p)), p).toBe(false);
    expect(removeVolumeDir(r, { spec: {} })).toBe(false);
    expect(existsSync(outside)).toBe(true);
  });
});
