// Standard predicates and transforms: what wakes a reconcile, and what a metadata-only cache keeps.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../kube/client.js';
import { generationChanged, generationOrMetadataChanged } from './predicates.js';
import { metadataOnly } from './transforms.js';

const obj = (meta: Record<string, unknown>, status?: unknown): KubeObject => ({
  apiVersion: 'v1',
  kind: 'X',
  metadata: { name: 'x', generation: 1, resourceVersion: '1', ...meta },
  ...(status === undefined ? {} : { status }),
});

describe('predicates', () => {
  it('ignore status and finalizer writes (resourceVersion only)', () => {
    const a = obj({});
    const b = obj({ resourceVersion: '2', finalizers: ['f'] }, { phase: 'Ready' });
    expect(generationChanged(b, a)).toBe(false);
    expect(generationOrMetadataChanged(b, a)).toBe(false);
  });

  it('pass a new generation or a deletion; labels and annotations only for the metadata predicate', () => {
    const a = obj({});
    expect(generationChanged(obj({ generation: 2 }), a)).toBe(true);
    expect(generationChanged(obj({ deletionTimestamp: '2026-01-01T00:00:00Z' }), a)).toBe(true);
    expect(generationChanged(obj({ labels: { a: 'b' } }), a)).toBe(false);
    expect(generationOrMetadataChanged(obj({ labels: { a: 'b' } }), a)).toBe(true);
    expect(generationOrMetadataChanged(obj({ annotations: { a: 'b' } }), a)).toBe(true);
  });
});

describe('metadataOnly', () => {
  it('keeps the header and metadata, drops spec, status and data', () => {
    const o = { ...obj({}, { phase: 'x' }), spec: { a: 1 }, data: { k: 'v' } };
    expect(metadataOnly(o)).toEqual({ apiVersion: 'v1', kind: 'X', metadata: o.metadata });
  });
});
