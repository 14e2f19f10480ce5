import { describe, expect, it } from 'vitest';
import {
  AutoscaleError,
  decide,
  desiredReplicas,
  type AutoscalePolicy,
  type AutoscaleState,
  type ScalingReason,
} from './autoscale.js';

const policy: AutoscalePolicy = {
  minReplicas: 1,
  maxReplicas: 8,
  targetQueueDepthPerWorker: 10,
  scaleDownStabilizationSeconds: 60,
};

/** Feeds a recorded depth series sampled every `stepMs` through the policy, as the controller would. */
function replay(
  depths: readonly number[],
  stepMs = 15_000,
  p = policy,
): { replicas: number[]; reasons: ScalingReason[] } {
  let state: AutoscaleState = { replicas: p.minReplicas, recommendations: [] };
  const replicas: number[] = [];
  const reasons: ScalingReason[] = [];
  depths.forEach((depth, i) => {
    const d = decide(p, state, { depth, now: 1_700_000_000_000 + i * stepMs });
    state = d.state;
    replicas.push(d.replicas);
    reasons.push(d.reason);
  });
  return { replicas, reasons };
}

describe('desiredReplicas', () => {
  it('is ceil(depth / target) within [min, max]', () => {
    expect(desiredReplicas(policy, 0)).toBe(1);
    expect(desiredReplicas(policy, 10)).toBe(1);
    expect(desiredReplicas(policy, 11)).toBe(2);
    expect(desiredReplicas(policy, 75)).toBe(8);
    expect(desiredReplicas(policy, 10_000)).toBe(8);
    expect(desiredReplicas({ ...policy, minReplicas: 0 }, 0)).toBe(0);
  });
});

describe('recorded depth series (15 s samples, 60 s stabilisation)', () => {
  it('burst: up at once, down only after 60 s of lower demand', () => {
    const depths = [0, 0, 45, 120, 80, 30, 0, 0, 0, 0, 0, 0];
    const { replicas, reasons } = replay(depths);
    expect(replicas).toEqual([1, 1, 5, 8, 8, 8, 8, 8, 3, 1, 1, 1]);
    // t = 45 s: 120 → 12 wanted, capped at 8; t = 60 s: 80 wants 8; t = 75…105 s: fewer are wanted, but
    // an 8 is within the last 60 s (the window is (now − 60 s, now]).
    expect(reasons.slice(2, 8)).toEqual([
      'ScaledUp',
      'ScaledUp',
      'AtDesired',
      'StabilizingScaleDown',
      'StabilizingScaleDown',
      'StabilizingScaleDown',
    ]);
    // t = 120 s: the window (60 s, 120 s] holds 3, 1, 1, 1 → down to 3; t = 135 s: → 1.
    expect(reasons[8]).toBe('ScaledDown');
    expect(reasons[9]).toBe('ScaledDown');
    expect(reasons[11]).toBe('AtDesired');
  });

  it('sawtooth: the pool holds the peak instead of following every tooth', () => {
    // Depth ramps 0 → 60 over 45 s and drops to 0, four times (a batch client submitting in rounds).
    const tooth = [0, 20, 40, 60];
    const depths = [...tooth, ...tooth, ...tooth, ...tooth, 0, 0, 0, 0, 0, 0];
    const { replicas } = replay(depths);
    // Up to 2, 4, 6 on the first ramp, then 6 held: every drop is within 60 s of a 60-deep sample.
    expect(replicas.slice(0, 16)).toEqual([1, 2, 4, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6]);
    const changes = replicas.filter((r, i) => i > 0 && r !== replicas[i - 1]).length;
    expect(changes).toBeLessThanOrEqual(6);
    expect(replicas.at(-1)).toBe(1);
  });

  it('idle: stays at minReplicas and never scales', () => {
    const { replicas, reasons } = replay(new Array<number>(40).fill(0), 15_000, {
      ...policy,
      minReplicas: 2,
    });
    expect(new Set(replicas)).toEqual(new Set([2]));
    expect(new Set(reasons)).toEqual(new Set(['AtDesired']));
  });

  it('without stabilisation, scales down at the next sample', () => {
    const { replicas } = replay([100, 0], 1_000, { ...policy, scaleDownStabilizationSeconds: 0 });
    expect(replicas).toEqual([8, 1]);
  });
});

describe('decide', () => {
  it('respects a manual scale: below min scales up, above max scales down to the window’s highest', () => {
    const up = decide(policy, { replicas: 0, recommendations: [] }, { depth: 0, now: 0 });
    expect(up).toMatchObject({ replicas: 1, reason: 'ScaledUp' });
    const down = decide(policy, { replicas: 20, recommendations: [] }, { depth: 30, now: 0 });
    expect(down).toMatchObject({ replicas: 3, desired: 3, reason: 'ScaledDown' });
    expect(down.message).toBe(
      'queue depth 30 at 10 per worker wants 3; scaled down from 20 to 3 (highest in the last 60 s)',
    );
  });

  it('keeps only the recommendations inside the window in its state', () => {
    let state: AutoscaleState = { replicas: 1, recommendations: [] };
    for (const [depth, now] of [
      [50, 0],
      [10, 30_000],
      [10, 40_000],
      [10, 90_000],
    ] as const) {
      state = decide(policy, state, { depth, now }).state;
    }
    // At 90 s the window is (30 s, 90 s]: the 30 s recommendation is exactly 60 s old and out.
    expect(state.recommendations).toEqual([
      { at: 40_000, replicas: 1 },
      { at: 90_000, replicas: 1 },
    ]);
  });

  it('refuses a bad policy or observation, naming the field', () => {
    const s = { replicas: 1, recommendations: [] };
    expect(() => decide({ ...policy, minReplicas: 9 }, s, { depth: 0, now: 0 })).toThrow(
      new AutoscaleError('spec.autoscaling.minReplicas (9) must be ≤ maxReplicas (8)'),
    );
    expect(() => decide({ ...policy, targetQueueDepthPerWorker: 0 }, s, { depth: 0, now: 0 })).toThrow(
      /targetQueueDepthPerWorker must be a number > 0/,
    );
    expect(() => decide(policy, s, { depth: -1, now: 0 })).toThrow(
      /status.queueDepth must be an integer ≥ 0/,
    );
    expect(() => decide(policy, s, { depth: 1.5, now: 0 })).toThrow(/queueDepth/);
    expect(() => decide(policy, s, { depth: 1, now: NaN })).toThrow(/now must be a finite time/);
    expect(() => decide({ ...policy, scaleDownStabilizationSeconds: -1 }, s, { depth: 0, now: 0 })).toThrow(
      /scaleDownStabilizationSeconds must be ≥ 0/,
    );
  });
});
