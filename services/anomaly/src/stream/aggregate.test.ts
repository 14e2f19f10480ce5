import { describe, expect, it } from 'vitest';
import { AggregateError, summarize, WindowAggregator } from './aggregate.js';

describe('summarize', () => {
  it('computes min, max, mean, median and population std', () => {
    expect(summarize(0, 1000, [4, 1, 3, 2])).toEqual({
      start: 0,
      end: 1000,
      count: 4,
      min: 1,
      max: 4,
      mean: 2.5,
      median: 2.5,
      std: Math.sqrt(1.25),
    });
    expect(summarize(0, 1000, [7, 1, 5])).toMatchObject({ median: 5, mean: 13 / 3 });
    expect(summarize(0, 1000, [2])).toMatchObject({ std: 0, median: 2 });
  });
});

describe('WindowAggregator', () => {
  it('emits a 1 s window when the first record past it arrives, not before', () => {
    const agg = new WindowAggregator(1000);
    expect(agg.push(10_100, 1)).toBeUndefined();
    expect(agg.push(10_500, 3)).toBeUndefined();
    expect(agg.push(10_999, 2)).toBeUndefined();
    const closed = agg.push(11_000, 10);
    expect(closed).toMatchObject({
      start: 10_000,
      end: 11_000,
      count: 3,
      min: 1,
      max: 3,
      mean: 2,
      median: 2,
    });
    // A gap: nothing for 11–14 s except the one record; 11 s closes when 15 s arrives.
    expect(agg.push(15_200, 20)).toMatchObject({ start: 11_000, count: 1, mean: 10 });
    expect(agg.flush()).toMatchObject({ start: 15_000, end: 16_000, count: 1, max: 20 });
    expect(agg.flush()).toBeUndefined();
  });

  it('refuses records out of time order and non-finite values, naming the record', () => {
    const agg = new WindowAggregator(1000);
    agg.push(5000, 1);
    expect(() => agg.push(4000, 1)).toThrow(
      new AggregateError(
        "record 1: time 1970-01-01T00:00:04.000Z is before the previous record's 1970-01-01T00:00:05.000Z",
      ),
    );
    expect(() => agg.push(6000, NaN)).toThrow(/record 2: value is not a finite number/);
    expect(() => new WindowAggregator(0)).toThrow(/windowMs must be a positive number/);
  });
});
