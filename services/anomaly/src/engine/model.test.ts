// Model encoding: round trips, size, content-hash ids, a golden id, and typed errors for bad bytes.

import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineError } from './errors.js';
import { plantedGaussian } from './fixtures.js';
import { buildTreeBlock, fit } from './forest.js';
import { decodeModel, decodeTreeBlock, encodeModel, FORMAT_VERSION, modelId } from './model.js';
import { computeStats, resolveParams } from './params.js';
import { score } from './score.js';

const planted = plantedGaussian(2000, 5, { seed: 3 });

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof EngineError) return e.code;
    throw e;
  }
  return 'none';
}

describe('encodeModel / decodeModel', () => {
  const variants = [
    { extensionLevel: 0 },
    { extensionLevel: 2 },
    { extensionLevel: 4 },
    { extensionLevel: 4, standardize: false },
    { extensionLevel: 1, compat: 'reference' as const, sampleSize: 5000 },
  ];
  for (const v of variants) {
    it(`round-trips to identical bytes, params and scores (${JSON.stringify(v)})`, () => {
      const m = fit(planted.x, { ntrees: 25, sampleSize: 200, seed: 4, ...v });
      const bytes = encodeModel(m);
      const back = decodeModel(bytes);
      expect(back.params).toEqual(m.params);
      expect(Array.from(back.stats.mean)).toEqual(Array.from(m.stats.mean));
      expect(Array.from(back.stats.std)).toEqual(Array.from(m.stats.std));
      expect(back.cPsi).toBe(m.cPsi);
      expect(Buffer.from(encodeModel(back)).equals(Buffer.from(bytes))).toBe(true);
      expect(Array.from(score(back, planted.x))).toEqual(Array.from(score(m, planted.x)));
      expect(modelId(back)).toBe(modelId(m));
    });
  }

  it('keeps a 100-tree, d = 10, fully extended model under 1.1 MB and e = 0 far smaller', () => {
    const x = plantedGaussian(20_000, 10, { seed: 8 }).x;
    const full = encodeModel(fit(x, { ntrees: 100, sampleSize: 256, extensionLevel: 9, seed: 1 }));
    const axis = encodeModel(fit(x, { ntrees: 100, sampleSize: 256, extensionLevel: 0, seed: 1 }));
    expect(full.length).toBeLessThan(1.1e6);
    expect(axis.length).toBeLessThan(full.length / 2.5);
  });

  it('gives a sha256 content id that changes with any parameter', () => {
    const a = fit(planted.x, { ntrees: 10, sampleSize: 64, extensionLevel: 2, seed: 1 });
    expect(modelId(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(modelId(fit(planted.x, { ntrees: 10, sampleSize: 64, extensionLevel: 2, seed: 1 }))).toBe(
      modelId(a),
    );
    for (const p of [
      { ntrees: 11, sampleSize: 64, extensionLevel: 2, seed: 1 },
      { ntrees: 10, sampleSize: 65, extensionLevel: 2, seed: 1 },
      { ntrees: 10, sampleSize: 64, extensionLevel: 3, seed: 1 },
      { ntrees: 10, sampleSize: 64, extensionLevel: 2, seed: 2 },
      { ntrees: 10, sampleSize: 64, extensionLevel: 2, seed: 1, compat: 'reference' as const },
    ]) {
      expect(modelId(fit(planted.x, p))).not.toBe(modelId(a));
    }
  });

  it('matches the golden model id (any change to the RNG, algorithm or format must update it knowingly)', () => {
    const goldenPath = new URL('./testdata/model-golden.json', import.meta.url);
    const ids: Record<string, string> = {};
    for (const e of [0, 2, 4]) {
      ids[`e${e}`] = modelId(
        fit(plantedGaussian(500, 5, { seed: 1 }).x, {
          ntrees: 8,
          sampleSize: 64,
          extensionLevel: e,
          seed: 12345,
        }),
      );
    }
    if (process.env.UPDATE_GOLDEN === '1')
      writeFileSync(goldenPath, `${JSON.stringify({ formatVersion: FORMAT_VERSION, ids }, null, 2)}\n`);
    const golden = JSON.parse(readFileSync(goldenPath, 'utf8')) as {
      formatVersion: number;
      ids: Record<string, string>;
    };
    expect(golden.formatVersion).toBe(FORMAT_VERSION);
    expect(ids).toEqual(golden.ids);
  });
});

describe('decode errors', () => {
  const model = fit(planted.x, { ntrees: 6, sampleSize: 32, extensionLevel: 2, seed: 9 });
  const bytes = encodeModel(model);

  it('rejects encodings over the size cap', () => {
    expect(codeOf(() => decodeModel(bytes, { maxBytes: bytes.length - 1 }))).toBe('ModelTooLarge');
    expect(decodeModel(bytes, { maxBytes: bytes.length }).params.ntrees).toBe(6);
  });

  it('rejects a bad magic and an unknown version', () => {
    const bad = Uint8Array.from(bytes);
    bad[0] = 0x58;
    expect(codeOf(() => decodeModel(bad))).toBe('BadModelMagic');
    const v2 = Uint8Array.from(bytes);
    v2[4] = FORMAT_VERSION + 1;
    expect(codeOf(() => decodeModel(v2))).toBe('UnsupportedModelVersion');
    expect(codeOf(() => decodeTreeBlock(bytes))).toBe('BadModelMagic');
  });

  it('rejects every truncation with TruncatedModel and trailing bytes with CorruptModel', () => {
    for (let len = 0; len < bytes.length; len += len < 200 ? 1 : 37) {
      expect(
        codeOf(() => decodeModel(bytes.subarray(0, len))),
        `prefix ${len}`,
      ).toBe('TruncatedModel');
    }
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(codeOf(() => decodeModel(longer))).toBe('CorruptModel');
  });

  it('rejects a corrupt header and a backward child pointer (which could loop a walk)', () => {
    const hdr = Uint8Array.from(bytes);
    new DataView(hdr.buffer).setUint32(24, 5, true); // extensionLevel = d
    expect(codeOf(() => decodeModel(hdr))).toBe('CorruptModel');
    // The first tree starts after the 48-byte header, 2·d f64 stats and ntrees + 1 offsets; its root is
    // internal (ψ = 32 > 1): u32 nodeCount, u8 kind, then u32 right child, which we point back at the root.
    const d = 5;
    const root = 48 + 16 * d + 4 * 7;
    const back = Uint8Array.from(bytes);
    const view = new DataView(back.buffer);
    expect(view.getUint8(root + 4)).toBe(1);
    view.setUint32(root + 5, 0, true);
    expect(codeOf(() => decodeModel(back))).toBe('CorruptModel');
  });

  it('decodes tree blocks and rejects truncated ones', () => {
    const r = resolveParams({ ntrees: 6, sampleSize: 32, extensionLevel: 2, seed: 9 }, planted.x);
    const block = buildTreeBlock(planted.x, computeStats(planted.x, r), r, 2, 5);
    const dec = decodeTreeBlock(block.bytes);
    expect(dec).toMatchObject({ start: 2, end: 5, d: 5, k: 3 });
    expect(dec.trees).toHaveLength(3);
    expect(codeOf(() => decodeTreeBlock(block.bytes.subarray(0, block.bytes.length - 3)))).toBe(
      'TruncatedModel',
    );
  });
});
