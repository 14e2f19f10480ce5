// Unit test for the compute thread pool: results from real worker threads equal in-process results.

import { afterAll, describe, expect, it } from 'vitest';
import { encodeModel, fit, modelId, score } from '../engine/index.js';
import { ThreadPool, ComputeError } from './thread-pool.js';

const pool = new ThreadPool(2);
afterAll(async () => {
  await pool.close();
});

function data(rows: number, cols: number): Float64Array {
  const d = new Float64Array(rows * cols);
  for (let i = 0; i < d.length; i++)
    d[i] = Math.sin(i * 12.9898) * 43758.5453 - Math.floor(Math.sin(i * 12.9898) * 43758.5453);
  return d;
}

describe('ThreadPool', () => {
  it('builds blocks and assembles a model identical to an in-process fit', async () => {
    const x = data(2000, 5);
    const params = { ntrees: 20, sampleSize: 64, extensionLevel: 2, seed: 4 };
    const blocks = await Promise.all(
      [
        [0, 7],
        [7, 20],
      ].map(async ([start, end]) => {
        const r = await pool.run({ op: 'build', data: x, cols: 5, params, start: start!, end: end! });
        if (r.op !== 'build') throw new Error(r.op);
        return { start: start!, end: end!, bytes: r.bytes };
      }),
    );
    const a = await pool.run({ op: 'assemble', data: x, cols: 5, params, blocks, contamination: 0.05 });
    if (a.op !== 'assemble') throw new Error(a.op);
    const local = fit({ data: x, rows: 2000, cols: 5 }, params);
    expect(a.modelId).toBe(modelId(local));
    expect(Buffer.from(a.modelBytes).equals(Buffer.from(encodeModel(local)))).toBe(true);

    const req = { op: 'score', modelId: a.modelId, data: x, cols: 5, threshold: a.threshold ?? 1 } as const;
    const miss = await pool.run(req);
    expect(miss.op === 'missing-model' || miss.op === 'score').toBe(true);
    const s = await pool.run({ ...req, modelBytes: a.modelBytes });
    if (s.op !== 'score') throw new Error(s.op);
    const want = score(local, { data: x, rows: 2000, cols: 5 });
    expect(Buffer.from(s.scores.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    expect(s.flagged).toBe(want.filter((v) => v >= (a.threshold ?? 1)).length);
  });

  it('carries engine errors back with their code', async () => {
    const x = data(10, 2);
    const err = await pool
      .run({
        op: 'build',
        data: x,
        cols: 2,
        params: { ntrees: 5, sampleSize: 8, extensionLevel: 2, seed: 1 },
        start: 0,
        end: 5,
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComputeError);
    expect(err).toMatchObject({ name: 'EngineError', code: 'ExtensionLevelOutOfRange' });
  });
});
