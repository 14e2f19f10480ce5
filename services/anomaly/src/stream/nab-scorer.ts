// The Numenta Anomaly Benchmark's scoring (NAB v1.1 "sweeper"), reimplemented in TypeScript from its
// published rules: labelled windows, the scaled sigmoid, the three application profiles, one threshold for
// the whole corpus chosen by a sweep, and normalisation between the null detector and a perfect one.
// Pure: no I/O. `bench/nab.ts` feeds it the corpus; `nab-scorer.test.ts` checks it against hand-worked
// series and against NAB's own per-file scores for its published `numenta` detector.

/** Weights of one NAB application profile (`config/profiles.json`, `CostMatrix`). */
export interface CostMatrix {
  readonly tpWeight: number;
  readonly fnWeight: number;
  readonly fpWeight: number;
}

/** The three published profiles, keyed by NAB's names. */
export const NAB_PROFILES = {
  standard: { tpWeight: 1, fnWeight: 1, fpWeight: 0.11 },
  reward_low_FP_rate: { tpWeight: 1, fnWeight: 1, fpWeight: 0.22 },
  reward_low_FN_rate: { tpWeight: 1, fnWeight: 2, fpWeight: 0.11 },
} as const satisfies Record<string, CostMatrix>;

export type NabProfile = keyof typeof NAB_PROFILES;

/** NAB's probationary fraction: the first 15 % of a file (at most 750 records) is not scored. */
export const PROBATION_FRACTION = 0.15;

/** A labelled anomaly window: first and last timestamp (ms since the epoch), both records of the file. */
export type NabWindow = readonly [start: number, end: number];

/**
 * Parses NAB's timestamps (`2015-09-11 15:34:00`, labels add `.000000`) as UTC milliseconds; NaN when the
 * text is not one.
 */
export function parseNabTimestamp(text: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)?$/.exec(text.trim());
  if (!m) return NaN;
  return Date.parse(`${m[1]}T${m[2]}${m[3] ? m[3].slice(0, 4) : ''}Z`);
}

/** Bad scorer input (lengths, unknown window timestamps, non-finite scores), naming the file and place. */
export class NabInputError extends Error {
  override readonly name = 'NabInputError';
}

/**
 * NAB's scaled sigmoid of a relative position: −1 at the left edge of a window gives 2σ(5) − 1 ≈ 0.9866,
 * the right edge 0, and positions after a window fall towards −1 (exactly −1 beyond 3 window widths).
 */
export function scaledSigmoid(position: number): number {
  if (position > 3) return -1;
  return 2 * (1 / (1 + Math.exp(5 * position))) - 1;
}

/** Records of a file of `n` records that are scored: from this index on. */
export function probationaryLength(n: number, fraction = PROBATION_FRACTION): number {
  return Math.min(Math.floor(fraction * n), fraction * 5000);
}

/** Window index of a record outside every window, and of a record in the probationary period. */
export const OUTSIDE = -1;
export const PROBATIONARY = -2;

/** One file after the sweep: each record's anomaly score, the NAB score it earns if detected, its window. */
export interface FileSweep {
  readonly name: string;
  readonly scores: Float64Array;
  /** Weighted score of a detection at this record (TP weight inside a window, FP weight outside). */
  readonly sweep: Float64Array;
  /** Window index within the file, {@link OUTSIDE} or {@link PROBATIONARY}. */
  readonly window: Int32Array;
  readonly windowCount: number;
}

/** Score and counts of a threshold: a record is a detection when its anomaly score is ≥ the threshold. */
export interface ThresholdScore {
  readonly threshold: number;
  readonly score: number;
  readonly tp: number;
  readonly tn: number;
  readonly fp: number;
  readonly fn: number;
}

// Record order is the file's order, as in NAB: its corpus steps back 55 minutes once (2014-01-07 02:55 in
// realKnownCause/machine_temperature_system_failure.csv), so timestamps are not required to increase.
function indexOfTimestamps(name: string, timestamps: ArrayLike<number>): Map<number, number> {
  const first = new Map<number, number>();
  for (let i = 0; i < timestamps.length; i++) {
    const t = timestamps[i]!;
    if (!Number.isFinite(t)) throw new NabInputError(`${name}: timestamp of record ${i} is not a number`);
    if (!first.has(t)) first.set(t, i);
  }
  return first;
}

