// Exact axis thresholds: the converted split decides like the original for random and boundary points.

import { describe, expect, it } from 'vitest';
import { axisThreshold, nextDown, nextUp } from './axis.js';
import { SPLIT_STREAM, TreeRng } from './rng.js';

describe('nextUp / nextDown', () => {
  it('step by one ulp across zero and signs', () => {
    expect(nextUp(1)).toBe(1 + Number.EPSILON);
    expect(nextDown(1)).toBe(1 - Number.EPSILON / 2);
    expect(nextUp(0)).toBe(Number.MIN_VALUE);
    expect(nextDown(0)).toBe(-Number.MIN_VALUE);
    expect(nextUp(-Number.MIN_VALUE)).toBe(0);
    expect(nextUp(-1)).toBe(-1 + Number.EPSILON / 2);
  });
});

describe('axisThreshold', () => {
  it('decides exactly like x·c < v for random splits, at and around the boundary', () => {
    const rng = new TreeRng(7, 0, SPLIT_STREAM);
    let checked = 0;
    for (let i = 0; i < 20_000; i++) {
      const c = rng.nextNormal() * (i % 3 === 0 ? 1e-3 : 1);
      const p = (rng.nextDouble() * 2 - 1) * 10 ** Math.floor(rng.nextDouble() * 6 - 3);
      const v = p * c;
      const a = axisThreshold(c, v);
      expect(a).not.toBeNull();
      if (!a) continue;
      const t = a.threshold * a.sign;
      for (const x of [p, nextUp(p), nextDown(p), t, nextUp(t), nextDown(t), p * 1.5, -p, 0]) {
        expect(a.sign * x < a.threshold, `c=${c} v=${v} x=${x}`).toBe(x * c < v);
        checked++;
      }
    }
    expect(checked).toBe(180_000);
  });

  it('handles zero offsets and falls back for degenerate slopes', () => {
    expect(axisThreshold(2, 0)).toEqual({ sign: 1, threshold: 0 });
    const neg = axisThreshold(-2, 0);
    expect(neg?.sign).toBe(-1);
    for (const x of [-1, -0, 0, 1e-300, -1e-300])
      expect((neg?.sign ?? 1) * x < (neg?.threshold ?? 0)).toBe(x * -2 < 0);
    expect(axisThreshold(0, 1)).toBeNull();
    expect(axisThreshold(Number.NaN, 1)).toBeNull();
    expect(axisThreshold(1e-320, 1e300)).toBeNull(); // v / c overflows: keep x·c < v
  });
});
