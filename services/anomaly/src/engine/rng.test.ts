// Per-tree random streams: reproducible from (seed, tree, stream), independent across trees, well distributed.

import { describe, expect, it } from 'vitest';
import { SAMPLE_STREAM, SPLIT_STREAM, TreeRng } from './rng.js';

function take(rng: TreeRng, n: number): number[] {
  return Array.from({ length: n }, () => rng.nextU32());
}

describe('TreeRng', () => {
  it('fills doubles and normals with exactly the values one-at-a-time draws give, spare included', () => {
    const one = new TreeRng(5, 3, SPLIT_STREAM);
    const bulk = new TreeRng(5, 3, SPLIT_STREAM);
    const scratch = new Float64Array(64);
    // Odd and even counts, interleaved, so the polar method's spare crosses calls and kinds.
    for (const n of [7, 1, 10, 3, 36, 0, 5]) {
      const d = new Float64Array(n);
      const g = new Float64Array(n);
      bulk.fillDoubles(d, n);
      bulk.fillNormals(g, n, scratch);
      expect(Array.from(d)).toEqual(Array.from({ length: n }, () => one.nextDouble()));
      expect(Array.from(g)).toEqual(Array.from({ length: n }, () => one.nextNormal()));
    }
    expect(bulk.nextNormal()).toBe(one.nextNormal());
    expect(bulk.nextU32()).toBe(one.nextU32());
  });

  it('draws nextInt as rejection of the top 2^32 mod n values and r mod n, computed exactly (BigInt reference)', () => {
    const rng = new TreeRng(9, 4, SAMPLE_STREAM);
    const ref = new TreeRng(9, 4, SAMPLE_STREAM);
    const two32 = 2n ** 32n;
    // Widths where r ≥ 2^31 is common, a division is inexact, and the rejection band is wide (n just above 2^31).
    const widths = [
      2,
      3,
      7,
      255,
      65537,
      99_744,
      1_000_003,
      2 ** 31 - 1,
      2 ** 31 + 1,
      3_000_000_019,
      2 ** 32 - 1,
      2 ** 32,
    ];
    for (let i = 0; i < 4000; i++) {
      const n = widths[i % widths.length]!;
      const limit = two32 - (two32 % BigInt(n));
      let r = BigInt(ref.nextU32());
      while (r >= limit) r = BigInt(ref.nextU32());
      expect(rng.nextInt(n)).toBe(Number(r % BigInt(n)));
    }
  });

  it('fills shuffle draws j + nextInt(n − j) exactly as one-at-a-time calls, the stream left in step', () => {
    // n = count makes the last width 1 (no draw); 1.5e9 rejects 30% of draws, 2^31 − 1 divides inexactly.
    for (const [n, count] of [
      [5, 5],
      [256, 256],
      [100_000, 256],
      [1_500_000_001, 300],
      [2 ** 31 - 1, 300],
    ] as const) {
      const bulk = new TreeRng(11, n % 1000, SAMPLE_STREAM);
      const one = new TreeRng(11, n % 1000, SAMPLE_STREAM);
      const out = new Int32Array(count);
      bulk.fillShuffleDraws(out, n, count);
      for (let j = 0; j < count; j++) expect(out[j], `n ${n}, j ${j}`).toBe(j + one.nextInt(n - j));
      expect(bulk.nextU32()).toBe(one.nextU32());
    }
  });

  it('is a pure function of (seed, tree, stream)', () => {
    expect(take(new TreeRng(42, 7, SPLIT_STREAM), 50)).toEqual(take(new TreeRng(42, 7, SPLIT_STREAM), 50));
    const a = take(new TreeRng(42, 7, SPLIT_STREAM), 8);
    expect(take(new TreeRng(42, 8, SPLIT_STREAM), 8)).not.toEqual(a);
    expect(take(new TreeRng(43, 7, SPLIT_STREAM), 8)).not.toEqual(a);
    expect(take(new TreeRng(42, 7, SAMPLE_STREAM), 8)).not.toEqual(a);
    // Seeds that differ only above bit 32, and negative seeds, still give distinct streams.
    expect(take(new TreeRng(42 + 2 ** 32, 7, SPLIT_STREAM), 8)).not.toEqual(a);
    expect(take(new TreeRng(-42, 7, SPLIT_STREAM), 8)).not.toEqual(a);
  });

  it('draws uniform doubles in [0, 1) and unbiased integers', () => {
    const rng = new TreeRng(1, 0, SPLIT_STREAM);
    let sum = 0;
    const counts = new Array<number>(7).fill(0);
    for (let i = 0; i < 70_000; i++) {
      const u = rng.nextDouble();
      expect(u >= 0 && u < 1).toBe(true);
      sum += u;
      const k = rng.nextInt(7);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    expect(sum / 70_000).toBeCloseTo(0.5, 2);
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400); // ≈ 4σ
    expect(rng.nextInt(1)).toBe(0);
  });

  it('draws standard normals (mean 0, variance 1, symmetric tails)', () => {
    const rng = new TreeRng(3, 1, SPLIT_STREAM);
    const n = 100_000;
    let s = 0;
    let s2 = 0;
    let beyond2 = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.nextNormal();
      s += z;
      s2 += z * z;
      if (Math.abs(z) > 1.96) beyond2++;
    }
    expect(s / n).toBeCloseTo(0, 1);
    expect(s2 / n).toBeCloseTo(1, 1);
    expect(beyond2 / n).toBeCloseTo(0.05, 2);
  });
});
