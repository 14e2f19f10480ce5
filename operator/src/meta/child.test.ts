// childMeta and naming: owner references, the shared label set, DNS-safe deterministic names.
import { describe, expect, it } from 'vitest';
import { childMeta, controllerOf } from './child.js';
import { LABELS, MANAGED_SELECTOR, ownerSelector, selectorString } from './labels.js';
import { childName, dnsLabel, dnsSubdomain, labelValue, shortHash } from './naming.js';

const owner = {
  apiVersion: 'skyport.io/v1alpha1',
  kind: 'NotebookLab',
  metadata: { name: 'alice', namespace: 'science', uid: '0b0e8a1c-1111-2222-3333-444455556666' },
};

describe('childMeta', () => {
  it('sets a controller ownerReference and the standard labels', () => {
    const m = childMeta(owner, 'notebook', { name: childName('alice', 'notebook') });
    expect(m.name).toBe('alice-notebook');
    expect(m.namespace).toBe('science');
    expect(m.ownerReferences).toEqual([
      {
        apiVersion: 'skyport.io/v1alpha1',
        kind: 'NotebookLab',
        name: 'alice',
        uid: owner.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(m.labels).toEqual({
      'app.kubernetes.io/name': 'notebooklab',
      'app.kubernetes.io/instance': 'alice',
      'app.kubernetes.io/component': 'notebook',
      'app.kubernetes.io/managed-by': 'skyport-operator',
      'app.kubernetes.io/part-of': 'skyport',
      'skyport.io/owner-kind': 'notebooklab',
      'skyport.io/owner-name': 'alice',
      'skyport.io/owner-uid': owner.metadata.uid,
    });
    expect(controllerOf({ metadata: { ownerReferences: m.ownerReferences ?? [] } })?.uid).toBe(
      owner.metadata.uid,
    );
  });

  it('merges extra labels but refuses to override a standard one', () => {
    expect(
      childMeta(owner, 'home', { extraLabels: { 'skyport.io/user': 'alice' } }).labels['skyport.io/user'],
    ).toBe('alice');
    expect(() => childMeta(owner, 'home', { extraLabels: { [LABELS.managedBy]: 'helm' } })).toThrow(
      /would override/,
    );
  });

  it('leaves out the ownerReference for retained children, keeping the labels', () => {
    const m = childMeta(owner, 'home', { owned: false });
    expect(m.ownerReferences).toBeUndefined();
    expect(m.labels[LABELS.ownerUid]).toBe(owner.metadata.uid);
  });

  it('turns over-long owner names into valid, distinct label values', () => {
    const long = 'a'.repeat(80);
    const m = childMeta({ ...owner, metadata: { ...owner.metadata, name: long } }, 'notebook');
    const v = m.labels[LABELS.instance] ?? '';
    expect(v.length).toBeLessThanOrEqual(63);
    expect(v).toMatch(/^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/);
    expect(labelValue(`${long}b`)).not.toBe(v);
  });

  it('selectors reuse the same constants', () => {
    expect(MANAGED_SELECTOR).toBe('app.kubernetes.io/managed-by=skyport-operator');
    expect(ownerSelector('u1')).toBe('skyport.io/owner-uid=u1');
    expect(selectorString({ b: '2', a: '1' })).toBe('a=1,b=2');
  });
});

describe('naming', () => {
  it('keeps valid short names as they are', () => {
    expect(dnsLabel(['alice', 'notebook'])).toBe('alice-notebook');
    expect(childName('lab-1', 'home')).toBe('lab-1-home');
  });

  it('sanitises invalid characters with a hash so distinct inputs stay distinct', () => {
    const a = dnsLabel(['Alice.Smith', 'home']);
    const b = dnsLabel(['alice-smith', 'home']);
    expect(a).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(a).not.toBe(b);
    expect(a).toBe(dnsLabel(['Alice.Smith', 'home']));
  });

  it('truncates to 63 with a hash suffix, deterministically', () => {
    const name = childName('x'.repeat(70), 'notebook');
    expect(name.length).toBe(63);
    expect(name.endsWith(`-${shortHash(`${'x'.repeat(70)}-notebook`)}`)).toBe(true);
    expect(childName('x'.repeat(70), 'notebook')).toBe(name);
    expect(childName('x'.repeat(71), 'notebook')).not.toBe(name);
    expect(dnsSubdomain('y'.repeat(100))).toBe('y'.repeat(100));
  });

  it('never returns an empty or dash-edged name', () => {
    expect(dnsLabel('---')).toMatch(/^x-[0-9a-f]{8}$/);
    expect(dnsLabel(['-a-', '_'])).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});
