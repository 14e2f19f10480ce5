// Our side of the speed benchmark: fit time and single-core score rate on the shared data, 100 trees,
// ψ = 256, at extension 0 and full extension (with the default standardisation, and without). Reports the
// best run (least time), the same rule baselines.py uses, because neighbours on a shared machine only add time.
// Usage: tsx speed.ts <data base path> <out.json> [--quick]

import { writeFileSync } from 'node:fs';
import { auroc, fit, score, type ForestParams } from '../src/engine/index.js';
import { readShared } from './lib.js';

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
  /** CPU time (user + system) of the best fit, ms. */
  fitMs: number;
  fitWallMs: number;
  /** Rows per CPU-second of the best scoring run. */
  scoreRate: number;
  scoreWallRate: number;
  auroc: number;
}

/** CPU milliseconds (user + system) of this process so far. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Runs fn up to `runs` times (at least 2, fewer once `budgetMs` of wall time is spent: the same rule as
 * baselines.py); returns the least CPU and least wall time (ms) and the last result.
 */
function timed<T>(
  runs: number,
  fn: (i: number) => T,
  budgetMs = 8000,
): { cpu: number; wall: number; last: T } {
  let cpu = Infinity;
  let wall = Infinity;
  let last: T | undefined;
  const start = performance.now();
  for (let i = 0; i < runs; i++) {
    const c0 = cpuMs();
    const w0 = performance.now();
    last = fn(i);
    wall = Math.min(wall, performance.now() - w0);
    cpu = Math.min(cpu, cpuMs() - c0);
    if (i >= 1 && performance.now() - start > budgetMs) break;
  }
  return { cpu, wall, last: last as T };
}

const configs: { name: string; extension: 'ext0' | 'full'; params: ForestParams }[] = [
  {
    name: 'ours e=0',
    extension: 'ext0',
    params: { ntrees: 100, sampleSize: 256, extensionLevel: 0, seed: 1 },
  },
  {
    name: `ours e=${d - 1} (standardised)`,
    extension: 'full',
    params: { ntrees: 100, sampleSize: 256, extensionLevel: d - 1, seed: 1 },
  },
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
  const f = timed(fitRuns, (i) => fit(x, { ...c.params, seed: i + 1 }));
  model = f.last;
  const sc = timed(scoreRuns, () => score(model, x));
  const r: Result = {
    name: c.name,
    extension: c.extension,
    fitMs: f.cpu,
    fitWallMs: f.wall,
    scoreRate: x.rows / (sc.cpu / 1000),
    scoreWallRate: x.rows / (sc.wall / 1000),
    auroc: auroc(sc.last, y),
  };
  results.push(r);
  console.log(
    `${c.name.padEnd(28)} fit ${r.fitMs.toFixed(1).padStart(7)} ms cpu   score ${Math.round(r.scoreRate)
      .toLocaleString('en-US')
      .padStart(
        9,
      )} rows/cpu-s (${Math.round(r.scoreWallRate).toLocaleString('en-US')} wall)   AUROC ${r.auroc.toFixed(4)}`,
  );
}
writeFileSync(outPath, JSON.stringify({ rows: x.rows, cols: d, node: process.version, results }, null, 2));
