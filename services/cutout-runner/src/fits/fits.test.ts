import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { onesSum } from './checksum.js';
import { compressedHduBytes } from './compressed.js';
import { formatCard, Header } from './header.js';
import { allocPixels, emptyPrimary, hduBytes, imageHduBytes, physical, type Bitpix } from './image.js';
import { FitsFile } from './read.js';
import { riceDecode, riceEncode } from './rice.js';

const dir = mkdtempSync(join(tmpdir(), 'skyport-fits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small deterministic generator (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('header cards', () => {
  it('parses strings with quotes, CONTINUE, logicals, D exponents and keeps unknown cards verbatim', () => {
    const cards = [
      formatCard('OBJECT', "it''s".replace("''", "'")),
      "LONGSTR = 'abc&'".padEnd(80),
      "CONTINUE  'def'".padEnd(80),
      formatCard('FLAG', true),
      'DVAL    =             1.5D-03 / a D exponent'.padEnd(80),
      'HISTORY made by hand'.padEnd(80),
    ];
    const h = new Header(cards);
    expect(h.get('OBJECT')).toBe("it's");
    expect(h.get('LONGSTR')).toBe('abcdef');
    expect(h.get('FLAG')).toBe(true);
    expect(h.get('DVAL')).toBeCloseTo(1.5e-3, 15);
    expect(h.get('HISTORY')).toBeUndefined();
    const back = Header.parse(h.bytes(), 'test').header;
    expect(back.cards).toEqual(h.cards);
  });

  it('set() keeps the comment and formats reals so they read back exactly', () => {
    const h = new Header([formatCard('CRPIX1', 10.5, 'reference pixel')]);
    for (const x of [1024, 0.1 + 0.2, -1e-7, 123456789.123, 5e21]) {
      h.set('CRPIX1', x);
      expect(h.get('CRPIX1')).toBe(x);
      expect(h.cards[0]).toContain('/ reference pixel');
    }
  });
});

describe('checksums', () => {
  it('sum words loaded whole exactly as byte by byte, at any offset', () => {
    const bytes = new Uint8Array(4 * 5000 + 8);
    let seed = 7;
    for (let i = 0; i < bytes.length; i++)
      bytes[i] = (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    const byByte = (b: Uint8Array, sum = 0): number => {
      let hi = sum >>> 16;
      let lo = sum & 0xffff;
      for (let i = 0; i < b.length; i += 4) {
        hi += ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);
        lo += ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0);
      }
      while (hi > 0xffff || lo > 0xffff)
        [hi, lo] = [(hi & 0xffff) + (lo >>> 16), (lo & 0xffff) + (hi >>> 16)];
      return ((hi << 16) | lo) >>> 0;
    };
    for (const offset of [0, 1, 2, 4]) {
      const view = bytes.subarray(offset, offset + 4 * 5000);
      expect(onesSum(view)).toBe(byByte(view));
      expect(onesSum(view, 0xfffe1234)).toBe(byByte(view, 0xfffe1234));
    }
    expect(onesSum(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1]))).toBe(1);
  });

  it('a written HDU sums to -0 and DATASUM is the data sum', () => {
    const data = Buffer.alloc(2880);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    const hdu = hduBytes(emptyPrimary(), data);
    expect(onesSum(hdu)).toBe(0xffffffff);
    const h = Header.parse(hdu, 'test').header;
    expect(Number(h.get('DATASUM'))).toBe(onesSum(data));
    expect(h.string('CHECKSUM')).toMatch(/^[0-9A-Za-z]{16}$/);
  });
});

describe('rice', () => {
  for (const bytepix of [1, 2, 4] as const) {
    it(`round-trips ${bytepix}-byte pixels: noise, constant runs, extreme jumps, short last block`, () => {
      const r = rng(bytepix);
      const bits = 8 * bytepix;
      const n = 1000 + bytepix; // not a multiple of the block size
      const v = new Array<number>(n);
      for (let i = 0; i < n; i++) {
        if (i < 100)
          v[i] = 7; // all-zero differences
        else if (i < 200)
          v[i] = Math.floor(r() * 2 ** bits) - (bytepix === 1 ? 0 : 2 ** (bits - 1)); // high entropy
        else v[i] = 1000 + Math.floor(r() * 20); // ordinary noise
      }
      const enc = riceEncode(v, 32, bytepix);
      const dec = riceDecode(enc, n, 32, bytepix, 'test');
      const want =
        bytepix === 1 ? Uint8Array.from(v) : bytepix === 2 ? Int16Array.from(v) : Int32Array.from(v);
      expect(Array.from(dec)).toEqual(Array.from(want));
      if (bytepix === 4) expect(enc.length).toBeLessThan(n * 4);
    });
  }

  it('a truncated stream is an error, not garbage', () => {
    const enc = riceEncode(
      Array.from({ length: 500 }, (_, i) => (i * 37) % 1000),
      32,
      4,
    );
    expect(() => riceDecode(enc.subarray(0, enc.length >> 1), 500, 32, 4, 'tile 3')).toThrow(/tile 3/);
  });
});

