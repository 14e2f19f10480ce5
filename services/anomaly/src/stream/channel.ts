// One telemetry channel end to end, pure: records → (optional) aggregation windows → detector → alert
// rules. The piece an HTTP NDJSON push or a Redis Stream consumer will feed; not yet wired to either.

import { AggregateError, WindowAggregator, type SummaryField, type WindowSummary } from './aggregate.js';
import { StreamDetector, type DetectorOptions } from './detector.js';
import {
  ExcursionEvaluator,
  RuleError,
  ThresholdEvaluator,
  validateRule,
  type AlertRule,
  type RuleAlert,
} from './rules.js';

/** A channel's settings (what `spec.streams[]` will carry). */
export interface ChannelSpec {
  readonly name: string;
  /** Aggregation window in ms; absent: the detector sees every record. */
  readonly windowMs?: number;
  /** The window statistic the detector sees (default `mean`); ignored without `windowMs`. */
  readonly field?: SummaryField;
  readonly detector?: Partial<DetectorOptions>;
  readonly rules: readonly AlertRule[];
}

/** What the channel emits per detector input (a record, or a closed window). */
export interface ChannelEvent {
  readonly channel: string;
  readonly time: number;
  /** The value the detector saw. */
  readonly value: number;
  readonly score: number;
  readonly summary?: WindowSummary;
  readonly alerts: readonly RuleAlert[];
}

/** A telemetry channel. */
export class StreamChannel {
  private readonly aggregator: WindowAggregator | undefined;
  private readonly detector: StreamDetector;
  private readonly thresholds: ThresholdEvaluator[] = [];
  private readonly excursions: ExcursionEvaluator[] = [];
  private last = -Infinity;

  constructor(readonly spec: ChannelSpec) {
    spec.rules.forEach((rule, i) => {
      const path = `${spec.name}.rules[${i}]`;
      validateRule(rule, path);
      if (rule.kind === 'threshold') this.thresholds.push(new ThresholdEvaluator(rule));
      else if (spec.windowMs === undefined) {
        throw new RuleError(
          `${path}: an excursion rule needs the channel's windowMs (it reads window statistics)`,
        );
      } else this.excursions.push(new ExcursionEvaluator(rule));
    });
    this.aggregator = spec.windowMs === undefined ? undefined : new WindowAggregator(spec.windowMs);
    this.detector = new StreamDetector(spec.detector);
  }

  /** Adds one record (time in ms, in order); returns the events it completed (zero or one). */
  push(time: number, value: number): ChannelEvent[] {
    if (!this.aggregator) {
      if (!Number.isFinite(time) || time < this.last) {
        throw new AggregateError(`${this.spec.name}: record time ${time} is not finite or goes back in time`);
      }
      this.last = time;
      return [this.feed(time, value, undefined)];
    }
    const closed = this.aggregator.push(time, value);
    return closed ? [this.feed(closed.start, closed[this.spec.field ?? 'mean'], closed)] : [];
  }

  /** Ends the open window (at the end of a stream); no-op without aggregation. */
  flush(): ChannelEvent[] {
    const closed = this.aggregator?.flush();
    return closed ? [this.feed(closed.start, closed[this.spec.field ?? 'mean'], closed)] : [];
  }

  private feed(time: number, value: number, summary: WindowSummary | undefined): ChannelEvent {
    const { score } = this.detector.push(value, time);
    const alerts: RuleAlert[] = [];
    for (const t of this.thresholds) {
      const a = t.push(time, score);
      if (a) alerts.push(a);
    }
    if (summary) {
      for (const e of this.excursions) {
        const a = e.push(summary);
        if (a) alerts.push(a);
      }
    }
    return { channel: this.spec.name, time, value, score, ...(summary ? { summary } : {}), alerts };
  }
}
