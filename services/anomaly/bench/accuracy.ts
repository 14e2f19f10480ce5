// Accuracy on ODDS shuttle and mammography: mean AUROC over 10 seeds at e = 0 and e = d − 1, with and
// without standardisation, against the reference EIF values (linkedin/isolation-forest README).
// Usage: tsx accuracy.ts [odds dir] [out.json] [--quick]; the odds dir defaults to the gzipped copies in
// bench/data/odds (a directory of plain `<name>.csv` files works too).

import { writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fit, score } from '../src/engine/index.js';
import { auroc, loadOdds, mean, ODDS_DIR } from './lib.js';

const [oddsDir = process.env.SKYPORT_ODDS_DIR ?? ODDS_DIR, outPath = '/dev/null'] = process.argv
  .slice(2)
  .filter((a) => !a.startsWith('--'));
const quick = process.argv.includes('--quick');
const seeds = quick ? 3 : 10;

/** Reference AUROC of sahandha/eif (100 trees, ψ 256, 10 seeds), from bench/data/odds/README.md. */
const REFERENCE: Record<string, { ext0: number; full: number }> = {
  shuttle: { ext0: 0.9975, full: 0.9932 },
  mammography: { ext0: 0.8676, full: 0.8639 },
};

interface Row {
  dataset: string;
  extension: 'ext0' | 'full';
  e: number;
  standardize: boolean;
  compat: 'exact' | 'reference';
  auroc: number;
  reference: number;
  delta: number;
}

const rows: Row[] = [];
for (const name of Object.keys(REFERENCE)) {
  const plain = join(oddsDir, `${name}.csv`);
  const ds = loadOdds(existsSync(plain) ? plain : `${plain}.gz`);
  const d = ds.x.cols;
  for (const [extension, e] of [
    ['ext0', 0],
    ['full', d - 1],
  ] as const) {
    for (const standardize of [false, true]) {
      for (const compat of ['exact', 'reference'] as const) {
        const aucs: number[] = [];
        for (let seed = 0; seed < seeds; seed++) {
          const model = fit(ds.x, {
            ntrees: 100,
            sampleSize: 256,
            extensionLevel: e,
            seed,
            standardize,
            compat,
          });
          aucs.push(auroc(score(model, ds.x), ds.y));
        }
        const reference = REFERENCE[name]![extension];
        const a = mean(aucs);
        rows.push({
          dataset: name,
          extension,
          e,
          standardize,
          compat,
          auroc: a,
          reference,
          delta: a - reference,
        });
      }
    }
  }
}
writeFileSync(outPath, JSON.stringify({ seeds, rows }, null, 2));
console.log(`Accuracy (ours): mean AUROC over ${seeds} seeds, 100 trees, psi 256`);
console.log('dataset      ext   e  standardize compat     AUROC   reference  delta    within 0.01');
for (const r of rows) {
  console.log(
    `${r.dataset.padEnd(12)} ${r.extension.padEnd(5)} ${String(r.e).padStart(1)}  ${String(r.standardize).padEnd(11)} ${r.compat.padEnd(9)}  ${r.auroc.toFixed(4)}  ${r.reference.toFixed(4)}     ${(r.delta >= 0 ? '+' : '') + r.delta.toFixed(4)}  ${Math.abs(r.delta) <= 0.01 ? 'yes' : 'NO'}`,
  );
}