describe('image HDUs', () => {
  const bitpixes: Bitpix[] = [8, 16, 32, -32, -64];
  it('every BITPIX round-trips through the writer and the reader, several HDUs in one file', () => {
    const r = rng(5);
    const parts = [hduBytes(emptyPrimary(), new Uint8Array(0))];
    const images = bitpixes.map((bitpix) => {
      const data = allocPixels(bitpix, 7 * 5);
      for (let i = 0; i < data.length; i++) {
        data[i] =
          bitpix === 8
            ? Math.floor(r() * 256)
            : bitpix > 0
              ? Math.floor((r() - 0.5) * 30000)
              : (r() - 0.5) * 1e6;
      }
      const h = new Header([formatCard('EXTNAME', `B${bitpix}`)]);
      parts.push(imageHduBytes(h, { bitpix, width: 7, height: 5, data }, false));
      return data;
    });
    const path = join(dir, 'all.fits');
    writeFileSync(path, Buffer.concat(parts));
    const f = FitsFile.open(path);
    try {
      expect(f.hdus.map((h) => h.name)).toEqual(['', 'B8', 'B16', 'B32', 'B-32', 'B-64']);
      bitpixes.forEach((bitpix, i) => {
        const img = f.readImage(`B${bitpix}`);
        expect([img.bitpix, img.width, img.height]).toEqual([bitpix, 7, 5]);
        expect(Array.from(img.data)).toEqual(Array.from(images[i]!));
      });
    } finally {
      f.close();
    }
  });

  it('BSCALE/BZERO and BLANK give physical values', () => {
    const h = new Header([formatCard('BSCALE', 0.5), formatCard('BZERO', 100), formatCard('BLANK', -1)]);
    const path = join(dir, 'scaled.fits');
    writeFileSync(
      path,
      imageHduBytes(h, { bitpix: 16, width: 3, height: 1, data: Int16Array.from([2, -1, -4]) }, true),
    );
    const f = FitsFile.open(path);
    expect(Array.from(physical(f.readImage(0)))).toEqual([101, NaN, 98]);
    f.close();
  });
});

describe('tile-compressed images', () => {
  it('integers round-trip exactly, with 2-D tiles that do not divide the image', () => {
    const data = Int16Array.from({ length: 37 * 23 }, (_, i) => ((i * 7919) % 4001) - 2000);
    const path = join(dir, 'int.fits.fz');
    const h = new Header([formatCard('EXTNAME', 'MSK')]);
    writeFileSync(
      path,
      Buffer.concat([
        hduBytes(emptyPrimary(), new Uint8Array(0)),
        compressedHduBytes({ header: h, bitpix: 16, width: 37, height: 23, data }, { tile: [10, 6] }),
      ]),
    );
    const f = FitsFile.open(path);
    const img = f.readImage('MSK');
    expect([img.bitpix, img.width, img.height]).toEqual([16, 37, 23]);
    expect(Array.from(img.data)).toEqual(Array.from(data));
    expect(f.imageHeader('MSK').cards.filter((c) => /^(Z|T[TF]|THEAP)/.test(c))).toEqual([]);
    expect(f.imageHeader('MSK').get('EXTNAME')).toBe('MSK');
    f.close();
  });

  it('floats come back within half a quantization step, NaN as NaN', () => {
    const r = rng(9);
    const data = Float32Array.from({ length: 64 * 16 }, () => 100 + (r() - 0.5) * 10);
    data[5] = NaN;
    const path = join(dir, 'float.fits.fz');
    writeFileSync(
      path,
      Buffer.concat([
        hduBytes(emptyPrimary(), new Uint8Array(0)),
        compressedHduBytes(
          { header: new Header([]), bitpix: -32, width: 64, height: 16, data },
          { ditherSeed: 42 },
        ),
      ]),
    );
    const f = FitsFile.open(path);
    const img = f.readImage(1);
    // The largest quantization step over the tiles (ZSCALE, the table's second column).
    const hdu = f.hdu(1);
    const table = f.readData(hdu);
    let step = 0;
    for (let row = 0; row < 16; row++) step = Math.max(step, Buffer.from(table).readDoubleBE(row * 24 + 8));
    f.close();
    expect(img.data[5]).toBeNaN();
    let worst = 0;
    for (let i = 0; i < data.length; i++)
      if (i !== 5) worst = Math.max(worst, Math.abs((img.data[i] ?? 0) - (data[i] ?? 0)));
    // Lossy, but dithered rounding stays within half a step (plus float32 rounding of the result).
    expect(step).toBeGreaterThan(0.05);
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(step / 2 + 1e-5);
  });
});
