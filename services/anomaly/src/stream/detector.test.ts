import { describe, expect, it } from 'vitest';
import {
  DetectorError,
  LikelihoodScorer,
  normalTail,
  normalTailDecades,
  SlidingRange,
  StreamDetector,
} from './detector.js';

/** A noisy daily-ish sine (period 50) with a seeded generator; deterministic. */
function series(n: number, seed = 7): Float64Array {
  let a = seed >>> 0;
  const rnd = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
    const on = new StreamDetector({ ...small, rangeMargin: 0.05 }).pushMany(x).score;
    const off = new StreamDetector({ ...small, rangeMargin: -1 }).pushMany(x).score;
    expect(on[700]).toBe(1);
    expect(off[700]).toBeLessThan(1);
    // Everything else is the likelihood step alone.
    expect(on.filter((s, i) => s !== off[i]!).length).toBe(1);
  });

  it('refuses bad options and non-finite values, naming them', () => {
    expect(() => new StreamDetector({ shingle: 0 })).toThrow(
      new DetectorError('shingle must be an integer ≥ 1, got 0'),
    );
    expect(() => new StreamDetector({ warmup: 2000, history: 1000 })).toThrow(
      /warmup \(2000\) must be ≤ history/,
    );
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
    const l = new LikelihoodScorer({
      shortWindow: 1,
      longWindow: 500,
      decades: 10,
      refractory: 0,
      refractoryLevel: 1,
      refractoryDamping: 1,
    });
    const out = Array.from({ length: 300 }, (_, i) => l.push(0.4 + 0.01 * Math.sin(i)));
    expect(out.slice(0, 100).every((s) => s === 0)).toBe(true);
    expect(Math.max(...out.slice(100))).toBeLessThan(0.2);
    expect(l.push(0.7)).toBe(1);
  });

  it('damps the values of the refractory period after a high score', () => {
    const l = new LikelihoodScorer({
      shortWindow: 1,
      longWindow: 500,
      decades: 10,
      refractory: 3,
      refractoryLevel: 0.5,
      refractoryDamping: 0.25,
    });
    for (let i = 0; i < 200; i++) l.push(0.4 + 0.01 * Math.sin(i));
    expect(l.push(0.7)).toBe(1);
    expect([l.push(0.7), l.push(0.7), l.push(0.7)]).toEqual([0.25, 0.25, 0.25]);
    expect(l.push(0.7)).toBeGreaterThan(0.25);
  });
});
