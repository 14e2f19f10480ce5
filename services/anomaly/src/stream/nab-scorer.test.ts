import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  NAB_PROFILES,
  NabInputError,
  normalizeScore,
  optimizeThreshold,
  parseNabTimestamp,
  probationaryLength,
  scaledSigmoid,
  scoreDetector,
  scoreFileAt,
  scoresByThreshold,
  sweepFile,
  type NabWindow,
} from './nab-scorer.js';

const minutes = (n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => i * 60_000);
const win = (a: number, b: number): NabWindow => [a * 60_000, b * 60_000];
// Hand-worked values below use S(x) = 2 / (1 + e^(5x)) − 1, so S(x) = −tanh(2.5 x).
const S = (x: number): number => -Math.tanh(2.5 * x);

describe('scaledSigmoid and the probationary period', () => {
  it('follows NAB: S(−1) = tanh 2.5, S(0) = 0, −1 beyond 3', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.9866142981514305, 15);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.8482836399575129, 15);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(3)).toBeCloseTo(-Math.tanh(7.5), 15);
    expect(scaledSigmoid(3.0001)).toBe(-1);
  });

  it('is 15 % of the records, at most 750', () => {
    expect(probationaryLength(20)).toBe(3);
    expect(probationaryLength(1127)).toBe(169);
    expect(probationaryLength(22695)).toBe(750);
  });

  it('parses NAB timestamps with and without fractions', () => {
    expect(parseNabTimestamp('2015-09-11 15:34:00')).toBe(Date.UTC(2015, 8, 11, 15, 34));
    expect(parseNabTimestamp('2015-09-11 15:34:00.000000')).toBe(Date.UTC(2015, 8, 11, 15, 34));
    expect(parseNabTimestamp('11/09/2015')).toBeNaN();
  });
});

describe('hand-worked series A: one window, FPs before and after it (standard profile)', () => {
  // 20 records one minute apart; records 0–2 are probationary; window = records 10…14 (width 5).
  const scores = new Float64Array(20).fill(0.1);
  scores[1] = 0.95; // probationary: never scored, so 0.95 is no threshold
  scores[5] = 0.8; // FP before any window: −fpWeight
  scores[12] = 0.9; // TP: position −(14 − 12 + 1)/5 = −0.6 → S(−0.6)/S(−1)
  scores[17] = 0.7; // FP after the window: |14 − 17|/(5 − 1) = 0.75 → fpWeight · S(0.75)
  const cost = NAB_PROFILES.standard;
  const sweep = sweepFile('A', minutes(20), scores, [win(10, 14)], cost);
  const tp = S(-0.6) / S(-1); // 0.9174286804284079

  it('lists every threshold with its score and counts', () => {
    const rows = scoresByThreshold([sweep], cost);
    expect(rows.map((r) => r.threshold)).toEqual([1.1, 0.9, 0.8, 0.7, 0.1]);
    expect(rows[0]).toMatchObject({ score: -1, tp: 0, fp: 0, tn: 12, fn: 5 });
    expect(rows[1]!.score).toBeCloseTo(tp, 12);
    expect(rows[2]!.score).toBeCloseTo(tp - 0.11, 12);
    expect(rows[3]!.score).toBeCloseTo(tp - 0.11 + 0.11 * S(0.75), 12);
    expect(rows[3]).toMatchObject({ tp: 1, fp: 2, tn: 10, fn: 4 });
    // Everything detected: the window earns its first record (S(−1)/S(−1) = 1); FPs at 3,4,6–9 cost 0.11
    // each, at 15, 16, 18, 19 fpWeight · S(distance / 4).
    const after = [15, 16, 18, 19].reduce((a, i) => a + 0.11 * S(Math.abs(14 - i) / 4), 0);
    expect(rows[4]!.score).toBeCloseTo(1 - 0.11 * 7 + 0.11 * S(0.75) + after, 12);
    expect(rows[4]!.score).toBeCloseTo(-0.24736583964427816, 12);
  });

  it('optimises to the best threshold and scores the file at any threshold as NAB matches it', () => {
    expect(optimizeThreshold([sweep], cost)).toMatchObject({ threshold: 0.9 });
    expect(scoreFileAt(sweep, 0.85, cost).score).toBeCloseTo(tp, 12); // between rows: the one above
    expect(scoreFileAt(sweep, 0.8, cost).score).toBeCloseTo(tp - 0.11, 12);
    expect(scoreFileAt(sweep, 2, cost).score).toBe(-1);
    expect(scoreFileAt(sweep, 0.05, cost).threshold).toBe(0.1); // below every score: all detected
  });
});

describe('hand-worked series B: two windows, a late TP, a miss, FPs weighted by the previous window', () => {
  // 40 records; probation 6; windows 10…13 (width 4) and 25…29 (width 5).
  const scores = new Float64Array(40).fill(0);
  scores[13] = 1; // last record of window 1: −(13 − 13 + 1)/4 = −0.25
  scores[20] = 1; // |13 − 20|/(4 − 1) = 7/3 past window 1
  scores[31] = 1; // |29 − 31|/(5 − 1) = 0.5 past window 2; window 2 itself is missed
  const expected = (fp: number, fn: number): number => S(-0.25) / S(-1) + fp * S(7 / 3) + fp * S(0.5) - fn;

  it.each([
    ['standard', 0.11, 1, -0.6411851653204175],
    ['reward_low_FP_rate', 0.22, 1, -0.8444944792453177],
    ['reward_low_FN_rate', 0.11, 2, -1.6411851653204175],
  ] as const)('%s', (profile, fp, fn, value) => {
    const cost = NAB_PROFILES[profile];
    const sweep = sweepFile('B', minutes(40), scores, [win(10, 13), win(25, 29)], cost);
    const row = scoreFileAt(sweep, 1, cost);
    expect(row.score).toBeCloseTo(expected(fp, fn), 12);
    expect(row.score).toBeCloseTo(value, 12);
    expect(row).toMatchObject({ tp: 1, fp: 2, fn: 8 });
  });
});

