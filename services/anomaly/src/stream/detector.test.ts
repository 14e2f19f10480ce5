import { describe, expect, it } from 'vitest';
import {
  DetectorError,
  featureCount,
  LikelihoodScorer,
  normalTail,
  normalTailDecades,
  RangeRule,
  Refractory,
  RollingMean,
  SlidingRange,
  StreamDetector,
} from './detector.js';

/** A seeded uniform generator on [0, 1) (mulberry32); deterministic. */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A noisy daily-ish sine (period 50) with a seeded generator; deterministic. */
function series(n: number, seed = 7): Float64Array {
  const rnd = uniform(seed);
  return Float64Array.from(
    { length: n },
    (_, i) => 10 + 3 * Math.sin((2 * Math.PI * i) / 50) + 0.3 * (rnd() - 0.5),
  );
}

const small = {
  shingle: 4,
  history: 300,
  warmup: 100,
  refitEvery: 50,
  ntrees: 20,
  sampleSize: 64,
  longWindow: 200,
};

describe('StreamDetector', () => {
  it('gives the same scores pushed one by one as in one pushMany call (bit for bit)', () => {
    const x = series(900);
    const many = new StreamDetector(small).pushMany(x);
    const one = new StreamDetector(small);
    const single = Array.from(x, (v) => one.push(v));
    expect(Float64Array.from(single, (o) => o.score)).toEqual(many.score);
    expect(Float64Array.from(single, (o) => o.raw)).toEqual(many.raw);
    // Split at arbitrary points, too.
    const split = new StreamDetector(small);
    const parts = [x.subarray(0, 37), x.subarray(37, 460), x.subarray(460)].map(
      (p) => split.pushMany(p).score,
    );
    expect(Float64Array.from(parts.flatMap((p) => Array.from(p)))).toEqual(many.score);
  });

  it('never looks ahead: the scores of a prefix do not depend on what comes after it', () => {
    const x = series(900);
    const base = new StreamDetector(small).pushMany(x).score;
    const changed = Float64Array.from(x);
    for (let i = 600; i < 900; i++) changed[i] = changed[i]! * 5 + 100;
    const other = new StreamDetector(small).pushMany(changed).score;
    expect(other.subarray(0, 600)).toEqual(base.subarray(0, 600));
    expect(other.subarray(600)).not.toEqual(base.subarray(600));
  });

  it('scores 0 until the first fit, then gives a spike the highest score of the stream', () => {
    const x = series(1200);
    x[1000] = 25; // far outside the sine's 7…13
    const { score, raw } = new StreamDetector(small).pushMany(x);
    expect(Array.from(score.subarray(0, 100)).every((s) => s === 0)).toBe(true);
    expect(raw[200]).toBeGreaterThan(0);
    let best = 0;
    for (let i = 1; i < score.length; i++) if (score[i]! > score[best]!) best = i;
    // The spike stays in the shingle for 4 values; one of them scores highest.
    expect(best).toBeGreaterThanOrEqual(1000);
    expect(best).toBeLessThanOrEqual(1003);
    expect(score[best]).toBeGreaterThan(0.5);
  });

  it('scores 1 for a value beyond the recent range by more than rangeMargin of it, once per new range', () => {
    const x = series(800);
    x[700] = 13.5 + 0.1 * 6.3; // the sine spans ~6.3; 10 % above the max
    const noRefractory = { ...small, refractory: 0 };
    const on = new StreamDetector({ ...noRefractory, rangeMargin: 0.05 }).pushMany(x).score;
    const off = new StreamDetector({ ...noRefractory, rangeMargin: -1 }).pushMany(x).score;
    expect(on[700]).toBe(1);
    expect(off[700]).toBeLessThan(1);
    // Everything else is the likelihood step alone.
    expect(on.filter((s, i) => s !== off[i]!).length).toBe(1);
  });

  it('starts the refractory period on a range-rule score too: the next `refractory` scores are damped', () => {
    const x = series(800);
    x[700] = 13.5 + 0.1 * 6.3;
    const opts = { ...small, rangeMargin: 0.05, refractory: 20, refractoryLevel: 0.9 };
    const damped = new StreamDetector({ ...opts, refractoryDamping: 0 }).pushMany(x).score;
    const free = new StreamDetector({ ...opts, refractory: 0 }).pushMany(x).score;
    expect(damped[700]).toBe(1);
    expect(Array.from(damped.subarray(701, 721)).every((s) => s === 0)).toBe(true);
    expect(free.subarray(701, 721).some((s) => s > 0)).toBe(true);
    expect(damped.subarray(721, 800)).toEqual(free.subarray(721, 800));
  });

  // The mean rule alone: no refractory period, and a likelihood that cannot come near 1.
  const rulesOnly = { ...small, refractory: 0, decades: 1000 };

  it('mean rule: scores 1 when the mean of the last meanWindow values leaves the range of past means, though every value stays inside the values’ range', () => {
    const rnd = uniform(1);
    const x = Float64Array.from({ length: 2200 }, () => 9 + 2 * rnd()); // noise on [9, 11)
    for (let i = 2000; i < 2100; i++) x[i] = 10.5 + 0.5 * rnd(); // the level moves up inside [9, 11)
    const on = new StreamDetector({ ...rulesOnly, meanWindow: 12 }).pushMany(x).score;
    const off = new StreamDetector({ ...rulesOnly, meanWindow: 0 }).pushMany(x).score;
    // No value leaves [9, 11): without the mean rule nothing comes near 1.
    expect(Math.max(...off)).toBeLessThan(0.1);
    // With it, the shift is caught within one window of means (12 values) of its start.
    const first = on.findIndex((s, i) => i >= 2000 && s === 1);
    expect(first).toBeGreaterThanOrEqual(2000);
    expect(first).toBeLessThan(2012);
    // Scores differ only where the mean rule fired (1 instead of the likelihood's score).
    on.forEach((s, i) => expect(s === off[i] || s === 1).toBe(true));
  });

  it('mean rule: stays silent on a periodic series and on a spike inside the range (scores identical to meanWindow 0)', () => {
    // The noisy sine: its means of 12 move inside their own range; the noise is ±0.15 against a margin
    // of 5 % of a ~5.4 range of means.
    const x = series(2000);
    x[1512] = 12.9; // a spike to near the sine's top at a trough: one value moves the mean of 12 by ~0.5
    const opts = { ...rulesOnly, rangeMargin: 0.05 };
    const on = new StreamDetector({ ...opts, meanWindow: 12 }).pushMany(x).score;
    const off = new StreamDetector({ ...opts, meanWindow: 0 }).pushMany(x).score;
    expect(on).toEqual(off);
    // A noise-free square wave whose period (7) does not divide 12: the means take a few values, all seen in
    // the first period, bit for bit (they are summed oldest first), so the rule never fires.
    const square = Float64Array.from({ length: 1500 }, (_, i) => (i % 7 < 3 ? 1.1 : 0.3));
    const sq = new StreamDetector({ ...opts, meanWindow: 12 }).pushMany(square).score;
    expect(sq.some((s) => s === 1)).toBe(false);
  });

  it('with differences and the time of day in the features, is the same pushed one by one and never looks ahead', () => {
    const opts = { ...small, shingle: 3, diffs: 3, dayPhase: 1 };
    expect(featureCount(opts)).toBe(8);
    const x = series(900);
    const t = Float64Array.from(x, (_, i) => Date.UTC(2026, 0, 1) + i * 300_000);
    const many = new StreamDetector(opts).pushMany(x, t);
    const one = new StreamDetector(opts);
    const single = Array.from(x, (v, i) => one.push(v, t[i]));
    expect(Float64Array.from(single, (o) => o.score)).toEqual(many.score);
    expect(Float64Array.from(single, (o) => o.raw)).toEqual(many.raw);
    const changed = Float64Array.from(x);
    for (let i = 600; i < 900; i++) changed[i] = changed[i]! * 5 + 100;
    const other = new StreamDetector(opts).pushMany(changed, t);
    expect(other.score.subarray(0, 600)).toEqual(many.score.subarray(0, 600));
    expect(other.raw.subarray(600)).not.toEqual(many.raw.subarray(600));
    // The times reach the features: shifting them by half a day changes the raw scores.
    const shifted = new StreamDetector(opts).pushMany(
      x,
      t.map((v) => v + 43_200_000),
    );
    expect(shifted.raw).not.toEqual(many.raw);
  });

  it('refuses bad options and non-finite values, naming them', () => {
    expect(() => new StreamDetector({ shingle: -1 })).toThrow(
      new DetectorError('shingle must be an integer ≥ 0, got -1'),
    );
    expect(() => new StreamDetector({ shingle: 0 })).toThrow(/shingle \+ diffs \+ 2 · dayPhase must be ≥ 1/);
    expect(() => new StreamDetector({ dayPhase: 1 }).pushMany([1, 2])).toThrow(
      /dayPhase needs one time per value/,
    );
    expect(() => new StreamDetector({ warmup: 2000, history: 1000 })).toThrow(
      /warmup \(2000\) must be ≤ history/,
    );
    expect(() => new StreamDetector({ meanWindow: 1.5 })).toThrow(/meanWindow must be an integer ≥ 0/);
    expect(() => new StreamDetector().pushMany([1, 2, Infinity])).toThrow(/value 2 is not a finite number/);
  });
});

