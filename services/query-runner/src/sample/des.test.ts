import { describe, expect, it } from 'vitest';
import { SAMPLE_COLUMNS, sampleCopyText, sampleRow, tileName } from './des.js';

const N = 5000;
const rows = Array.from({ length: N }, (_, n) => sampleRow(1, n));
const col = (name: string): number => SAMPLE_COLUMNS.findIndex((c) => c.name === name);

describe('the DES-like sample', () => {
  it('is deterministic per (seed, row), whatever range it is generated in', () => {
    expect(sampleCopyText(1, 0, 100)).toBe(sampleCopyText(1, 0, 40) + sampleCopyText(1, 40, 100));
    expect(sampleRow(1, 1234)).toEqual(rows[1234]);
    expect(sampleRow(2, 1234)).not.toEqual(rows[1234]);
    expect(sampleCopyText(1, 5, 5)).toBe('');
  });

  it('keeps positions in the footprint, ids unique, tile names DES-style and matching the position', () => {
    const ids = new Set(rows.map((r) => r[0]));
    expect(ids.size).toBe(N);
    for (const r of rows) {
      const ra = r[col('ra')] as number;
      const dec = r[col('dec')] as number;
      expect(ra >= 300 || ra < 100, `ra ${ra}`).toBe(true);
      expect(dec).toBeGreaterThanOrEqual(-65);
      expect(dec).toBeLessThanOrEqual(5);
      expect(r[col('tilename')]).toBe(tileName(ra, dec));
      expect(r[col('tilename')]).toMatch(/^DES\d{4}[+-]\d{4}$/);
    }
    expect(tileName(0, 0)).toBe('DES0000+0000');
    expect(tileName(359.99, 0.1)).toBe('DES0000+0000');
    // Dec -49.3 is in the tile centred at -67 x 0.7306 = -48.95 (48°57'); RA 30 at 27 x 1.1113 = 30.005.
    expect(tileName(30, -49.3)).toBe('DES0200-4857');
  });

  it('has non-detections as NULL magnitude and error together, more in the shallow bands', () => {
    const missing = (b: string): number => rows.filter((r) => r[col(`mag_auto_${b}`)] === null).length;
    for (const b of ['g', 'r', 'i', 'z', 'y']) {
      for (const r of rows)
        expect(r[col(`mag_auto_${b}`)] === null).toBe(r[col(`magerr_auto_${b}`)] === null);
    }
    expect(missing('y')).toBeGreaterThan(missing('i'));
    expect(missing('i')).toBeGreaterThan(0);
    const errs = rows.map((r) => r[col('magerr_auto_i')]).filter((e): e is number => e !== null);
    expect(Math.min(...errs)).toBeGreaterThan(0);
    expect(Math.max(...errs)).toBeLessThanOrEqual(1);
  });

  it('has clean flags for most objects and stars near spread_model 0', () => {
    const flags = rows.map((r) => r[col('flags')] as number);
    expect(flags.filter((f) => f === 0).length / N).toBeGreaterThan(0.85);
    expect(new Set(flags)).toEqual(new Set([0, 2, 3, 4]));
    const sm = rows.map((r) => r[col('spread_model')] as number);
    expect(sm.filter((s) => Math.abs(s) < 0.003).length / N).toBeGreaterThan(0.1);
  });

  it('writes COPY text with \\N for NULL and floats that read back exactly', () => {
    const line = sampleCopyText(1, 7, 8).trimEnd().split('\t');
    expect(line).toHaveLength(SAMPLE_COLUMNS.length);
    const r = sampleRow(1, 7);
    r.forEach((v, i) => {
      const t = line[i] ?? '';
      if (v === null) expect(t).toBe('\\N');
      else if (typeof v === 'number' && SAMPLE_COLUMNS[i]?.type === 'float4')
        expect(Math.fround(Number(t))).toBe(v);
      else expect(t).toBe(String(v));
    });
  });
});