describe('normalisation', () => {
  const series = [
    { name: 'a', timestamps: minutes(100), windows: [win(40, 49), win(70, 79)] },
    { name: 'b', timestamps: minutes(60), windows: [win(30, 35)] },
  ];

  it('gives a perfect detector 100 and the null detector 0 in every profile', () => {
    const perfect = series.map((s) => {
      const x = new Float64Array(s.timestamps.length);
      for (const [start] of s.windows) x[s.timestamps.indexOf(start)] = 1;
      return x;
    });
    const nulls = series.map((s) => new Float64Array(s.timestamps.length).fill(0.5));
    for (const profile of Object.keys(NAB_PROFILES) as (keyof typeof NAB_PROFILES)[]) {
      const p = scoreDetector(series, perfect, profile);
      expect(p.raw).toBeCloseTo(3 * NAB_PROFILES[profile].tpWeight, 12);
      expect(p.nullRaw).toBe(-3 * NAB_PROFILES[profile].fnWeight);
      expect(p.normalized).toBeCloseTo(100, 10);
      expect(scoreDetector(series, nulls, profile).normalized).toBe(0);
    }
  });

  it("turns NAB's published raw scores into its published board (numenta, standard: 46.634 → 70.10)", () => {
    // config/thresholds.json raw scores; results/final_results.json normalised scores; 116 windows.
    expect(normalizeScore(46.634450197137596, -116, 116, NAB_PROFILES.standard)).toBeCloseTo(
      70.10105611943965,
      9,
    );
    expect(normalizeScore(26.634450197137568, -232, 116, NAB_PROFILES.reward_low_FN_rate)).toBeCloseTo(
      74.3202443095115,
      9,
    );
    expect(normalizeScore(30.431072517124093, -116, 116, NAB_PROFILES.reward_low_FP_rate)).toBeCloseTo(
      63.11684160219828,
      9,
    );
  });
});

describe("NAB's published numenta detector on realTraffic/speed_7578.csv", () => {
  const dataUrl = new URL('../../bench/data/nab/', import.meta.url);
  const data = gunzipSync(readFileSync(new URL('data/realTraffic/speed_7578.csv.gz', dataUrl)))
    .toString('utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => parseNabTimestamp(l.split(',')[0]!));
  const fixture = readFileSync(new URL('testdata/nab-numenta-speed_7578.csv', import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','));
  const labels = JSON.parse(readFileSync(new URL('labels/combined_windows.json', dataUrl), 'utf8')) as Record<
    string,
    [string, string][]
  >;
  const windows = labels['realTraffic/speed_7578.csv']!.map(
    ([a, b]) => [parseNabTimestamp(a), parseNabTimestamp(b)] as const,
  );

  it('has the data file’s timestamps, in order', () => {
    expect(fixture.map(([t]) => parseNabTimestamp(t!))).toEqual(data);
    expect(windows).toHaveLength(4);
  });

  // results/numenta/numenta_<profile>_scores.csv, row realTraffic/speed_7578.csv (testdata/README.md).
  it.each([
    ['standard', 0.5421876907348634, 3.19572468045, { tp: 5, tn: 839, fp: 3, fn: 111 }],
    ['reward_low_FN_rate', 0.5421876907348634, 3.19572468045, { tp: 5, tn: 839, fp: 3, fn: 111 }],
    ['reward_low_FP_rate', 0.5751955032348636, 3.06755940455, { tp: 4, tn: 840, fp: 2, fn: 112 }],
  ] as const)('reproduces NAB’s %s score', (profile, threshold, score, counts) => {
    const cost = NAB_PROFILES[profile];
    const sweep = sweepFile(
      'realTraffic/speed_7578.csv',
      data,
      fixture.map(([, s]) => Number(s)),
      windows,
      cost,
    );
    const row = scoreFileAt(sweep, threshold, cost);
    expect(row.score).toBeCloseTo(score, 10);
    expect(row).toMatchObject(counts);
  });
});

describe('bad input', () => {
  it('names the file and window whose timestamp is not a record', () => {
    expect(() =>
      sweepFile('f.csv', minutes(10), new Float64Array(10), [[90_000, 120_000]], NAB_PROFILES.standard),
    ).toThrow(
      new NabInputError("f.csv: window 0 start 1970-01-01T00:01:30.000Z is not a record's timestamp"),
    );
  });

  it('refuses mismatched lengths, non-finite scores and timestamps', () => {
    const c = NAB_PROFILES.standard;
    expect(() => sweepFile('f', minutes(3), [0, 0], [], c)).toThrow(/2 anomaly scores for 3 records/);
    expect(() => sweepFile('f', minutes(3), [0, NaN, 0], [], c)).toThrow(/record 1 is not finite/);
    expect(() => sweepFile('f', [0, NaN, 1], [0, 0, 0], [], c)).toThrow(
      /timestamp of record 1 is not a number/,
    );
  });
});
