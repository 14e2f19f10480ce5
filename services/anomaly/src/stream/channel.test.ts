import { describe, expect, it } from 'vitest';
import { StreamChannel } from './channel.js';
import { RuleError } from './rules.js';

const small = {
  shingle: 4,
  history: 300,
  warmup: 100,
  refitEvery: 50,
  ntrees: 20,
  sampleSize: 64,
  longWindow: 200,
};

describe('StreamChannel', () => {
  it('per record: a threshold rule fires once on a spike the detector scores high', () => {
    const ch = new StreamChannel({
      name: 'dome.temperature',
      detector: small,
      rules: [{ kind: 'threshold', score: 0.9 }],
    });
    const fired: number[] = [];
    for (let i = 0; i < 800; i++) {
      const v = i === 600 ? 40 : 10 + Math.sin(i / 8);
      for (const e of ch.push(i * 1000, v)) for (const a of e.alerts) fired.push(a.time / 1000);
    }
    expect(fired).toEqual([600]);
  });

  it('windowed: 1 s summaries of 10 Hz data feed the detector; an excursion fires when a stable mean moves', () => {
    const ch = new StreamChannel({
      name: 'alma.receiver.band3',
      windowMs: 1000,
      detector: small,
      rules: [{ kind: 'excursion', field: 'mean', stableWindows: 30, stableBand: 0.05, moveBy: 0.2 }],
    });
    const events = [];
    for (let i = 0; i < 10 * 300; i++) {
      const second = Math.floor(i / 10);
      const kelvin = 4 + (second >= 200 ? 0.5 : 0) + 0.01 * Math.sin(i);
      events.push(...ch.push(i * 100, kelvin));
    }
    events.push(...ch.flush());
    expect(events).toHaveLength(300);
    expect(events[0]!.summary).toMatchObject({ start: 0, end: 1000, count: 10 });
    const alerts = events.flatMap((e) => e.alerts);
    expect(alerts.map((a) => [a.rule, a.time])).toEqual([['excursion', 200_000]]);
  });

  it('refuses an excursion rule without windows and bad rules, naming the channel and rule', () => {
    expect(
      () =>
        new StreamChannel({
          name: 'c',
          rules: [{ kind: 'excursion', field: 'mean', stableWindows: 5, stableBand: 0.1, moveBy: 1 }],
        }),
    ).toThrow(
      new RuleError(
        "c.rules[0]: an excursion rule needs the channel's windowMs (it reads window statistics)",
      ),
    );
    expect(() => new StreamChannel({ name: 'c', rules: [{ kind: 'threshold', score: -1 }] })).toThrow(
      /c.rules\[0\].score must be in \[0, 1\]/,
    );
    const ch = new StreamChannel({ name: 'c', rules: [] });
    ch.push(2000, 1);
    expect(() => ch.push(1000, 1)).toThrow(/goes back in time/);
  });
});