describe('SlidingRange', () => {
  it('is the min and max of the last `size` values, checked against a brute-force scan', () => {
    const r = new SlidingRange(37);
    const xs = series(10_000, 3).map((v, i) => v + (i % 997 === 0 ? 50 : 0));
    for (let i = 0; i < xs.length; i++) {
      r.push(xs[i]!);
      if (i % 53 === 0 || i > 9_950) {
        const w = Array.from(xs.subarray(Math.max(0, i - 36), i + 1));
        expect([r.min, r.max, r.count]).toEqual([Math.min(...w), Math.max(...w), w.length]);
      }
    }
  });
});

describe('RollingMean and RangeRule', () => {
  it('RollingMean is the mean of the last `size` values (NaN before), periodic for periodic input', () => {
    const m = new RollingMean(5);
    const xs = series(400, 5);
    xs.forEach((v, i) => {
      const got = m.push(v);
      if (i < 4) expect(got).toBeNaN();
      else expect(got).toBeCloseTo(xs.subarray(i - 4, i + 1).reduce((a, b) => a + b, 0) / 5, 12);
    });
    const p = new RollingMean(12);
    const wave = [0.1, 0.7, 0.3, 1e6 + 0.2, 0.9, 0.6, 0.4]; // period 7, values of very different size
    const out = Array.from({ length: 12 + 7 * 20 }, (_, i) => p.push(wave[i % 7]!));
    for (let i = 11; i + 7 < out.length; i++) expect(out[i + 7]).toBe(out[i]); // bit for bit
  });

  it('RangeRule judges a value against the previous window only, after 50 values, by the margin', () => {
    const r = new RangeRule(0.1, 100);
    for (let i = 0; i < 49; i++) expect(r.judge(i % 2 === 0 ? 0 : 10, true)).toBe(0);
    expect(r.judge(100, true)).toBe(0); // the 50th value: too few before it
    const q = new RangeRule(0.1, 100);
    for (let i = 0; i < 60; i++) q.judge(i % 2 === 0 ? 0 : 10, true);
    expect(q.judge(10.9, true)).toBe(0); // within 10 % of the range 0…10; it joins it
    expect(q.judge(11.9, true)).toBe(0); // within 10 % of 0…10.9
    expect(q.judge(13.2, true)).toBe(1); // beyond 11.9 + 1.19
    expect(q.judge(14, true)).toBe(0); // 13.2 is now in the range
    expect(q.judge(-5, false)).toBe(0); // no verdict asked; the value still joins the range
    expect(q.judge(-6.5, true)).toBe(0); // within 10 % of −5…14
    expect(q.judge(-9, true)).toBe(1);
    expect(new RangeRule(-1, 100).judge(1e9, true)).toBe(0);
  });
});

