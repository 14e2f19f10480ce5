// Our side of the speed benchmark: fit time and single-core score rate on the shared data, 100 trees,
// ψ = 256, at extension 0 and full extension (with the default standardisation, and without).
// Usage: tsx speed.ts <data base path> <out.json> [--quick]

import { writeFileSync } from 'node:fs';
import { auroc, fit, score, type ForestParams } from '../src/engine/index.js';
import { median, readShared } from './lib.js';

const [base, outPath] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (!base || !outPath) throw new Error('usage: speed.ts <data base> <out.json> [--quick]');
const quick = process.argv.includes('--quick');
const { x, y } = readShared(base);
const d = x.cols;
const fitRuns = quick ? 3 : 7;
const scoreRuns = quick ? 2 : 5;

interface Result {
  name: string;
  extension: 'ext0' | 'full';
  fitMs: number;
  scoreRate: number;
  scoreMs: number;
  auroc: number;
  modelBytes?: number;
}

const configs: { name: string; extension: 'ext0' | 'full'; params: ForestParams }[] = [
  { name: 'ours e=0', extension: 'ext0', params: { ntrees: 100, sampleSize: 256, extensionLevel: 0, seed: 1 } },
  { name: `ours e=${d - 1} (standardised)`, extension: 'full', params: { ntrees: 100, sampleSize: 256, extensionLevel: d - 1, seed: 1 } },
  {
    name: `ours e=${d - 1} (raw)`,
    extension: 'full',
    params: { ntrees: 100, sampleSize: 256, extensionLevel: d - 1, seed: 1, standardize: false },
  },
];

const results: Result[] = [];
for (const c of configs) {
  // Warm up the JIT on both paths before timing, as the Python side's first call also pays its imports.
  let model = fit(x, { ...c.params, seed: 999 });
  score(model, x);
  const fitTimes: number[] = [];
  for (let i = 0; i < fitRuns; i++) {
    const t0 = performance.now();
    model = fit(x, { ...c.params, seed: i + 1 });
    fitTimes.push(performance.now() - t0);
  }
  const scoreTimes: number[] = [];
  let s: Float64Array = new Float64Array(0);
  for (let i = 0; i < scoreRuns; i++) {
    const t0 = performance.now();
    s = score(model, x);
    scoreTimes.push(performance.now() - t0);
  }
  const scoreMs = median(scoreTimes);
  results.push({
    name: c.name,
    extension: c.extension,
    fitMs: median(fitTimes),
    scoreMs,
    scoreRate: x.rows / (scoreMs / 1000),
    auroc: auroc(s, y),
  });
  console.log(
    `${c.name.padEnd(28)} fit ${median(fitTimes).toFixed(1).padStart(7)} ms   score ${Math.round(x.rows / (scoreMs / 1000))
      .toLocaleString('en-US')
      .padStart(9)} rows/s   AUROC ${(results.at(-1)?.auroc ?? 0).toFixed(4)}`,
  );
}
writeFileSync(outPath, JSON.stringify({ rows: x.rows, cols: d, node: process.version, results }, null, 2));
