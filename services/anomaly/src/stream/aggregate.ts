// Aggregation windows for telemetry channels (Rubin EFD-style summaries: min, max, mean, median, std per
// window). Streaming: records arrive in time order and a window is emitted when the first record at or
// past its end arrives (or on flush), never earlier, so nothing downstream sees the future.

/** The summary of one window [start, end). */
export interface WindowSummary {
  readonly start: number;
  readonly end: number;
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly median: number;
  /** Population standard deviation (0 for a single record). */
  readonly std: number;
}

/** The statistics a rule or detector can read from a summary. */
export const SUMMARY_FIELDS = ['min', 'max', 'mean', 'median', 'std'] as const;
export type SummaryField = (typeof SUMMARY_FIELDS)[number];

/** A record out of time order or not a finite number, naming it. */
export class AggregateError extends Error {
  override readonly name = 'AggregateError';
}

/** The summary of the window [start, end) holding `values` (non-empty). */
export function summarize(start: number, end: number, values: readonly number[]): WindowSummary {
  const n = values.length;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = sum / n;
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  const sorted = [...values].sort((a, b) => a - b);
  const mid = n >> 1;
  const median = n % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { start, end, count: n, min, max, mean, median, std: Math.sqrt(ss / n) };
}

/**
 * Tumbling windows of `windowMs`, aligned to multiples of it since the epoch (1000 ms windows are whole
 * seconds). A window with no record is not emitted: a gap in the stream is a gap in the summaries.
 */
export class WindowAggregator {
  private start = NaN;
  private values: number[] = [];
  private last = -Infinity;
  private seen = 0;

  constructor(readonly windowMs: number) {
    if (!(windowMs > 0) || !Number.isFinite(windowMs)) {
      throw new AggregateError(`windowMs must be a positive number, got ${windowMs}`);
    }
  }

  /** Adds a record; returns the window it closed, if any. */
  push(time: number, value: number): WindowSummary | undefined {
    const i = this.seen++;
    if (!Number.isFinite(time)) throw new AggregateError(`record ${i}: time is not a finite number`);
    if (!Number.isFinite(value)) throw new AggregateError(`record ${i}: value is not a finite number`);
    if (time < this.last) {
      throw new AggregateError(
        `record ${i}: time ${new Date(time).toISOString()} is before the previous record's ${new Date(this.last).toISOString()}`,
      );
    }
    this.last = time;
    const start = Math.floor(time / this.windowMs) * this.windowMs;
    let closed: WindowSummary | undefined;
    if (start !== this.start) {
      closed = this.flush();
      this.start = start;
    }
    this.values.push(value);
    return closed;
  }

  /** Emits the open window (at the end of a stream, or when a clock says it is over). */
  flush(): WindowSummary | undefined {
    if (this.values.length === 0) return undefined;
    const s = summarize(this.start, this.start + this.windowMs, this.values);
    this.values = [];
    return s;
  }
}
