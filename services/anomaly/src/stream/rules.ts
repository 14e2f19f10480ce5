// Alert rules of a telemetry channel: a score threshold on the detector's output, or an "excursion" (a
// quantity that was stable for N windows starts moving). Both fire on the transition, once, and re-arm:
// a telemetry alert is an event ("the dome temperature started moving at 02:14"), not one per record.

import type { SummaryField, WindowSummary } from './aggregate.js';

/** Fires when the detector's score reaches `score` after being below it. */
export interface ThresholdRule {
  readonly kind: 'threshold';
  readonly score: number;
}

/**
 * Fires when `field` of a window leaves the band it held for the last `stableWindows` windows: the band is
 * stable while max − min of those values is ≤ `stableBand`, and the new value is moving when it is more
 * than `moveBy` from their mean. Units are the channel's own (kelvin, metres, …).
 */
export interface ExcursionRule {
  readonly kind: 'excursion';
  readonly field: SummaryField;
  readonly stableWindows: number;
  readonly stableBand: number;
  readonly moveBy: number;
}

export type AlertRule = ThresholdRule | ExcursionRule;

/** One fired rule. */
export interface RuleAlert {
  readonly rule: AlertRule['kind'];
  readonly time: number;
  readonly value: number;
  readonly message: string;
}

/** A rule that cannot be evaluated, naming the field. */
export class RuleError extends Error {
  override readonly name = 'RuleError';
}

/** Checks a rule's fields (`path` prefixes the names in errors, e.g. `spec.streams[0].rules[1]`). */
export function validateRule(rule: AlertRule, path = 'rule'): void {
  if (rule.kind === 'threshold') {
    if (!(rule.score >= 0 && rule.score <= 1))
      throw new RuleError(`${path}.score must be in [0, 1], got ${rule.score}`);
    return;
  }
  if (!Number.isInteger(rule.stableWindows) || rule.stableWindows < 2) {
    throw new RuleError(`${path}.stableWindows must be an integer ≥ 2, got ${rule.stableWindows}`);
  }
  if (!(rule.stableBand >= 0) || !Number.isFinite(rule.stableBand)) {
    throw new RuleError(`${path}.stableBand must be a number ≥ 0, got ${rule.stableBand}`);
  }
  if (!(rule.moveBy > 0) || !Number.isFinite(rule.moveBy)) {
    throw new RuleError(`${path}.moveBy must be a number > 0, got ${rule.moveBy}`);
  }
}

/** Edge-triggered score threshold. */
export class ThresholdEvaluator {
  private above = false;
  constructor(readonly rule: ThresholdRule) {
    validateRule(rule);
  }
  push(time: number, score: number): RuleAlert | undefined {
    const above = score >= this.rule.score;
    const fire = above && !this.above;
    this.above = above;
    if (!fire) return undefined;
    return {
      rule: 'threshold',
      time,
      value: score,
      message: `anomaly score ${score.toFixed(3)} reached ${this.rule.score}`,
    };
  }
}

/** Stable-then-moving detector over window summaries. */
export class ExcursionEvaluator {
  private readonly recent: number[] = [];
  constructor(readonly rule: ExcursionRule) {
    validateRule(rule);
  }
  push(summary: WindowSummary): RuleAlert | undefined {
    const { field, stableWindows, stableBand, moveBy } = this.rule;
    const v = summary[field];
    let alert: RuleAlert | undefined;
    if (this.recent.length === stableWindows) {
      const lo = Math.min(...this.recent);
      const hi = Math.max(...this.recent);
      const mean = this.recent.reduce((a, b) => a + b, 0) / stableWindows;
      if (hi - lo <= stableBand && Math.abs(v - mean) > moveBy) {
        alert = {
          rule: 'excursion',
          time: summary.start,
          value: v,
          message: `${field} ${v} moved ${(v - mean).toPrecision(3)} from ${mean.toPrecision(6)}, stable within ${stableBand} for ${stableWindows} windows`,
        };
      }
    }
    this.recent.push(v);
    if (this.recent.length > stableWindows) this.recent.shift();
    // After firing, the band holds the moving value, so the rule re-arms only once the quantity settles.
    return alert;
  }
}
