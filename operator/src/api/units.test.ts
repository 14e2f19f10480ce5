// Quantity and duration parsing agree with Kubernetes' and Go's syntax.
import { describe, expect, it } from 'vitest';
import { parseDuration, parseQuantity } from './units.js';

describe('parseQuantity', () => {
  it.each([
    ['500m', 0.5],
    ['2', 2],
    [4, 4],
    ['1Gi', 2 ** 30],
    ['1024Mi', 2 ** 30],
    ['1G', 1e9],
    ['1.5k', 1500],
    ['1e3', 1000],
    ['.5', 0.5],
  ] as const)('%s → %d', (input, expected) => {
    expect(parseQuantity(input)).toBeCloseTo(expected, 9);
  });

  it('rejects non-quantities with the value in the message', () => {
    expect(() => parseQuantity('10 GB')).toThrow('"10 GB" is not a Kubernetes quantity');
    expect(() => parseQuantity('1gi')).toThrow(/not a Kubernetes quantity/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['30m', 1_800_000],
    ['24h', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['250ms', 250],
  ] as const)('%s → %d ms', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it('rejects days and junk', () => {
    expect(() => parseDuration('7d')).toThrow('"7d" is not a duration');
    expect(() => parseDuration('')).toThrow(/not a duration/);
  });
});