describe('LikelihoodScorer and normalTail', () => {
  it('normalTail matches the normal upper tail to 1.5e−7', () => {
    expect(Math.abs(normalTail(0) - 0.5)).toBeLessThan(1.5e-7);
    expect(Math.abs(normalTail(1.959963985) - 0.025)).toBeLessThan(1.5e-7);
    expect(Math.abs(normalTail(-1.959963985) - 0.975)).toBeLessThan(1.5e-7);
    // In decades it keeps growing past float64's smallest tail: Q(40) ≈ 3.7e−350.
    expect(normalTailDecades(1.959963985)).toBeCloseTo(-Math.log10(0.025), 4);
    expect(normalTailDecades(40)).toBeCloseTo(349.4, 0);
    expect(normalTailDecades(41)).toBeGreaterThan(normalTailDecades(40));
  });

  it('is 0 until 100 raw scores are known, then high for a raw score far above their spread', () => {
    const l = new LikelihoodScorer({ shortWindow: 1, longWindow: 500, decades: 10 });
    const out = Array.from({ length: 300 }, (_, i) => l.push(0.4 + 0.01 * Math.sin(i)));
    expect(out.slice(0, 100).every((s) => s === 0)).toBe(true);
    expect(Math.max(...out.slice(100))).toBeLessThan(0.2);
    expect(l.push(0.7)).toBe(1);
  });

  it('compares the mean of the last shortWindow raw scores: one high raw score moves it less', () => {
    const one = new LikelihoodScorer({ shortWindow: 1, longWindow: 500, decades: 10 });
    const ten = new LikelihoodScorer({ shortWindow: 10, longWindow: 500, decades: 10 });
    for (let i = 0; i < 300; i++) {
      const r = 0.4 + 0.01 * Math.sin(i);
      one.push(r);
      ten.push(r);
    }
    const a = one.push(0.45);
    const b = ten.push(0.45);
    expect(a).toBeGreaterThan(0.3);
    expect(b).toBeLessThan(a / 2);
    // A sustained rise reaches it too.
    let last = 0;
    for (let i = 0; i < 9; i++) last = ten.push(0.45);
    expect(last).toBeGreaterThan(a / 2);
  });

  it('after calibrate, compares against the means of shortWindow consecutive training scores', () => {
    // Training scores alternate 0.3 / 0.5: their means over 2 are all 0.4 (spread 0, floored at 1e−3).
    const train = Array.from({ length: 200 }, (_, i) => (i % 2 ? 0.5 : 0.3));
    const two = new LikelihoodScorer({ shortWindow: 2, longWindow: 500, decades: 10 });
    two.calibrate(train);
    two.push(0.3);
    expect(two.push(0.5)).toBeCloseTo(-Math.log10(0.5) / 10, 6); // mean 0.4: z = 0
    expect(two.push(0.6)).toBe(1); // mean 0.55: 150 spreads above
    // Over single scores the spread is 0.1: the same raw scores are ordinary; and no 100-score wait.
    const one = new LikelihoodScorer({ shortWindow: 1, longWindow: 500, decades: 10 });
    one.calibrate(train);
    expect(one.push(0.5)).toBeLessThan(0.1);
    expect(one.push(0.6)).toBeLessThan(0.2);
    expect(one.push(1.2)).toBe(1); // 8 spreads above
  });

  it('Refractory damps the scores after one reaches the level, and the period does not extend itself', () => {
    const r = new Refractory({ refractory: 3, refractoryLevel: 0.5, refractoryDamping: 0.25 });
    expect([r.push(0.2), r.push(0.7)]).toEqual([0.2, 0.7]);
    expect([r.push(0.8), r.push(0.8), r.push(0.8)]).toEqual([0.2, 0.2, 0.2]);
    expect([r.push(0.4), r.push(0.6), r.push(0.6)]).toEqual([0.4, 0.6, 0.15]);
  });
});
