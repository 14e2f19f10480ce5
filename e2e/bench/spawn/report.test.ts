import { describe, expect, it } from 'vitest';
import { percentile, table, verdict, verdicts, type Series } from './report.js';

const series = (name: string, ms: number[], failed = 0): Series => ({ name, ms, failed });

describe('bench:spawn report', () => {
  it('takes nearest-rank percentiles regardless of input order', () => {
    const xs = [900, 100, 500, 300, 700, 200, 800, 400, 1000, 600];
    expect(percentile(xs, 0.5)).toBe(500);
    expect(percentile(xs, 0.95)).toBe(1000);
    expect(percentile([42], 0.95)).toBe(42);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('judges warm p50 against 1.5x the bare process and 0.7x the hub', () => {
    const bare = series('bare', [2000, 2000, 2000]);
    const hub = series('hub', [6000, 6000, 6000]);
    const [vBare, vHub] = verdicts(series('warm', [2900, 3000, 3100]), bare, hub);
    expect(vBare?.ratio).toBeCloseTo(1.5);
    expect(vBare?.met).toBe(true);
    expect(vHub?.ratio).toBeCloseTo(0.5);
    expect(vHub?.met).toBe(true);
    const [slow] = verdicts(series('warm', [3100, 3200, 3300]), bare, undefined);
    expect(slow?.met).toBe(false);
  });

  it('never calls a target met when a lab failed to answer', () => {
    const [v] = verdicts(series('warm', [1000], 1), series('bare', [2000]), undefined);
    expect(v?.met).toBe(false);
  });

  it('names both series in a verdict of its own', () => {
    const v = verdict(
      series('skyport: reported ready', [1400, 1500]),
      series('hub: reported ready', [2000, 3000]),
      0.7,
    );
    expect(v.ratio).toBeCloseTo(0.7);
    expect(v.met).toBe(true);
    expect(v.text).toBe('skyport: reported ready p50 / hub: reported ready p50 = 0.70 (target ≤ 0.7)');
  });

  it('prints one row per series with its failures', () => {
    const t = table([series('bare', [1000, 2000]), series('skyport warm', [1500], 2)]);
    expect(t.split('\n')).toHaveLength(3);
    expect(t).toMatch(/skyport warm\s+1\s+1\.50 s\s+1\.50 s\s+1\.50 s\s+1\.50 s\s+2/);
  });
});
