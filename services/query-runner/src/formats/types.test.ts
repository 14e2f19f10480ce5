import { describe, expect, it } from 'vitest';
import { checkColumns, float4Exact, formatFloat, sentinelInt, type Column } from './types.js';

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

describe('formatFloat (float4) over random bit patterns, subnormals included', () => {
  it('reads back to the same float32 and no shorter decimal does', () => {
    const bits = new Uint32Array(1);
    const f32 = new Float32Array(bits.buffer);
    let seed = 12345;
    for (let i = 0; i < 20_000; i++) {
      // A fixed LCG: the same patterns every run; every 4th a subnormal (exponent bits zero).
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      bits[0] = i % 4 === 0 ? seed & 0x807fffff : seed;
      const x = f32[0] ?? 0;
      if (!Number.isFinite(x) || x === 0) continue;
      const s = formatFloat(x, 'float4');
      expect(Math.fround(Number(s)), s).toBe(x);
      const digits = s
        .replace(/^-/, '')
        .replace(/e.*$/, '')
        .replace('.', '')
        .replace(/^0+/, '')
        .replace(/0+$/, '').length;
      if (digits > 1) {
        const shorter = x.toPrecision(digits - 1);
        expect(Math.fround(Number(shorter)) === x, `${s} vs ${shorter}`).toBe(false);
      }
    }
  });
});

describe('formatFloat (float4) fast path', () => {
  it("gives toPrecision's text for catalog-like values, decimals of few digits and their neighbours", () => {
    const bits = new Uint32Array(1);
    const f32 = new Float32Array(bits.buffer);
    const xs: number[] = [];
    let seed = 777;
    const rnd = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    // Magnitudes, errors, positions and spread_model-like values over the fast path's range (1e-14 … 1e15).
    for (let i = 0; i < 100_000; i++) xs.push(Math.fround(10 ** (rnd() * 29 - 14) * (rnd() < 0.5 ? -1 : 1)));
    // Short decimals (ties and near-ties of toPrecision) and the float32s either side of them.
    for (let e = -14; e <= 14; e++)
      for (let m = 1; m < 2000; m += 7) {
        const x = Math.fround(m * 10 ** e);
        f32[0] = x;
        const b = bits[0] ?? 0;
        for (const d of [-1, 0, 1]) {
          bits[0] = b + d;
          xs.push(f32[0] ?? 0);
        }
        xs.push(Math.fround((m + 0.5) * 10 ** e));
      }
    for (const x of xs)
      if (Number.isFinite(x) && x !== 0) expect(formatFloat(x, 'float4')).toBe(float4Exact(x));
  });
});

describe('sentinelInt (FITS TNULL, HDF5 NULL)', () => {
  const col: Column = { name: 'flags', type: 'int2' };
  it('writes NULL as the sentinel and a value as itself', () => {
    expect(sentinelInt(null, col, 3, -32768n, 'TNULL in FITS')).toBe(-32768n);
    expect(sentinelInt(7, col, 3, -32768n, 'TNULL in FITS')).toBe(7n);
  });
  it('refuses a value equal to the sentinel, naming row, column and format', () => {
    expect(() => sentinelInt(-32768, col, 3, -32768n, 'TNULL in FITS')).toThrow(
      /row 3, column 'flags'.*-32768 is this type's TNULL in FITS and would read back as NULL/,
    );
  });
});
