// The streaming detector (ADR 0007): sees each value once, in time order, with no look-ahead. A value is
// scored by an Extended Isolation Forest fitted only on shingles (windows of recent values) that arrived
// before it; the forest is refitted on a sliding history every `refitEvery` values. The raw isolation
// score then goes through an anomaly-likelihood step (how far the mean of the recent raw scores lies above
// the scores the current forest gives its own training shingles), a range rule at two time scales (a value,
// or the mean of the last few values, well beyond the recent min/max of its kind scores 1) and a refractory
// period on the final score, so one excursion gives one alert.

import { fit, score, type Model } from '../engine/index.js';

/** Detector settings; every field has a default ({@link DEFAULT_DETECTOR}). */
export interface DetectorOptions {
  /** Values per shingle: the feature vector of value t starts (x[t − shingle + 1], …, x[t]). */
  readonly shingle: number;
  /** First differences appended to it: (x[t − diffs + 1] − x[t − diffs], …, x[t] − x[t − 1]). */
  readonly diffs: number;
  /** 1: the time of day (cos and sin of its phase) ends the feature vector; needs times. 0: absent. */
  readonly dayPhase: number;
  /** Shingles the forest is fitted on: the most recent ones before the refit. */
  readonly history: number;
  /** Values between refits. */
  readonly refitEvery: number;
  /** Shingles needed before the first fit; values before it score 0. */
  readonly warmup: number;
  readonly ntrees: number;
  readonly sampleSize: number;
  /** Extension level; clamped to shingle − 1. */
  readonly extensionLevel: number;
  readonly seed: number;
  /** Raw scores averaged for the short-term level the likelihood step compares. */
  readonly shortWindow: number;
  /** Raw scores the likelihood step's mean and spread are taken over (when `calibrate` is 0). */
  readonly longWindow: number;
  /**
   * 1: the likelihood step's mean and spread are those of the forest's own scores of its training
   * shingles (means of `shortWindow` consecutive ones), taken at each refit; 0: those of the last
   * `longWindow` raw scores.
   */
  readonly calibrate: number;
  /** Decades of the normal tail mapped onto [0, 1]: score = min(1, −log10 Q(z) / decades). */
  readonly decades: number;
  /**
   * Values after a final score ≥ `refractoryLevel` (likelihood or range rule) whose scores are multiplied
   * by `refractoryDamping`; the level is meant to be the one alerts fire at.
   */
  readonly refractory: number;
  readonly refractoryLevel: number;
  readonly refractoryDamping: number;
  /**
   * Range rule (Numenta's "spatial anomaly"): once the forest is fitted, a value more than this fraction
   * of the range beyond the min or max of the previous `rangeWindow` values scores 1. Negative disables it
   * and the mean rule (`meanWindow`).
   */
  readonly rangeMargin: number;
  readonly rangeWindow: number;
  /**
   * The range rule at a second time scale: the mean of the last `meanWindow` values scores 1 when it lies
   * more than `rangeMargin` of their range beyond the min or max of the previous `rangeWindow` such means
   * (a level shift inside the values' own range, hidden by their noise). 0 disables it.
   */
  readonly meanWindow: number;
}

/**
 * The settings ADR 0007 chose from bench:nab runs (67.5 standard, the mean over refit seeds 1–3;
 * ~100k records per CPU-second on a busy machine).
 */
export const DEFAULT_DETECTOR: DetectorOptions = {
  shingle: 8,
  diffs: 0,
  dayPhase: 0,
  history: 1000,
  refitEvery: 500,
  warmup: 150,
  ntrees: 25,
  sampleSize: 128,
  extensionLevel: 7,
  seed: 1,
  shortWindow: 30,
  longWindow: 1000,
  calibrate: 1,
  decades: 10,
  refractory: 100,
  refractoryLevel: 0.6,
  refractoryDamping: 0,
  rangeMargin: 0.05,
  rangeWindow: 3000,
  meanWindow: 12,
};

/** What the detector says about one value. */
export interface DetectorOutput {
  /** Final anomaly score in [0, 1] (what alert rules and NAB see). */
  readonly score: number;
  /** The forest's isolation score of the value's shingle (0 before the first fit). */
  readonly raw: number;
}

