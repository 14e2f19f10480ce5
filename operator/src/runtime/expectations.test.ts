import { describe, expect, it } from 'vitest';
// Expectations, spec hashes and apply-if-changed: what a reconcile writes, and what it leaves alone.
import type { KubeObject } from '../kube/client.js';
import {
  EXPECTATION_TTL_MS,
  Expectations,
  SPEC_HASH,
  applyIfChanged,
  builtFromOther,
  withHash,
} from './expectations.js';

const svc = (port: number): KubeObject =>
  withHash({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'n' }, spec: { port } });

describe('Expectations', () => {
  it('hashes the content: same object, same hash; a changed field, another', () => {
    expect(svc(1).metadata?.annotations?.[SPEC_HASH]).toBe(svc(1).metadata?.annotations?.[SPEC_HASH]);
    expect(svc(1).metadata?.annotations?.[SPEC_HASH]).not.toBe(svc(2).metadata?.annotations?.[SPEC_HASH]);
  });

  it('writes what the cache lacks, then waits for the watch to show it, then writes again after the TTL', () => {
    let now = 1_000;
    const e = new Expectations({ clock: () => now });
    const run = { awaitingCache: false };
    expect(e.needsWrite('u', 'Service', svc(1), undefined, run)).toBe(true);
    e.wrote('u', 'Service', svc(1));
    expect(e.needsWrite('u', 'Service', svc(1), undefined, run)).toBe(false);
    expect(run.awaitingCache).toBe(true);
    // A different desired version is not covered by the expectation.
    expect(e.needsWrite('u', 'Service', svc(2), undefined, { awaitingCache: false })).toBe(true);
    now += EXPECTATION_TTL_MS;
    expect(e.needsWrite('u', 'Service', svc(1), undefined, { awaitingCache: false })).toBe(true);
  });

  it('compares with the cached child by hash; an existing Pod is never rewritten', () => {
    const e = new Expectations({ clock: () => 0, createOnly: ['Pod'] });
    const run = { awaitingCache: false };
    expect(e.needsWrite('u', 'Service', svc(1), svc(1), run)).toBe(false);
    expect(e.needsWrite('u', 'Service', svc(2), svc(1), run)).toBe(true);
    const pod = withHash({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { a: 1 } });
    const other = withHash({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { a: 2 } });
    expect(e.needsWrite('u', 'Pod', pod, other, run)).toBe(false);
    expect(run.awaitingCache).toBe(false);
  });

  it('a cached child clears the expectation, and forget drops a lab', () => {
    const e = new Expectations({ clock: () => 0, createOnly: ['Pod'] });
    e.wrote('u', 'Service', svc(1));
    e.needsWrite('u', 'Service', svc(1), svc(1), { awaitingCache: false });
    // Seen in the cache once: if it disappears now, it is written again at once.
    expect(e.needsWrite('u', 'Service', svc(1), undefined, { awaitingCache: false })).toBe(true);
    e.wrote('u', 'Service', svc(1));
    e.wrote('v', 'Service', svc(1));
    e.forget('u');
    expect(e.needsWrite('u', 'Service', svc(1), undefined, { awaitingCache: false })).toBe(true);
    expect(e.needsWrite('v', 'Service', svc(1), undefined, { awaitingCache: false })).toBe(false);
  });

  it('pending: a write of ours is pending until the TTL (no live read for it meanwhile)', () => {
    let now = 0;
    const e = new Expectations({ clock: () => now });
    expect(e.pending('u', 'Service')).toBe(false);
    e.wrote('u', 'Service', svc(1));
    expect(e.pending('u', 'Service')).toBe(true);
    expect(e.pending('u', 'Pod')).toBe(false);
    now += EXPECTATION_TTL_MS;
    expect(e.pending('u', 'Service')).toBe(false);
  });

  it('builtFromOther: a child built from other content differs; one without the annotation has nothing to compare', () => {
    const raw = (port: number): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's', namespace: 'n' },
      spec: { port },
    });
    expect(builtFromOther(svc(1), svc(1))).toBe(false);
    expect(builtFromOther(svc(2), svc(1))).toBe(true);
    expect(builtFromOther(svc(2), raw(1))).toBe(false);
  });

  it('applyIfChanged applies a changed child once, and not again while the watch catches up', async () => {
    const sent: KubeObject[] = [];
    const kube = { apply: <T extends KubeObject>(o: T) => Promise.resolve((sent.push(o), o)) };
    const e = new Expectations({ clock: () => 0 });
    const run = { awaitingCache: false };
    expect(await applyIfChanged(kube, e, 'u', svc(2), svc(1), run)).toBe(true);
    expect(sent).toEqual([svc(2)]);
    expect(await applyIfChanged(kube, e, 'u', svc(2), svc(1), run)).toBe(true);
    expect(await applyIfChanged(kube, e, 'u', svc(2), undefined, run)).toBe(false);
    expect(run.awaitingCache).toBe(true);
    expect(await applyIfChanged(kube, e, 'u', svc(2), svc(2), run)).toBe(false);
    expect(sent).toHaveLength(2);
  });
});
