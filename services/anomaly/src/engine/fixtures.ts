// Deterministic synthetic data for engine tests and benchmarks: Gaussian inliers plus planted anomalies.

import type { Matrix } from './contract.js';
import { SPLIT_STREAM, TreeRng } from './rng.js';

/** A labelled matrix: 1 marks a planted anomaly. */
export interface PlantedData {
  readonly x: Matrix;
  readonly y: Uint8Array;
}

/**
 * `rows` × `cols` N(0, 1) points of which the first `round(rows · fraction)` are replaced by uniform
 * points in [−spread, spread]^cols (the research note's sanity set), then optionally scaled per column.
 */
export function plantedGaussian(
  rows: number,
  cols: number,
  opts: { fraction?: number; spread?: number; seed?: number; scale?: readonly number[] } = {},
): PlantedData {
  const { fraction = 0.01, spread = 6, seed = 1, scale } = opts;
  const rng = new TreeRng(seed, 0x5eed, SPLIT_STREAM);
  const data = new Float64Array(rows * cols);
  const y = new Uint8Array(rows);
  const anomalies = Math.round(rows * fraction);
  for (let r = 0; r < rows; r++) {
    const planted = r < anomalies;
    y[r] = planted ? 1 : 0;
    for (let c = 0; c < cols; c++) {
      const v = planted ? (2 * rng.nextDouble() - 1) * spread : rng.nextNormal();
      data[r * cols + c] = v * (scale?.[c] ?? 1);
    }
  }
  return { x: { data, rows, cols }, y };
}