/** Bad detector settings or input, naming the field. */
export class DetectorError extends Error {
  override readonly name = 'DetectorError';
}

function checkOptions(o: DetectorOptions): void {
  const ints: [keyof DetectorOptions, number][] = [
    ['shingle', 0],
    ['diffs', 0],
    ['history', 2],
    ['refitEvery', 1],
    ['warmup', 2],
    ['ntrees', 1],
    ['sampleSize', 2],
    ['shortWindow', 1],
    ['longWindow', 2],
    ['refractory', 0],
    ['rangeWindow', 2],
    ['meanWindow', 0],
  ];
  for (const [k, min] of ints) {
    const v = o[k];
    if (!Number.isInteger(v) || v < min)
      throw new DetectorError(`${k} must be an integer ≥ ${min}, got ${v}`);
  }
  if (o.calibrate !== 0 && o.calibrate !== 1)
    throw new DetectorError(`calibrate must be 0 or 1, got ${o.calibrate}`);
  if (o.dayPhase !== 0 && o.dayPhase !== 1)
    throw new DetectorError(`dayPhase must be 0 or 1, got ${o.dayPhase}`);
  if (featureCount(o) < 1) throw new DetectorError('shingle + diffs + 2 · dayPhase must be ≥ 1');
  if (o.warmup > o.history) throw new DetectorError(`warmup (${o.warmup}) must be ≤ history (${o.history})`);
  if (!(o.decades > 0) || !Number.isFinite(o.decades))
    throw new DetectorError(`decades must be > 0, got ${o.decades}`);
  if (!Number.isFinite(o.rangeMargin))
    throw new DetectorError(`rangeMargin must be a number, got ${o.rangeMargin}`);
  if (!(o.refractoryDamping >= 0 && o.refractoryDamping <= 1)) {
    throw new DetectorError(`refractoryDamping must be in [0, 1], got ${o.refractoryDamping}`);
  }
}

/** Length of a detector's feature vector. */
export function featureCount(o: Pick<DetectorOptions, 'shingle' | 'diffs' | 'dayPhase'>): number {
  return o.shingle + o.diffs + 2 * o.dayPhase;
}

const DAY_MS = 86_400_000;

function erfcParts(z: number): { poly: number; x2: number } {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return { poly, x2: x * x };
}

