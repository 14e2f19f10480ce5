// Condition helpers: lastTransitionTime changes only when status flips.
import { describe, expect, it } from 'vitest';
import {
  findCondition,
  isConditionTrue,
  isObservedCurrent,
  removeCondition,
  rfc3339,
  setCondition,
} from './conditions.js';

const t1 = new Date('2026-11-21T10:00:00.123Z');
const t2 = new Date('2026-11-21T10:05:00.000Z');
const t3 = new Date('2026-11-21T10:09:00.000Z');

describe('setCondition', () => {
  it('adds a new condition with the transition time = now (second precision)', () => {
    const c = setCondition(
      undefined,
      { type: 'Ready', status: 'False', reason: 'Starting', message: 'Pod pending' },
      t1,
    );
    expect(c).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'Starting',
        message: 'Pod pending',
        lastTransitionTime: '2026-11-21T10:00:00Z',
      },
    ]);
  });

  it('keeps the transition time when only reason/message/generation change', () => {
    let c = setCondition([], { type: 'Ready', status: 'False', reason: 'Starting', message: 'a' }, t1);
    c = setCondition(
      c,
      { type: 'Ready', status: 'False', reason: 'PullingImage', message: 'b', observedGeneration: 3 },
      t2,
    );
    expect(c[0]).toMatchObject({
      reason: 'PullingImage',
      message: 'b',
      observedGeneration: 3,
      lastTransitionTime: '2026-11-21T10:00:00Z',
    });
  });

  it('moves the transition time when status flips, and again when it flips back', () => {
    let c = setCondition([], { type: 'Ready', status: 'False', reason: 'Starting', message: '' }, t1);
    c = setCondition(c, { type: 'Ready', status: 'True', reason: 'Running', message: '' }, t2);
    expect(c[0]?.lastTransitionTime).toBe(rfc3339(t2));
    c = setCondition(c, { type: 'Ready', status: 'True', reason: 'Running', message: '' }, t3);
    expect(c[0]?.lastTransitionTime).toBe(rfc3339(t2));
    c = setCondition(c, { type: 'Ready', status: 'False', reason: 'Crashed', message: '' }, t3);
    expect(c[0]?.lastTransitionTime).toBe(rfc3339(t3));
  });

  it('preserves order, does not mutate its input and handles several types', () => {
    const base = setCondition(
      setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: '' }, t1),
      { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' },
      t1,
    );
    const frozen = structuredClone(base);
    const next = setCondition(base, { type: 'Ready', status: 'True', reason: 'B', message: '' }, t2);
    expect(base).toEqual(frozen);
    expect(next.map((c) => c.type)).toEqual(['Ready', 'Degraded']);
    expect(isConditionTrue(next, 'Ready')).toBe(true);
    expect(isConditionTrue(next, 'Degraded')).toBe(false);
    expect(findCondition(next, 'Progressing')).toBeUndefined();
    expect(removeCondition(next, 'Ready').map((c) => c.type)).toEqual(['Degraded']);
  });
});

describe('isObservedCurrent', () => {
  it('compares status.observedGeneration with metadata.generation', () => {
    expect(isObservedCurrent({ metadata: { generation: 2 }, status: { observedGeneration: 2 } })).toBe(true);
    expect(isObservedCurrent({ metadata: { generation: 3 }, status: { observedGeneration: 2 } })).toBe(false);
    expect(isObservedCurrent({ metadata: { generation: 1 } })).toBe(false);
    expect(isObservedCurrent({ metadata: {} })).toBe(true);
  });
});