function checkWindows(name: string, windows: readonly NabWindow[], first: Map<number, number>): void {
  let prevEnd = -Infinity;
  windows.forEach(([start, end], k) => {
    for (const [what, t] of [
      ['start', start],
      ['end', end],
    ] as const) {
      if (!first.has(t)) {
        throw new NabInputError(
          `${name}: window ${k} ${what} ${new Date(t).toISOString()} is not a record's timestamp`,
        );
      }
    }
    if (end < start) throw new NabInputError(`${name}: window ${k} ends before it starts`);
    if (start <= prevEnd)
      throw new NabInputError(`${name}: window ${k} overlaps or precedes window ${k - 1}`);
    prevEnd = end;
  });
}

/**
 * Walks a file's records in time order the way NAB's `Sweeper.calcSweepScore` does: inside a window a
 * detection at index i earns tpWeight · S(−(right − i + 1) / width) / S(−1); outside it costs
 * fpWeight · S(|i − previous right| / (previous width − 1)), or the full −fpWeight before any window.
 */
export function sweepFile(
  name: string,
  timestamps: ArrayLike<number>,
  scores: ArrayLike<number>,
  windows: readonly NabWindow[],
  cost: CostMatrix,
  probationFraction = PROBATION_FRACTION,
): FileSweep {
  const n = timestamps.length;
  if (scores.length !== n) {
    throw new NabInputError(`${name}: ${scores.length} anomaly scores for ${n} records`);
  }
  const first = indexOfTimestamps(name, timestamps);
  checkWindows(name, windows, first);
  const maxTP = scaledSigmoid(-1);
  const probation = probationaryLength(n, probationFraction);
  const out = { scores: new Float64Array(n), sweep: new Float64Array(n), window: new Int32Array(n) };
  let next = 0;
  let cur = -1;
  let curRight = 0;
  let curWidth = 0;
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    const t = timestamps[i]!;
    const s = scores[i]!;
    if (!Number.isFinite(s)) throw new NabInputError(`${name}: anomaly score of record ${i} is not finite`);
    out.scores[i] = s;
    if (next < windows.length && t === windows[next]![0]) {
      cur = next++;
      curRight = first.get(windows[cur]![1])!; // checkWindows: every window end is a timestamp
      curWidth = curRight - first.get(windows[cur]![0])! + 1;
    }
    if (cur >= 0) {
      out.sweep[i] = (scaledSigmoid(-(curRight - i + 1) / curWidth) * cost.tpWeight) / maxTP;
    } else {
      const unweighted = prevRight < 0 ? -1 : scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1));
      out.sweep[i] = unweighted * cost.fpWeight;
    }
    out.window[i] = i >= probation ? (cur >= 0 ? cur : OUTSIDE) : PROBATIONARY;
    if (cur >= 0 && t === windows[cur]![1]) {
      prevRight = i;
      prevWidth = curWidth;
      cur = -1;
    }
  }
  return { name, ...out, windowCount: windows.length };
}

/**
 * Every threshold's score over a set of files, highest threshold first (NAB's `calcScoreByThreshold`):
 * the first row is 1.1 (nothing detected: −fnWeight per window that has scored records), then one row per
 * distinct anomaly score, counting every record whose score is ≥ it. Inside a window only the best
 * (earliest) detection counts; every detection outside a window adds its sweep score.
 */
export function scoresByThreshold(files: readonly FileSweep[], cost: CostMatrix): ThresholdScore[] {
  const points: { f: number; i: number }[] = [];
  const windowBase: number[] = [];
  let windows = 0;
  files.forEach((file, f) => {
    windowBase.push(windows);
    windows += file.windowCount;
    for (let i = 0; i < file.scores.length; i++) if (file.window[i] !== PROBATIONARY) points.push({ f, i });
  });
  // Highest score first; ties keep file and record order (NAB's sort is stable).
  points.sort((a, b) => files[b.f]!.scores[b.i]! - files[a.f]!.scores[a.i]! || a.f - b.f || a.i - b.i);

  // Window parts in the order NAB's dict holds them (first appearance in the sorted list), so the sums
  // add in the same order.
  const part = new Float64Array(windows);
  const order: number[] = [];
  const seen = new Uint8Array(windows);
  let tn = 0;
  let fn = 0;
  for (const { f, i } of points) {
    const w = files[f]!.window[i]!;
    if (w === OUTSIDE) {
      tn++;
      continue;
    }
    fn++;
    const g = windowBase[f]! + w;
    if (!seen[g]) {
      seen[g] = 1;
      part[g] = -cost.fnWeight;
      order.push(g);
    }
  }
  const total = (fpPart: number): number => order.reduce((acc, g) => acc + part[g]!, fpPart);

  const rows: ThresholdScore[] = [];
  let fpPart = 0;
  let tp = 0;
  let fp = 0;
  let threshold = 1.1;
  for (const { f, i } of points) {
    const file = files[f]!;
    const s = file.scores[i]!;
    if (s !== threshold) {
      rows.push({ threshold, score: total(fpPart), tp, tn, fp, fn });
      threshold = s;
    }
    const w = file.window[i]!;
    if (w === OUTSIDE) {
      fp++;
      tn--;
      fpPart += file.sweep[i]!;
    } else {
      tp++;
      fn--;
      const g = windowBase[f]! + w;
      part[g] = Math.max(part[g]!, file.sweep[i]!);
    }
  }
  rows.push({ threshold, score: total(fpPart), tp, tn, fp, fn });
  return rows;
}