/** Upper tail of the standard normal, Q(z) = erfc(z / √2) / 2 (Abramowitz–Stegun 7.1.26, |ε| < 1.5e−7). */
export function normalTail(z: number): number {
  const { poly, x2 } = erfcParts(z);
  const erfc = poly * Math.exp(-x2);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** −log10 Q(z), computed in log space so it keeps growing where Q(z) itself underflows. */
export function normalTailDecades(z: number): number {
  if (z <= 0) return -Math.log10(normalTail(z));
  const { poly, x2 } = erfcParts(z);
  return -(Math.log(poly / 2) - x2) / Math.LN10;
}

/** A fixed-size ring of numbers with a running sum and sum of squares. */
class Ring {
  readonly buf: Float64Array;
  count = 0;
  private next = 0;
  sum = 0;
  sumSq = 0;
  constructor(size: number) {
    this.buf = new Float64Array(size);
  }
  push(v: number): void {
    if (this.count === this.buf.length) {
      const old = this.buf[this.next]!;
      this.sum -= old;
      this.sumSq -= old * old;
    } else {
      this.count++;
    }
    this.buf[this.next] = v;
    this.sum += v;
    this.sumSq += v * v;
    this.next = (this.next + 1) % this.buf.length;
  }
  mean(): number {
    return this.count ? this.sum / this.count : 0;
  }
  std(): number {
    if (this.count < 2) return 0;
    const m = this.mean();
    return Math.sqrt(Math.max(0, this.sumSq / this.count - m * m));
  }
}

/**
 * The anomaly likelihood of raw isolation scores: how far the mean of the last `shortWindow` raw scores
 * lies above a baseline mean (in the baseline's standard deviations), as −log10 of the normal upper tail
 * over `decades`, capped at 1. The baseline is the one last given to {@link LikelihoodScorer.calibrate}
 * or, before any, the mean and spread of the last `longWindow` raw scores (0 until 100 are known).
 */
export class LikelihoodScorer {
  private readonly short: Ring;
  private readonly long: Ring;
  private baseline: { mean: number; std: number } | undefined;
  constructor(private readonly o: Pick<DetectorOptions, 'shortWindow' | 'longWindow' | 'decades'>) {
    this.short = new Ring(o.shortWindow);
    this.long = new Ring(o.longWindow);
  }

  /**
   * Fixes the baseline from the raw scores a new forest gives its own training rows (in time order): the
   * mean and spread of their means over `shortWindow` consecutive rows, the quantity `push` compares.
   */
  calibrate(trainingScores: ArrayLike<number>): void {
    const w = Math.min(this.o.shortWindow, trainingScores.length);
    const means = new Ring(Math.max(1, trainingScores.length - w + 1));
    let sum = 0;
    for (let i = 0; i < trainingScores.length; i++) {
      sum += trainingScores[i]!;
      if (i >= w) sum -= trainingScores[i - w]!;
      if (i >= w - 1) means.push(sum / w);
    }
    this.baseline = { mean: means.mean(), std: means.std() };
  }

  /** The likelihood score of the next raw score, in [0, 1]. */
  push(raw: number): number {
    this.short.push(raw);
    let mu: number;
    let sd: number;
    if (this.baseline) {
      ({ mean: mu, std: sd } = this.baseline);
    } else {
      mu = this.long.mean();
      sd = this.long.std();
      const enough = this.long.count >= Math.min(100, this.o.longWindow);
      this.long.push(raw);
      if (!enough) return 0;
    }
    const z = (this.short.mean() - mu) / Math.max(sd, 1e-3);
    return Math.min(1, normalTailDecades(z) / this.o.decades);
  }
}

/**
 * The refractory period on the final score: once a score reaches `refractoryLevel` (the level alerts
 * fire at), the next `refractory` scores are multiplied by `refractoryDamping`, so one excursion gives one
 * alert, not a run of them. A score in the period does not start a new one.
 */
export class Refractory {
  private left = 0;
  constructor(
    private readonly o: Pick<DetectorOptions, 'refractory' | 'refractoryLevel' | 'refractoryDamping'>,
  ) {}
  push(score: number): number {
    if (this.left > 0) {
      this.left--;
      return score * this.o.refractoryDamping;
    }
    if (score >= this.o.refractoryLevel) this.left = this.o.refractory;
    return score;
  }
}

/** Min and max of the last `size` values (monotonic deques: O(1) amortised per value). */
export class SlidingRange {
  private seen = 0;
  // Each deque lives in a pair of arrays from its head index on; values increase (min) or decrease (max).
  private readonly minI: number[] = [];
  private readonly minV: number[] = [];
  private readonly maxI: number[] = [];
  private readonly maxV: number[] = [];
  private minHead = 0;
  private maxHead = 0;
  constructor(readonly size: number) {}
  get count(): number {
    return Math.min(this.seen, this.size);
  }
  get min(): number {
    return this.minV[this.minHead] ?? NaN;
  }
  get max(): number {
    return this.maxV[this.maxHead] ?? NaN;
  }
  push(v: number): void {
    const i = this.seen++;
    while (this.minI.length > this.minHead && this.minV[this.minV.length - 1]! >= v) {
      this.minI.pop();
      this.minV.pop();
    }
    this.minI.push(i);
    this.minV.push(v);
    while (this.maxI.length > this.maxHead && this.maxV[this.maxV.length - 1]! <= v) {
      this.maxI.pop();
      this.maxV.pop();
    }
    this.maxI.push(i);
    this.maxV.push(v);
    const oldest = i - this.size + 1;
    while (this.minI[this.minHead]! < oldest) this.minHead++;
    while (this.maxI[this.maxHead]! < oldest) this.maxHead++;
    // Drop the consumed heads now and then so the arrays do not grow without bound.
    if (this.minHead > 4096) {
      this.minI.splice(0, this.minHead);
      this.minV.splice(0, this.minHead);
      this.minHead = 0;
    }
    if (this.maxHead > 4096) {
      this.maxI.splice(0, this.maxHead);
      this.maxV.splice(0, this.maxHead);
      this.maxHead = 0;
    }
  }
}

/** Means of the last `size` values, summed oldest first: periodic input gives periodic means, bit for bit. */
export class RollingMean {
  private readonly buf: Float64Array;
  private seen = 0;
  constructor(readonly size: number) {
    this.buf = new Float64Array(size);
  }
  /** Adds a value; returns the mean of the last `size` values, NaN until there are that many. */
  push(v: number): number {
    const n = this.size;
    const next = this.seen % n; // where v goes; after it, the oldest value
    this.buf[next] = v;
    this.seen++;
    if (this.seen < n) return NaN;
    let sum = 0;
    for (let k = next + 1; k < n; k++) sum += this.buf[k]!;
    for (let k = 0; k <= next; k++) sum += this.buf[k]!;
    return sum / n;
  }
}

/**
 * A range rule: `judge(v, true)` is 1 when v lies more than `margin` of the range beyond the min or max of
 * the previous `window` values (and at least 50 are known), else 0; then v joins them. A negative margin,
 * or `verdict` false, gives 0 (the value is still kept).
 */
export class RangeRule {
  private readonly past: SlidingRange;
  constructor(
    private readonly margin: number,
    window: number,
  ) {
    this.past = new SlidingRange(window);
  }
  judge(v: number, verdict: boolean): number {
    let out = 0;
    if (verdict && this.margin >= 0 && this.past.count >= 50) {
      const { min, max } = this.past;
      const m = this.margin * (max - min);
      out = v > max + m || v < min - m ? 1 : 0;
    }
    this.past.push(v);
    return out;
  }
}

/**
 * One channel's detector. `push` and `pushMany` give identical scores: between two refits the forest is
 * fixed, so `pushMany` scores the values up to the next refit in one engine call.
 */
export class StreamDetector {
  readonly options: DetectorOptions;
  private readonly recent: Float64Array; // the last `span` values, ring
  private readonly span: number; // values a feature vector reads: max(shingle, diffs + 1)
  private readonly dims: number;
  private seen = 0;
  private readonly hist: Float64Array; // `history` shingles, ring, row-major
  private histCount = 0;
  private histNext = 0;
  private model: Model | undefined;
  private sinceFit = 0;
  private readonly likelihood: LikelihoodScorer;
  private readonly refractory: Refractory;
  private readonly range: RangeRule;
  private readonly means: RollingMean | undefined;
  private readonly meanRange: RangeRule;

  constructor(options: Partial<DetectorOptions> = {}) {
    this.options = { ...DEFAULT_DETECTOR, ...options };
    checkOptions(this.options);
    const { shingle, diffs, history } = this.options;
    this.span = Math.max(shingle, diffs > 0 ? diffs + 1 : 0, 1);
    this.dims = featureCount(this.options);
    this.recent = new Float64Array(this.span);
    this.hist = new Float64Array(history * this.dims);
    this.likelihood = new LikelihoodScorer(this.options);
    this.refractory = new Refractory(this.options);
    this.range = new RangeRule(this.options.rangeMargin, this.options.rangeWindow);
    this.means = this.options.meanWindow > 0 ? new RollingMean(this.options.meanWindow) : undefined;
    this.meanRange = new RangeRule(this.options.rangeMargin, this.options.rangeWindow);
  }

  /** Values seen so far. */
  get count(): number {
    return this.seen;
  }

  /** Scores one value; `time` (ms since the epoch) is needed when the features hold the time of day. */
  push(value: number, time?: number): DetectorOutput {
    const out = this.pushMany(Float64Array.of(value), time === undefined ? undefined : Float64Array.of(time));
    return { score: out.score[0]!, raw: out.raw[0]! };
  }

  /**
   * Scores values in order, as if pushed one by one; `times` (ms since the epoch, one per value) is needed
   * when the features hold the time of day. Throws on a non-finite value or time, naming its index.
   */
  pushMany(values: ArrayLike<number>, times?: ArrayLike<number>): { score: Float64Array; raw: Float64Array } {
    const n = values.length;
    if (this.options.dayPhase && (!times || times.length !== n)) {
      throw new DetectorError(`dayPhase needs one time per value (${n} values, ${times?.length ?? 0} times)`);
    }
    const scoreOut = new Float64Array(n);
    const rawOut = new Float64Array(n);
    const d = this.dims;
    let i = 0;
    while (i < n) {
      // Values up to the next refit share one forest: shingle them, score them in one call.
      const room = this.model ? this.options.refitEvery - this.sinceFit : 1;
      const end = Math.min(n, i + Math.max(1, room));
      const block = new Float64Array((end - i) * d);
      const ready = new Uint8Array(end - i);
      for (let j = i; j < end; j++) {
        const v = values[j]!;
        if (!Number.isFinite(v)) throw new DetectorError(`value ${j} is not a finite number`);
        this.recent[this.seen % this.span] = v;
        this.seen++;
        if (this.seen >= this.span) {
          this.features(block.subarray((j - i) * d, (j - i + 1) * d), times?.[j]);
          ready[j - i] = 1;
        }
      }
      const raw = this.model ? score(this.model, { data: block, rows: end - i, cols: d }) : undefined;
      for (let j = i; j < end; j++) {
        const r = raw && ready[j - i] ? raw[j - i]! : 0;
        rawOut[j] = r;
        // The range rules judge a value (and the mean it ends) against those before it, once fitted.
        const fitted = this.model !== undefined;
        let ranges = this.range.judge(values[j]!, fitted);
        const mean = this.means?.push(values[j]!) ?? NaN;
        if (!Number.isNaN(mean)) ranges = Math.max(ranges, this.meanRange.judge(mean, fitted));
        scoreOut[j] = fitted ? this.refractory.push(Math.max(this.likelihood.push(r), ranges)) : 0;
        if (ready[j - i]) this.remember(block.subarray((j - i) * d, (j - i + 1) * d));
      }
      i = end;
    }
    return { score: scoreOut, raw: rawOut };
  }

  /** Writes the feature vector of the latest value into `row`. */
  private features(row: Float64Array, time: number | undefined): void {
    const { shingle, diffs, dayPhase } = this.options;
    const L = this.span;
    const at = (q: number): number => this.recent[(this.seen - q) % L]!; // q = 1: the latest value
    let k = 0;
    for (let q = shingle; q >= 1; q--) row[k++] = at(q);
    for (let q = diffs; q >= 1; q--) row[k++] = at(q) - at(q + 1);
    if (dayPhase) {
      if (time === undefined || !Number.isFinite(time)) throw new DetectorError(`time ${time} is not finite`);
      const phase = (2 * Math.PI * (((time % DAY_MS) + DAY_MS) % DAY_MS)) / DAY_MS;
      row[k] = Math.cos(phase);
      row[k + 1] = Math.sin(phase);
    }
  }

  private remember(shingle: Float64Array): void {
    const d = this.dims;
    this.hist.set(shingle, this.histNext * d);
    this.histNext = (this.histNext + 1) % this.options.history;
    this.histCount = Math.min(this.histCount + 1, this.options.history);
    this.sinceFit++;
    if (this.model ? this.sinceFit >= this.options.refitEvery : this.histCount >= this.options.warmup)
      this.refit();
  }

  private refit(): void {
    const { history } = this.options;
    const d = this.dims;
    const rows = this.histCount;
    // Oldest first, so the forest (a pure function of data and seed) does not depend on the ring's phase.
    const data = new Float64Array(rows * d);
    const start = rows < history ? 0 : this.histNext;
    for (let r = 0; r < rows; r++)
      data.set(this.hist.subarray(((start + r) % history) * d, (((start + r) % history) + 1) * d), r * d);
    const model = fit(
      { data, rows, cols: d },
      {
        ntrees: this.options.ntrees,
        sampleSize: this.options.sampleSize,
        extensionLevel: Math.min(this.options.extensionLevel, d - 1),
        seed: this.options.seed,
        standardize: true,
      },
    );
    if (this.options.calibrate) this.likelihood.calibrate(score(model, { data, rows, cols: d }));
    this.model = model;
    this.sinceFit = 0;
  }
}
