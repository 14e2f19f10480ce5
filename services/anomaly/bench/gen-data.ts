// Writes the shared speed-benchmark data once (100k × 10 N(0,1) + 1% uniform[−6, 6] anomalies), so
// Node and Python read byte-identical inputs. Usage: tsx gen-data.ts <base path> [rows] [cols]

import { plantedGaussian } from '../src/engine/index.js';
import { writeShared } from './lib.js';

const [base, rowsArg = '100000', colsArg = '10'] = process.argv.slice(2);
if (!base) throw new Error('usage: gen-data.ts <base path> [rows] [cols]');
const data = plantedGaussian(Number(rowsArg), Number(colsArg), { fraction: 0.01, spread: 6, seed: 2026 });
writeShared(base, data);
console.log(`Wrote ${data.x.rows} × ${data.x.cols} rows to ${base}.f64 (+ .y labels, .json shape)`);
