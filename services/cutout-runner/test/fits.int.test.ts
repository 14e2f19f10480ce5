// FITS compatibility: astropy opens what our writer writes (checksums verified, standard warnings are
// failures) and reads the same pixels; our reader reads astropy's tile-compressed files (its own
// compressor: RICE_1 and GZIP_1, three quantization methods, integer images, 2-D tiles, NaN) to the same
// bits as astropy's decompression.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressedHduBytes } from '../src/fits/compressed.js';
import { formatCard, Header } from '../src/fits/header.js';
import { allocPixels, emptyPrimary, hduBytes, imageHduBytes, type Bitpix } from '../src/fits/image.js';
import { FitsFile } from '../src/fits/read.js';
import { astropy, astropyPython, pixelHash, type Inspected } from './support/astropy.js';

let python = '';
const dir = mkdtempSync(join(tmpdir(), 'skyport-fits-compat-'));
beforeAll(() => {
  python = astropyPython();
}, 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function readAll(path: string): Map<string, { hash: string; bitpix: number; shape: number[] }> {
  const f = FitsFile.open(path);
  try {
    const out = new Map<string, { hash: string; bitpix: number; shape: number[] }>();
    for (const hdu of f.hdus) {
      if (hdu.kind !== 'image' && hdu.kind !== 'compressed-image') continue;
      const img = f.readImage(hdu.index);
      out.set(hdu.name, { hash: pixelHash(img.data), bitpix: img.bitpix, shape: [img.height, img.width] });
    }
    return out;
  } finally {
    f.close();
  }
}

describe('astropy reads what we write', () => {
  it('image HDUs of every BITPIX and RICE_1 HDUs: same pixels, checksums valid, header cards kept', () => {
    const parts = [hduBytes(emptyPrimary([formatCard('ORIGIN', 'skyport test')]), new Uint8Array(0))];
    const bitpixes: Bitpix[] = [8, 16, 32, -32, -64];
    for (const bitpix of bitpixes) {
      const data = allocPixels(bitpix, 40 * 30);
      for (let i = 0; i < data.length; i++)
        data[i] = bitpix === 8 ? i % 251 : bitpix > 0 ? ((i * 37) % 20001) - 10000 : Math.sin(i) * 1e3;
      const h = new Header([formatCard('EXTNAME', `B${bitpix}`), formatCard('OBJECT', "it's a test")]);
      parts.push(imageHduBytes(h, { bitpix, width: 40, height: 30, data }, false));
    }
    const sci = Float32Array.from(
      { length: 50 * 20 },
      (_, i) => 10 + Math.sin(i * 0.7) * 3 + (i % 13) * 0.01,
    );
    sci[17] = NaN;
    parts.push(
      compressedHduBytes(
        {
          header: new Header([formatCard('EXTNAME', 'RSCI')]),
          bitpix: -32,
          width: 50,
          height: 20,
          data: sci,
        },
        { ditherSeed: 77 },
      ),
    );
    const msk = Int16Array.from({ length: 50 * 20 }, (_, i) => (i % 40 === 0 ? 1024 : i % 3));
    parts.push(
      compressedHduBytes(
        { header: new Header([formatCard('EXTNAME', 'RMSK')]), bitpix: 16, width: 50, height: 20, data: msk },
        { tile: [16, 8] },
      ),
    );
    const path = join(dir, 'ours.fits');
    writeFileSync(path, Buffer.concat(parts));

    const [got] = astropy<Inspected[]>(python, 'inspect', {
      files: [path],
      keys: ['OBJECT', 'ORIGIN', 'ZCMPTYPE'],
    });
    const ours = readAll(path);
    expect(got!.hdus.map((h) => h.name)).toEqual([
      'PRIMARY',
      'B8',
      'B16',
      'B32',
      'B-32',
      'B-64',
      'RSCI',
      'RMSK',
    ]);
    expect(got!.hdus[0]!.cards).toEqual({ ORIGIN: 'skyport test' });
    for (const h of got!.hdus.slice(1)) {
      expect(h.checksum, h.name).toBe(true);
      expect(h.sha256, h.name).toBe(ours.get(h.name)!.hash);
      expect(h.shape, h.name).toEqual(ours.get(h.name)!.shape);
    }
    expect(got!.hdus[2]!.cards).toEqual({ OBJECT: "it's a test" });
    expect(got!.hdus.slice(6).map((h) => h.class)).toEqual(['CompImageHDU', 'CompImageHDU']);
    expect(got!.hdus[6]!.nan).toBe(1);
    expect(got!.hdus.slice(1, 6).map((h) => h.dtype)).toEqual(['uint8', '>i2', '>i4', '>f4', '>f8']);
  });
});

describe('we read what astropy compresses', () => {
  const cases = [
    {
      name: 'rice-dither1',
      dtype: 'float32',
      compression: 'RICE_1',
      quantize: 'SUBTRACTIVE_DITHER_1',
      dither_seed: 1234,
      nan: true,
    },
    {
      name: 'rice-dither2',
      dtype: 'float32',
      compression: 'RICE_1',
      quantize: 'SUBTRACTIVE_DITHER_2',
      dither_seed: 9999,
    },
    { name: 'rice-nodither', dtype: 'float32', compression: 'RICE_1', quantize: 'NO_DITHER', tile: [8, 16] },
    {
      name: 'rice-2d-tiles',
      dtype: 'float32',
      compression: 'RICE_1',
      quantize: 'SUBTRACTIVE_DITHER_1',
      dither_seed: 5,
      tile: [12, 10],
    },
    { name: 'rice-int16', dtype: 'int16', compression: 'RICE_1', tile: [10, 7] },
    { name: 'rice-int32', dtype: 'int32', compression: 'RICE_1' },
    {
      name: 'gzip-float',
      dtype: 'float32',
      compression: 'GZIP_1',
      quantize: 'SUBTRACTIVE_DITHER_1',
      dither_seed: 3,
    },
    { name: 'gzip-int16', dtype: 'int16', compression: 'GZIP_1' },
  ];
  it('every case decompresses to astropy’s bits', () => {
    const req = cases.map((c) => ({ ...c, width: 45, height: 33, path: join(dir, `${c.name}.fits.fz`) }));
    const got = astropy<{ path: string; sha256: string }[]>(python, 'make-compressed', {
      seed: 11,
      cases: req,
    });
    expect(got).toHaveLength(cases.length);
    for (const g of got) {
      const ours = readAll(g.path).get('SCI');
      expect(ours?.shape, g.path).toEqual([33, 45]);
      expect(ours?.hash, g.path).toBe(g.sha256);
    }
  });
});
