import { describe, expect, it } from 'vitest';
import { checkColumns, formatFloat } from './types.js';

describe('checkColumns', () => {
  it('refuses two columns with one name (readers key columns by name), naming both', () => {
    expect(() =>
      checkColumns([
        { name: 'ra', type: 'float8' },
        { name: 'dec', type: 'float8' },
        { name: 'ra', type: 'float4' },
      ]),
    ).toThrow("column 3 'ra': the name of column 1 too");
  });

  it('refuses an unknown type and a width that is not a positive integer', () => {
    expect(() => checkColumns([{ name: 'x', type: 'numeric' as 'int4' }])).toThrow(
      "column 1 'x': unsupported type 'numeric'",
    );
    expect(() => checkColumns([{ name: 's', type: 'text', width: 0 }])).toThrow(
      "column 1 's': width must be a positive integer",
    );
  });
});

describe('formatFloat', () => {
  it('gives the shortest decimal of the float32 for float4 and of the float64 for float8', () => {
    expect(formatFloat(Math.fround(0.1), 'float4')).toBe('0.1');
    expect(formatFloat(Math.fround(16777217), 'float4')).toBe('16777216');
    expect(formatFloat(Math.fround(3.4028234663852886e38), 'float4')).toBe('3.4028235e+38');
    expect(formatFloat(Math.fround(1e-45), 'float4')).toBe('1e-45');
    expect(formatFloat(0.1, 'float8')).toBe('0.1');
    expect(formatFloat(-0, 'float8')).toBe('-0');
  });
});