/** The corpus threshold NAB's optimiser picks: the highest score, the highest threshold among ties. */
export function optimizeThreshold(files: readonly FileSweep[], cost: CostMatrix): ThresholdScore {
  const rows = scoresByThreshold(files, cost);
  let best = rows[0]!;
  for (const r of rows) if (r.score > best.score) best = r;
  return best;
}

/**
 * One file's score at a threshold, as NAB's `scoreDataSet` matches it: the row of that threshold, or of
 * the lowest threshold above it. Where every row is above it (the file's lowest score is above the
 * threshold) NAB has no row and fails; we take the last row, every record detected.
 */
export function scoreFileAt(file: FileSweep, threshold: number, cost: CostMatrix): ThresholdScore {
  const rows = scoresByThreshold([file], cost);
  let prev: ThresholdScore | undefined;
  for (const r of rows) {
    if (r.threshold === threshold) return r;
    if (r.threshold < threshold) return prev ?? r;
    prev = r;
  }
  return rows[rows.length - 1]!;
}

/** A corpus scored at one threshold: per-file rows and their sum (NAB's `Totals` row). */
export interface CorpusScore {
  readonly threshold: number;
  readonly score: number;
  readonly files: readonly (ThresholdScore & { readonly name: string })[];
}

/** Scores every file at `threshold` and adds them up. */
export function scoreCorpus(files: readonly FileSweep[], threshold: number, cost: CostMatrix): CorpusScore {
  const rows = files.map((file) => ({ name: file.name, ...scoreFileAt(file, threshold, cost) }));
  return { threshold, score: rows.reduce((acc, r) => acc + r.score, 0), files: rows };
}

/**
 * NAB's normalised score: 100 · (raw − null) / (perfect − null), where perfect is tpWeight for every
 * labelled window and null is the raw score of the null detector (a constant score) on the same corpus.
 */
export function normalizeScore(raw: number, nullRaw: number, windowCount: number, cost: CostMatrix): number {
  const perfect = windowCount * cost.tpWeight;
  return (100 * (raw - nullRaw)) / (perfect - nullRaw);
}

/** One series of a corpus to score: timestamps (ms), the detector's scores, the labelled windows. */
export interface NabSeries {
  readonly name: string;
  readonly timestamps: ArrayLike<number>;
  readonly windows: readonly NabWindow[];
}

/** A detector's result on a corpus for one profile: threshold, raw and normalised score, counts. */
export interface ProfileResult {
  readonly profile: NabProfile;
  readonly threshold: number;
  readonly raw: number;
  readonly nullRaw: number;
  readonly normalized: number;
  readonly files: CorpusScore['files'];
}

/**
 * The whole NAB procedure for one detector and profile: optimise the corpus threshold, score every file
 * at it, run the null detector (every record scored 0.5, NAB's `null` detector) the same way, normalise.
 */
export function scoreDetector(
  series: readonly NabSeries[],
  scores: readonly ArrayLike<number>[],
  profile: NabProfile,
): ProfileResult {
  const cost = NAB_PROFILES[profile];
  const sweeps = series.map((s, k) => sweepFile(s.name, s.timestamps, scores[k]!, s.windows, cost));
  const best = optimizeThreshold(sweeps, cost);
  const corpus = scoreCorpus(sweeps, best.threshold, cost);
  const nullSweeps = series.map((s) =>
    sweepFile(s.name, s.timestamps, new Float64Array(s.timestamps.length).fill(0.5), s.windows, cost),
  );
  const nullBest = optimizeThreshold(nullSweeps, cost);
  const nullRaw = scoreCorpus(nullSweeps, nullBest.threshold, cost).score;
  const windowCount = series.reduce((acc, s) => acc + s.windows.length, 0);
  return {
    profile,
    threshold: best.threshold,
    raw: corpus.score,
    nullRaw,
    normalized: normalizeScore(corpus.score, nullRaw, windowCount, cost),
    files: corpus.files,
  };
}
