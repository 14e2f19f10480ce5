// bench:nab — the Numenta Anomaly Benchmark: every series through the service's streaming detector
// (src/stream/detector.ts), NAB's result CSVs written, scored with src/stream/nab-scorer.ts in the three
// profiles and printed beside NAB's published board, with the detector's throughput per core.
// Usage: tsx nab.ts [--out DIR] [--json FILE] [--set key=value ...] [--seeds N,N,...] [--only SUBSTRING]
//   --out: where the result CSVs go (default: <os tmpdir>/skyport-bench-nab); --set overrides a
//   DetectorOptions field (e.g. --set shingle=10); --seeds runs the whole corpus once per refit seed
//   (default: the options' seed and the next two, 1,2,3) and reports the mean over them (the board) and their spread; the result CSVs are the
//   first seed's; --only scores a subset (then the score is not NAB's).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DEFAULT_DETECTOR, StreamDetector, type DetectorOptions } from '../src/stream/detector.js';
import { NAB_PROFILES, scoreDetector, type NabProfile } from '../src/stream/nab-scorer.js';
import { loadCorpus, NAB_DIR, type Series } from './nab-corpus.js';
const DETECTOR_NAME = 'skyportEif';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function overrides(): Partial<DetectorOptions> {
  const out: Record<string, number> = {};
  process.argv.forEach((a, i) => {
    if (a !== '--set') return;
    const [k, v] = (process.argv[i + 1] ?? '').split('=');
    if (!k || !(k in DEFAULT_DETECTOR) || v === undefined || !Number.isFinite(Number(v))) {
      throw new Error(`--set ${process.argv[i + 1]}: expected <DetectorOptions field>=<number>`);
    }
    out[k] = Number(v);
  });
  return out;
}

function writeResults(dir: string, s: Series, scores: Float64Array): void {
  const [category = '', file = ''] = s.name.split('/');
  const path = join(dir, DETECTOR_NAME, category, `${DETECTOR_NAME}_${file}`);
  mkdirSync(dirname(path), { recursive: true });
  const rows = ['timestamp,value,anomaly_score,label'];
  let w = 0;
  s.text.forEach((line, i) => {
    const t = s.timestamps[i]!;
    while (w < s.windows.length && t > s.windows[w]![1]) w++;
    const label = w < s.windows.length && t >= s.windows[w]![0] ? 1 : 0;
    rows.push(`${line},${scores[i]},${label}`);
  });
  writeFileSync(path, rows.join('\n') + '\n');
}

const only = arg('--only');
const outDir = arg('--out') ?? join(tmpdir(), 'skyport-bench-nab');
const options = { ...DEFAULT_DETECTOR, ...overrides() };
const seedList = arg('--seeds') ?? [0, 1, 2].map((k) => options.seed + k).join(',');
const seeds = seedList.split(',').map(Number);
if (seeds.length === 0 || !seeds.every((v) => Number.isInteger(v) && v >= 0)) {
  throw new Error(`--seeds ${seedList}: expected a comma-separated list of integers ≥ 0`);
}
const corpus = loadCorpus(only);
const records = corpus.reduce((a, s) => a + s.values.length, 0);
const profiles = Object.keys(NAB_PROFILES) as NabProfile[];

let cpuSeconds = 0;
let wall = 0;
const runs = seeds.map((seed, r) => {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const opts = { ...options, seed };
  const scores = corpus.map((s) => new StreamDetector(opts).pushMany(s.values, s.timestamps).score);
  const cpu = process.cpuUsage(cpu0);
  wall += performance.now() - wall0;
  cpuSeconds += (cpu.user + cpu.system) / 1e6;
  if (r === 0) for (let k = 0; k < corpus.length; k++) writeResults(outDir, corpus[k]!, scores[k]!);
  return { seed, results: profiles.map((p) => scoreDetector(corpus, scores, p)) };
});

const published = JSON.parse(readFileSync(join(NAB_DIR, 'results/final_results.json'), 'utf8')) as Record<
  string,
  Record<NabProfile, number>
>;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Per profile: the normalised score of each seed's run, their mean, min and max. */
const spread = profiles.map((_, p) => {
  const each = runs.map((run) => run.results[p]!.normalized);
  return { each, mean: mean(each), min: Math.min(...each), max: Math.max(...each) };
});

console.log(
  `NAB: ${corpus.length} series, ${records} records${only ? ` (subset "${only}": not NAB's score)` : ''}`,
);
const shown = Object.fromEntries(Object.entries(options).filter(([k]) => k !== 'seed'));
console.log(`Detector options: ${JSON.stringify(shown)}; refit seeds ${seeds.join(', ')}`);
console.log(`Result CSVs (seed ${seeds[0]}): ${join(outDir, DETECTOR_NAME)}`);
console.log(
  `Throughput: ${Math.round((records * seeds.length) / cpuSeconds)} records per CPU-second (${cpuSeconds.toFixed(2)} s CPU, ${(wall / 1000).toFixed(2)} s wall, one thread, ${seeds.length} pass${seeds.length > 1 ? 'es' : ''})`,
);
console.log(
  `\ndetector              standard  reward_low_FP  reward_low_FN${seeds.length > 1 ? '  (ours: mean over seeds)' : ''}`,
);
const board: [string, number[]][] = [
  [`${DETECTOR_NAME} (ours)`, spread.map((s) => s.mean)],
  ...Object.entries(published).map(([name, s]): [string, number[]] => [name, profiles.map((p) => s[p])]),
];
board.sort((a, b) => b[1][0]! - a[1][0]!);
for (const [name, s] of board) {
  console.log(`${name.padEnd(22)}${s.map((v) => v.toFixed(1).padStart(9)).join('      ')}`);
}
profiles.forEach((profile, p) => {
  const s = spread[p]!;
  console.log(
    `${profile}: mean ${s.mean.toFixed(2)}, min ${s.min.toFixed(2)}, max ${s.max.toFixed(2)} over seeds (${s.each.map((v) => v.toFixed(2)).join(', ')})`,
  );
});
for (const run of runs) {
  for (const r of run.results) {
    const tp = r.files.reduce((a, f) => a + f.tp, 0);
    const fp = r.files.reduce((a, f) => a + f.fp, 0);
    console.log(
      `seed ${run.seed} ${r.profile}: threshold ${r.threshold}, raw ${r.raw.toFixed(3)}, null ${r.nullRaw}, TP records ${tp}, FP records ${fp}`,
    );
  }
}
const jsonPath = arg('--json');
if (jsonPath) {
  writeFileSync(
    jsonPath,
    JSON.stringify(
      {
        options,
        seeds,
        records,
        cpuSeconds,
        recordsPerCpuSecond: (records * seeds.length) / cpuSeconds,
        scores: Object.fromEntries(profiles.map((p, k) => [p, spread[k]])),
        runs: runs.map((run) => ({
          seed: run.seed,
          scores: Object.fromEntries(
            run.results.map((r) => [
              r.profile,
              { normalized: r.normalized, raw: r.raw, threshold: r.threshold },
            ]),
          ),
        })),
      },
      null,
      2,
    ),
  );
}
