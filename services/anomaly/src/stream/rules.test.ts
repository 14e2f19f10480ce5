import { describe, expect, it } from 'vitest';
import { summarize } from './aggregate.js';
import { ExcursionEvaluator, RuleError, ThresholdEvaluator, validateRule } from './rules.js';

describe('ThresholdEvaluator', () => {
  it('fires once per crossing and re-arms when the score drops below', () => {
    const t = new ThresholdEvaluator({ kind: 'threshold', score: 0.7 });
    const fired = [0.1, 0.8, 0.9, 0.75, 0.2, 0.71, 0.5].map((s, i) => t.push(i, s)?.time);
    expect(fired).toEqual([undefined, 1, undefined, undefined, undefined, 5, undefined]);
  });
});

describe('ExcursionEvaluator', () => {
  const window = (i: number, mean: number) => summarize(i * 1000, (i + 1) * 1000, [mean]);

  it('fires when a quantity stable for N windows starts moving, once, and re-arms after it settles', () => {
    const rule = {
      kind: 'excursion',
      field: 'mean',
      stableWindows: 5,
      stableBand: 0.2,
      moveBy: 0.5,
    } as const;
    const e = new ExcursionEvaluator(rule);
    // Receiver temperature: stable at 4.0 ± 0.1 K, then warms by 1 K, holds there, then steps again.
    const temps = [4.0, 4.1, 3.95, 4.05, 4.0, 4.02, 5.0, 5.5, 6.0, 6.0, 6.05, 6.0, 6.0, 6.02, 7.0];
    const alerts = temps.map((v, i) => e.push(window(i, v))).flatMap((a, i) => (a ? [i] : []));
    // 6: 5.0 is 0.98 from the stable mean; 7–13: the last 5 windows are not within 0.2, or the value is
    // within 0.5 of them; 14: stable at 6.0 for 5 windows, then 7.0.
    expect(alerts).toEqual([6, 14]);
  });

  it('does not fire before N windows or when the band was never stable', () => {
    const e = new ExcursionEvaluator({
      kind: 'excursion',
      field: 'max',
      stableWindows: 3,
      stableBand: 0.1,
      moveBy: 1,
    });
    const noisy = [1, 3, 1, 3, 1, 3, 10];
    expect(noisy.map((v, i) => e.push(window(i, v)))).toEqual(noisy.map(() => undefined));
  });

  it('validates rules, naming the field', () => {
    expect(() => validateRule({ kind: 'threshold', score: 2 }, 'spec.streams[0].rules[0]')).toThrow(
      new RuleError('spec.streams[0].rules[0].score must be in [0, 1], got 2'),
    );
    expect(() =>
      validateRule({ kind: 'excursion', field: 'mean', stableWindows: 1, stableBand: 0, moveBy: 1 }),
    ).toThrow(/rule.stableWindows must be an integer ≥ 2/);
    expect(() =>
      validateRule({ kind: 'excursion', field: 'mean', stableWindows: 3, stableBand: 0, moveBy: 0 }),
    ).toThrow(/rule.moveBy must be a number > 0/);
  });
});
