import { describe, expect, it } from 'vitest';
import { realNodeForUp } from './node.js';

describe('realNodeForUp (cluster:up)', () => {
  const can = (): undefined => undefined;
  const cannot = (): string => 'the real node needs root';

  it('runs the real node by default when the machine can', () => {
    expect(realNodeForUp({}, can)).toEqual({ realNode: true });
  });

  it('SKYPORT_REAL_NODE=0 opts out without asking the machine', () => {
    expect(realNodeForUp({ SKYPORT_REAL_NODE: '0' }, () => expect.fail('no preflight'))).toEqual({
      realNode: false,
    });
  });

  it('SKYPORT_REAL_NODE=1 insists (startCluster then reports what is missing)', () => {
    expect(realNodeForUp({ SKYPORT_REAL_NODE: '1' }, cannot)).toEqual({ realNode: true });
  });

  it('unset on a machine that cannot: kwok only, with the reason and the switches', () => {
    const r = realNodeForUp({}, cannot);
    expect(r.realNode).toBe(false);
    expect(r.note).toContain('the real node needs root');
    expect(r.note).toContain('SKYPORT_REAL_NODE=0');
  });
});
