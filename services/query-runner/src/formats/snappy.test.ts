import { snappyCompress as reference } from 'hyparquet-writer/src/snappy.js';
import { describe, expect, it } from 'vitest';
import { snappyCompress } from './snappy.js';

/** A deterministic pseudo-random generator (xorshift32). */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function inputs(): [string, Uint8Array][] {
  const rnd = random(42);
  const noise = Uint8Array.from({ length: 100_000 }, () => Math.floor(rnd() * 256));
  const ids = new BigInt64Array(20_000).map((_, i) => 61_000_000_000n + BigInt(i * 3 + (i % 7)));
  const tiles = Buffer.concat(
    Array.from({ length: 30_000 }, (_, i) => {
      const s = `DES${String(Math.floor(i / 900)).padStart(4, '0')}-4914`;
      const b = Buffer.alloc(4 + s.length);
      b.writeInt32LE(s.length);
      b.write(s, 4, 'latin1');
      return b;
    }),
  );
  // Runs long enough for copies of 64 and more, literals past 60 bytes, matches beyond 64 KiB apart.
  const mixed = Buffer.concat([noise.subarray(0, 70_000), Buffer.alloc(5000), noise.subarray(0, 300)]);
  return [
    ['empty', new Uint8Array(0)],
    ['short', Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])],
    ['noise', noise],
    ['zeros', new Uint8Array(200_000)],
    ['int64 ids', new Uint8Array(ids.buffer)],
    ['tile names', tiles],
    ['mixed', mixed],
    ['small flags', Uint8Array.from({ length: 65_536 }, (_, i) => (i % 97 === 0 ? 2 : 0))],
  ];
}

describe('snappyCompress', () => {
  it("writes hyparquet-writer's bytes exactly, for every kind of page", () => {
    for (const [name, input] of inputs()) {
      const want = reference(input);
      const got = snappyCompress(input);
      expect(Buffer.from(got).equals(Buffer.from(want)), name).toBe(true);
    }
  });

  it('compresses what repeats and returns a view of its scratch buffer, reused by the next call', () => {
    const a = snappyCompress(new Uint8Array(100_000));
    expect(a.length).toBeLessThan(6000);
    const copy = Uint8Array.from(a);
    snappyCompress(Uint8Array.from({ length: 1000 }, (_, i) => i));
    expect(a.buffer).toBe(snappyCompress(new Uint8Array(10)).buffer);
    expect(Buffer.from(copy).equals(Buffer.from(reference(new Uint8Array(100_000))))).toBe(true);
  });
});
